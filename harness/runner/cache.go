package runner

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// Cache stores finished trials by cache key, one JSON file each, written atomically; a re-run or
// an interrupted run finds them and skips those trials. A zero Dir disables caching.
type Cache struct {
	Dir string
}

func (c Cache) path(key string) string {
	return filepath.Join(c.Dir, key[:2], key+".json")
}

// Get returns the cached result for key, or nil when there is none (or it cannot be read: a
// damaged entry is treated as absent and rewritten later).
func (c Cache) Get(key string) *TrialResult {
	if c.Dir == "" || len(key) < 2 {
		return nil
	}
	r, err := ReadResult(c.path(key))
	if err != nil || r.Key != key || r.Failed() {
		return nil
	}
	return r
}

// Put stores a successful result; failed trials are not cached.
func (c Cache) Put(r *TrialResult) error {
	if c.Dir == "" || r.Failed() || len(r.Key) < 2 {
		return nil
	}
	return WriteResult(c.path(r.Key), r)
}

// Clear removes every cached trial.
func (c Cache) Clear() error {
	if c.Dir == "" {
		return nil
	}
	err := os.RemoveAll(c.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
