package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/etchlab/etch/data"
)

// LoadDataset loads the projected columns of a flows file with data.Load; it is the one place the
// runner reads datasets.
func LoadDataset(ctx context.Context, path string, opts data.LoadOptions) (*data.Dataset, error) {
	return data.Load(ctx, path, opts)
}

// FileHash returns the hex SHA-256 of a file's content: the dataset content hash that trial
// cache keys and reports use.
func FileHash(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// OtherClass names the class that LoadOptions.Other gives the rows of dropped classes.
const OtherClass = "other"
