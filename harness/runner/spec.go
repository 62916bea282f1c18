package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/etchlab/etch/harness/config"
	"github.com/etchlab/etch/harness/report"
)

// SpecVersion is the version of the TrialSpec and TrialResult file formats.
const SpecVersion = 1

// ErrSpec reports a trial spec or result file that cannot be used.
var ErrSpec = errors.New("bad trial file")

// TrialSpec is one trial, self-contained and serialisable: what an executor hands to a worker,
// in this process or in another one (`etch trial run SPEC`), on this machine or another.
type TrialSpec struct {
	Version    int    `json:"version"`
	ID         string `json:"id"`
	Experiment string `json:"experiment"`
	// Point is the sweep point (0-based), Repeat the repeat number.
	Point  int `json:"point"`
	Repeat int `json:"repeat"`
	// SweepKeys and Params give the swept keys (in order) and this trial's values.
	SweepKeys []string       `json:"sweep_keys,omitempty"`
	Params    map[string]any `json:"params"`
	// Config is the experiment resolved for this trial (sweep values applied, no sweep).
	Config *config.Experiment `json:"config"`
	// Dataset is the file to load (absolute) and its content hash; a worker refuses a file whose
	// content changed.
	Dataset DatasetRef `json:"dataset"`
	// Seed is the trial seed, derived from the experiment seed and the repeat.
	Seed uint64 `json:"seed"`
	// Backend is the requested backend (auto, cpu, cuda).
	Backend string `json:"backend"`
	// BackendNote, when set, is the reason a worker reports for running on the CPU: the planning
	// process found no usable GPU (see Options.CUDAWorker).
	BackendNote string `json:"backend_note,omitempty"`
	// Threads is how many threads the trial's models may use.
	Threads int `json:"threads"`
	// EtchVersion is the version of the binary that planned the trial.
	EtchVersion string `json:"etch_version"`
	// Key is the cache key: a hash of what determines the result.
	Key string `json:"key"`
	// Result is where a worker process writes the TrialResult (atomically).
	Result string `json:"result,omitempty"`
	// ModelDir, when set, is where the trial saves each model fitted on its first fold as
	// NAME.etchm (package harness/model/saved), for etch classify. Not part of the cache key.
	ModelDir string `json:"model_dir,omitempty"`
}

// DatasetRef names a dataset file and its content.
type DatasetRef struct {
	// Path is the path as the config gives it (reports show it); Abs the resolved path.
	Path string `json:"path"`
	Abs  string `json:"abs"`
	Hash string `json:"hash"`
}

// TrialResult is a finished (or failed) trial: the report's view of it and the backend used.
type TrialResult struct {
	Version int            `json:"version"`
	Key     string         `json:"key"`
	Trial   report.Trial   `json:"trial"`
	Backend report.Backend `json:"backend"`
	// Hardware is the machine the trial ran on (a worker process's, a cluster node's); nil in
	// results written before it was recorded.
	Hardware *report.Hardware `json:"hardware,omitempty"`
	// Seconds is the trial's wall time.
	Seconds float64 `json:"seconds"`
}

// Failed reports whether the trial ended in an error.
func (r *TrialResult) Failed() bool { return r.Trial.Error != "" }

// cacheKey hashes what determines a trial's result: the etch version, the dataset content, the
// resolved data, split and model settings, the trial seed and the backend. Names, paths, the
// executor and the sweep layout are left out, so an identical trial of another experiment, or of
// a renamed one, is found too.
func cacheKey(version, datasetHash string, c *config.Experiment, seed uint64) string {
	d := c.Data
	d.Path = ""
	return config.HashValue(map[string]any{
		"etch": version, "dataset": datasetHash, "data": d, "split": c.Split,
		"models": c.Models, "seed": seed, "backend": c.Backend,
	})
}

// WriteSpec writes s as JSON to path atomically.
func WriteSpec(path string, s *TrialSpec) error {
	return writeJSON(path, s)
}

// ReadSpec reads a trial spec file.
func ReadSpec(path string) (*TrialSpec, error) {
	var s TrialSpec
	if err := readJSON(path, &s); err != nil {
		return nil, err
	}
	if s.Version != SpecVersion || s.Config == nil || s.ID == "" {
		return nil, fmt.Errorf("%w: %s: version %d (want %d), id %q", ErrSpec, path, s.Version, SpecVersion, s.ID)
	}
	s.Config.Defaults()
	if err := s.Config.Validate(nil); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrSpec, path, err)
	}
	return &s, nil
}

// WriteResult writes r as JSON to path atomically.
func WriteResult(path string, r *TrialResult) error {
	return writeJSON(path, r)
}

// ReadResult reads a trial result file.
func ReadResult(path string) (*TrialResult, error) {
	var r TrialResult
	if err := readJSON(path, &r); err != nil {
		return nil, err
	}
	if r.Version != SpecVersion {
		return nil, fmt.Errorf("%w: %s: version %d, want %d", ErrSpec, path, r.Version, SpecVersion)
	}
	return &r, nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", filepath.Base(path), err)
	}
	return report.WriteFileAtomic(path, append(b, '\n'))
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrSpec, path, err)
	}
	return nil
}
