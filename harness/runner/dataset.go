package runner

import (
	"context"

	"github.com/etchlab/etch/data"
)

// LoadDataset loads the projected columns of a flows file with data.Load; it is the one place the
// runner reads datasets.
func LoadDataset(ctx context.Context, path string, opts data.LoadOptions) (*data.Dataset, error) {
	return data.Load(ctx, path, opts)
}

// OtherClass names the class that LoadOptions.Other gives the rows of dropped classes.
const OtherClass = "other"
