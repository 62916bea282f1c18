package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/etchlab/etch/harness/eval"
	"github.com/etchlab/etch/harness/model"
)

// ResultsFile is the name of the results document inside a run directory.
const ResultsFile = "results.json"

// Results is everything a run produced: the results.json document a report is rendered from.
type Results struct {
	Experiment  string `json:"experiment"`
	RunID       string `json:"run_id"`
	Description string `json:"description,omitempty"`
	EtchVersion string `json:"etch_version"`
	// Command is the exact command line that re-runs the experiment.
	Command string `json:"command"`
	// Config is the resolved experiment (YAML), ConfigHash its canonical hash.
	Config     string   `json:"config"`
	ConfigHash string   `json:"config_hash"`
	Seed       uint64   `json:"seed"`
	Backend    Backend  `json:"backend"`
	Hardware   Hardware `json:"hardware"`
	// SweepKeys are the dotted keys the sweep varies, in config order.
	SweepKeys []string `json:"sweep_keys,omitempty"`
	// Models lists the experiment's models in config order.
	Models []ModelSpec `json:"model_specs"`
	Trials []Trial     `json:"trials"`
	// Reference, when set, holds published figures the report sets beside etch's.
	Reference *Reference `json:"reference,omitempty"`
	Timing    Timing     `json:"timing"`
}

// Backend says which compute backend ran and why.
type Backend struct {
	Requested   string `json:"requested"`
	Used        string `json:"used"`
	Description string `json:"description,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// Hardware describes the machine.
type Hardware struct {
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	CPU       string `json:"cpu,omitempty"`
	Cores     int    `json:"cores"`
	GPU       string `json:"gpu,omitempty"`
	GoVersion string `json:"go_version"`
}

// ModelSpec names one model of the experiment.
type ModelSpec struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Trial is one point of the sweep (one repeat).
type Trial struct {
	ID string `json:"id"`
	// Params maps each swept dotted key to its value in this trial.
	Params  map[string]any          `json:"params"`
	Repeat  int                     `json:"repeat"`
	Seed    uint64                  `json:"seed"`
	Dataset Dataset                 `json:"dataset"`
	Split   Split                   `json:"split"`
	Models  map[string]*ModelResult `json:"models"`
	McNemar []eval.McNemarResult    `json:"mcnemar,omitempty"`
	// Error is set when the trial failed; LogTail then holds the end of its log.
	Error   string `json:"error,omitempty"`
	LogTail string `json:"log_tail,omitempty"`
}

// Dataset describes the data a trial trained and tested on.
type Dataset struct {
	Path        string       `json:"path"`
	Hash        string       `json:"hash"`
	Source      string       `json:"source,omitempty"`
	Rows        int          `json:"rows"`
	Label       string       `json:"label"`
	Features    []string     `json:"features"`
	TabFeatures int          `json:"tab_features"`
	SeqLen      int          `json:"seq_len,omitempty"`
	SeqChannels []string     `json:"seq_channels,omitempty"`
	Filter      string       `json:"filter,omitempty"`
	Scale       string       `json:"scale,omitempty"`
	Classes     []ClassCount `json:"classes"`
}

// ClassCount is one class and its number of flows.
type ClassCount struct {
	Label string `json:"label"`
	Count int    `json:"count"`
}

// Split describes how a trial's rows were divided.
type Split struct {
	Kind    string  `json:"kind"`
	Test    float64 `json:"test,omitempty"`
	Val     float64 `json:"val,omitempty"`
	K       int     `json:"k,omitempty"`
	GroupBy string  `json:"group_by,omitempty"`
	// Train, ValN and TestN are row counts (summed over folds for k-fold: every row is tested once).
	Train int `json:"train"`
	ValN  int `json:"val_rows"`
	TestN int `json:"test_rows"`
	// Leaks counts test rows whose features duplicate a training row.
	Leaks int `json:"leaks"`
}

// ModelResult is one model's evaluation in one trial. Metrics are computed on all test
// predictions (out-of-fold for k-fold).
type ModelResult struct {
	Type string `json:"type"`
	eval.Metrics
	FitSeconds     float64 `json:"fit_seconds"`
	PredictSeconds float64 `json:"predict_seconds"`
	// PredictPerSecond is prediction throughput in flows per second.
	PredictPerSecond float64 `json:"predict_flows_per_second"`
	Backend          string  `json:"backend"`
	// FoldAccuracy holds each fold's accuracy (k-fold only).
	FoldAccuracy []float64 `json:"fold_accuracy,omitempty"`
	// Curve is the training curve of the first fold (neural models).
	Curve []model.Epoch `json:"curve,omitempty"`
}

// Reference is a table of published results.
type Reference struct {
	Source string         `json:"source"`
	Note   string         `json:"note,omitempty"`
	Rows   []ReferenceRow `json:"rows"`
}

// ReferenceRow is one published model result.
type ReferenceRow struct {
	Model    string  `json:"model"`
	Setting  string  `json:"setting,omitempty"`
	Accuracy float64 `json:"accuracy"`
	MacroF1  float64 `json:"f1,omitempty"`
}

// Timing holds the non-reproducible wall-clock facts of a run.
type Timing struct {
	Started     string  `json:"started"`
	Finished    string  `json:"finished"`
	WallSeconds float64 `json:"wall_seconds"`
	// CachedTrials counts trials taken from the cache rather than run.
	CachedTrials int `json:"cached_trials"`
}

// Load reads a run directory's results.json.
func Load(dir string) (*Results, error) {
	path := filepath.Join(dir, ResultsFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return &r, nil
}

// Save writes res to dir/results.json atomically.
func Save(dir string, res *Results) error {
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	return WriteFileAtomic(filepath.Join(dir, ResultsFile), append(b, '\n'))
}

// WriteFileAtomic writes b to a temporary file beside path and renames it into place.
func WriteFileAtomic(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
