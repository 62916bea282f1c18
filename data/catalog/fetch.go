package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/etchlab/etch/data"
)

// ErrChecksum reports a download whose SHA-256 differs from the recorded one.
var ErrChecksum = errors.New("SHA-256 mismatch")

// ErrUnverified reports a file with no recorded SHA-256 when unverified downloads are not allowed.
var ErrUnverified = errors.New("no recorded SHA-256 (use --allow-unverified to download and pin it)")

// Fetcher downloads catalogue entries into Dir/<entry name>/.
type Fetcher struct {
	// Client does the requests (http.DefaultClient when nil).
	Client *http.Client
	// Dir is the cache directory.
	Dir string
	// AllowUnverified permits files without a recorded SHA-256; the first download's hash is
	// pinned in a .sha256 file next to it and later fetches are checked against that.
	AllowUnverified bool
	// Log receives progress messages (nil discards).
	Log *slog.Logger
}

// DefaultDir returns the default cache directory: $ETCH_DATA_DIR, else <user cache>/etch/datasets.
func DefaultDir() (string, error) {
	if d := os.Getenv("ETCH_DATA_DIR"); d != "" {
		return d, nil
	}
	c, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory (set ETCH_DATA_DIR or use -o): %w", err)
	}
	return filepath.Join(c, "etch", "datasets"), nil
}

// Fetch downloads every file of e that is not already cached and verified, and returns the
// local paths. Partial downloads are resumed with HTTP Range requests; a file is renamed into
// place only after its checksum verifies.
func (f *Fetcher) Fetch(ctx context.Context, e Entry) ([]string, error) {
	if len(e.Files) == 0 {
		return nil, fmt.Errorf("%s: %w: %s", e.Name, ErrNoDownload, e.Notes)
	}
	var paths []string
	for _, file := range e.Files {
		dst := filepath.Join(f.Dir, e.Name, filepath.FromSlash(file.Name))
		if err := f.fetchFile(ctx, file, dst); err != nil {
			return paths, fmt.Errorf("fetch %s: %s: %w", e.Name, file.Name, err)
		}
		paths = append(paths, dst)
	}
	return paths, nil
}

func (f *Fetcher) log() *slog.Logger {
	if f.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return f.Log
}

// want returns the SHA-256 a file must have: the catalogue's, else a pinned one, else "".
func want(file File, dst string) string {
	if file.SHA256 != "" {
		return strings.ToLower(file.SHA256)
	}
	b, err := os.ReadFile(dst + ".sha256")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func (f *Fetcher) fetchFile(ctx context.Context, file File, dst string) error {
	sum := want(file, dst)
	if sum == "" && !f.AllowUnverified {
		return ErrUnverified
	}
	if _, err := os.Stat(dst); err == nil {
		got, err := data.FileSHA256(dst)
		if err != nil {
			return err
		}
		if sum == "" || got == sum {
			f.log().Info("cached", "file", dst, "sha256", got)
			if sum == "" {
				return os.WriteFile(dst+".sha256", []byte(got+"\n"), 0o644)
			}
			return nil
		}
		f.log().Warn("cached file has the wrong SHA-256; downloading again", "file", dst)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	part := dst + ".part"
	got, err := f.download(ctx, file.URL, part, file.Size)
	if err != nil {
		return err
	}
	if sum != "" && got != sum {
		os.Remove(part)
		return fmt.Errorf("%w: got %s, want %s", ErrChecksum, got, sum)
	}
	if err := os.Rename(part, dst); err != nil {
		return err
	}
	if sum == "" {
		f.log().Warn("no recorded SHA-256; pinned the downloaded file's", "file", dst, "sha256", got)
		return os.WriteFile(dst+".sha256", []byte(got+"\n"), 0o644)
	}
	f.log().Info("downloaded and verified", "file", dst, "sha256", got)
	return nil
}

// download fetches url into part, resuming from part's current size when the server honours
// Range, and returns the SHA-256 of the complete file.
func (f *Fetcher) download(ctx context.Context, url, part string, size int64) (string, error) {
	client := f.Client
	if client == nil {
		client = http.DefaultClient
	}
	h := sha256.New()
	var have int64
	if st, err := os.Stat(part); err == nil {
		have = st.Size()
	}
	if size > 0 && have > size {
		have = 0 // not a prefix of this file
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	if have > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", have))
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	flags := os.O_CREATE | os.O_WRONLY
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0:
		var start int64
		if _, err := fmt.Sscanf(resp.Header.Get("Content-Range"), "bytes %d-", &start); err != nil || start != have {
			return "", fmt.Errorf("GET %s: bad Content-Range %q for a resume at %d", url, resp.Header.Get("Content-Range"), have)
		}
		if err := hashPrefix(h, part, have); err != nil {
			return "", err
		}
		flags |= os.O_APPEND
		f.log().Info("resuming", "url", url, "at", have)
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && have > 0:
		// The partial file may already be complete; verify it as is.
		if err := hashPrefix(h, part, have); err != nil {
			return "", err
		}
		return hex.EncodeToString(h.Sum(nil)), nil
	case resp.StatusCode == http.StatusOK:
		flags |= os.O_TRUNC
		have = 0
	default:
		return "", fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	out, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		return "", err
	}
	n, err := io.Copy(io.MultiWriter(out, h), resp.Body)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		// Keep the partial file: the next fetch resumes from it.
		return "", fmt.Errorf("GET %s: interrupted after %d bytes (run again to resume): %w", url, have+n, err)
	}
	if size > 0 && have+n != size {
		os.Remove(part)
		return "", fmt.Errorf("GET %s: got %d bytes, want %d", url, have+n, size)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashPrefix(h hash.Hash, path string, n int64) error {
	r, err := os.Open(path)
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = io.CopyN(h, r, n)
	return err
}
