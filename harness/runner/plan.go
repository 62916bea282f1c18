package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/etchlab/etch/harness/config"
	"github.com/etchlab/etch/harness/report"
)

// PlanFile is the name of the plan a run writes into its directory before any trial runs: the
// resolved experiment and every trial spec, so that the results of trials run elsewhere (worker
// processes, cluster jobs) can be collected into a report later (Collect, `etch report`).
const PlanFile = "plan.json"

// RunPlan is the content of PlanFile.
type RunPlan struct {
	Version     int                `json:"version"`
	EtchVersion string             `json:"etch_version"`
	Command     string             `json:"command"`
	Experiment  *config.Experiment `json:"experiment"`
	Trials      []*TrialSpec       `json:"trials"`
	// Cache is the trial cache directory the run used ("" when off).
	Cache string `json:"cache,omitempty"`
}

func writePlan(dir string, p *RunPlan) error {
	return writeJSON(filepath.Join(dir, PlanFile), p)
}

// Collect builds the results of a run directory from its plan and whatever trials have finished:
// results in the trial cache or in the directory's trials/<id>.result.json files. Trials without
// a result are reported as failed with "no result yet", so a report can be rendered while a
// cluster run is still going, or after some of its tasks died.
func Collect(dir string, log *slog.Logger) (*report.Results, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var p RunPlan
	if err := readJSON(filepath.Join(dir, PlanFile), &p); err != nil {
		return nil, err
	}
	if p.Version != SpecVersion || p.Experiment == nil {
		return nil, fmt.Errorf("%w: %s: plan version %d", ErrSpec, filepath.Join(dir, PlanFile), p.Version)
	}
	p.Experiment.Defaults()
	cache := Cache{Dir: p.Cache}
	results := map[string]*TrialResult{}
	cached := 0
	for _, s := range p.Trials {
		if r := cache.Get(s.Key); r != nil {
			results[s.ID] = r
			cached++
			continue
		}
		r, err := ReadResult(filepath.Join(dir, "trials", s.ID+".result.json"))
		switch {
		case err == nil:
			results[s.ID] = r
		case errors.Is(err, fs.ErrNotExist):
			r := &TrialResult{Version: SpecVersion, Key: s.Key}
			r.Trial.Error = "no result yet (trial not finished, or its task died without writing one)"
			if tail, err := readTail(filepath.Join(dir, "trials", s.ID+".log")); err == nil {
				r.Trial.LogTail = tail
			}
			results[s.ID] = r
		default:
			return nil, err
		}
	}
	opts := Options{Version: p.EtchVersion, Command: p.Command}
	now := time.Now()
	return assemble(p.Experiment, p.Trials, results, opts, RunID(p.Experiment, p.Trials, p.EtchVersion), now, cached, log), nil
}
