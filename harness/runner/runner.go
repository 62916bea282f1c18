package runner

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/etchlab/etch/data"
	"github.com/etchlab/etch/harness/config"
	"github.com/etchlab/etch/harness/model"
	"github.com/etchlab/etch/harness/report"
	"github.com/etchlab/etch/kernels/probe"
)

// ErrNoExecutor reports an executor kind this binary cannot run.
var ErrNoExecutor = errors.New("unknown executor")

// ExecutorEnv is what an executor factory gets to build an executor for one run.
type ExecutorEnv struct {
	Experiment *config.Experiment
	// RunDir is the run directory (executors that write files use RunDir/trials).
	RunDir string
	// Jobs is how many trials may run at once, Threads how many threads each may use.
	Jobs, Threads int
	// Worker runs trials in this process.
	Worker *Worker
	// Started must be called as each trial starts, Unit with training progress (progress display).
	Started func(*TrialSpec)
	Unit    func(trial, model string, done, total int, unit string)
	// WorkerCommand is the command line of a worker process before the spec path (nil: this
	// executable's `trial run`).
	WorkerCommand []string
	Log           *slog.Logger
}

// ExecutorFactory builds an executor for a run.
type ExecutorFactory func(env ExecutorEnv) (Executor, error)

// DefaultExecutors returns the executors every build has: local (worker pool in this process)
// and process (one `etch trial run` process per trial). Other executors (Slurm) are added to
// the map by the command that offers them.
func DefaultExecutors() map[string]ExecutorFactory {
	return map[string]ExecutorFactory{
		"local": func(env ExecutorEnv) (Executor, error) {
			return &Local{Worker: env.Worker, Jobs: env.Jobs, Started: env.Started}, nil
		},
		"process": func(env ExecutorEnv) (Executor, error) {
			return &Process{Command: env.WorkerCommand, Dir: filepath.Join(env.RunDir, "trials"), Jobs: env.Jobs,
				Started: env.Started, Unit: env.Unit}, nil
		},
	}
}

// Options configure a run.
type Options struct {
	// Version is the etch version, recorded in reports and part of every cache key.
	Version string
	// WorkDir resolves relative data paths and holds reports/ ("" : the working directory).
	WorkDir string
	// OutDir is the run directory ("": WorkDir/reports/<experiment>/<run-id>).
	OutDir string
	// CacheDir holds finished trials ("": WorkDir/reports/.cache; "off": no cache).
	CacheDir string
	// Executor names the executor ("": the experiment's executor.kind); Executors maps names
	// to factories (nil: DefaultExecutors()).
	Executor  string
	Executors map[string]ExecutorFactory
	// Jobs and Threads override the experiment's executor.jobs and executor.threads.
	Jobs, Threads int
	// Cores bounds Jobs × Threads (0: runtime.NumCPU()).
	Cores int
	// Registry builds models (nil: an error for the first model).
	Registry model.Registry
	// Progress displays progress (nil: none); Log receives log records (nil: none).
	Progress Progress
	Log      *slog.Logger
	// Command is the command line that re-runs the experiment, shown in the report.
	Command string
	// WorkerCommand is passed to executors that start worker processes.
	WorkerCommand []string
	// OpenBackend overrides backend selection (tests; nil: OpenBackend).
	OpenBackend func(ctx context.Context, requested string, threads int) (any, report.Backend, error)
	// CUDAWorker is the CUDA build of etch that a default build probes for a GPU and runs GPU
	// trials in ("": probe.FindWorker(); NoCUDAWorker: no probe). ProbeGPU replaces the probe
	// (tests; nil: probe.Run).
	CUDAWorker string
	ProbeGPU   func(ctx context.Context, worker string) (*probe.Report, error)
}

// Outcome is what a run produced.
type Outcome struct {
	Dir     string
	Results *report.Results
	// Ran counts trials run now, Cached trials taken from the cache, Failed trials that failed.
	Ran, Cached, Failed int
}

// Plan expands an experiment into trial specs: every sweep point times every repeat, in grid
// order with repeats innermost. Dataset files are hashed here (their content is part of each
// trial's cache key).
func Plan(exp *config.Experiment, opts Options) ([]*TrialSpec, error) {
	points, err := exp.Expand()
	if err != nil {
		return nil, err
	}
	hashes := map[string]string{}
	var specs []*TrialSpec
	for _, p := range points {
		abs := p.Config.Data.Path
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(workDir(opts), abs)
		}
		h, ok := hashes[abs]
		if !ok {
			h, err = data.FileSHA256(abs)
			if err != nil {
				return nil, fmt.Errorf("dataset %s: %w", p.Config.Data.Path, err)
			}
			hashes[abs] = h
		}
		for r := range exp.Repeats {
			seed := DeriveSeed(exp.Seed, "repeat", r)
			specs = append(specs, &TrialSpec{
				Version: SpecVersion, ID: fmt.Sprintf("t%dr%d", p.Index+1, r), Experiment: exp.Name,
				Point: p.Index, Repeat: r, SweepKeys: exp.Sweep.Keys(), Params: p.Params, Config: p.Config,
				Dataset: DatasetRef{Path: p.Config.Data.Path, Abs: abs, Hash: h}, Seed: seed,
				Backend: p.Config.Backend, EtchVersion: opts.Version,
				Key: cacheKey(opts.Version, h, p.Config, seed),
			})
		}
	}
	return specs, nil
}

func workDir(opts Options) string {
	if opts.WorkDir != "" {
		return opts.WorkDir
	}
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	return wd
}

// RunID names a run directory: a short hash of the experiment, its datasets and the etch version,
// so that re-running an unchanged experiment re-renders the same run.
func RunID(exp *config.Experiment, specs []*TrialSpec, version string) string {
	var hs []string
	for _, s := range specs {
		hs = append(hs, s.Dataset.Hash)
	}
	return config.HashValue([]any{exp.Hash(), hs, version})[:12]
}

// Run plans the experiment, takes finished trials from the cache, runs the rest on the
// executor, and writes results.json, report.md, confusion CSVs and figures into the run
// directory. On cancellation it stops the running trials and returns ctx's error; finished
// trials stay cached, so running again resumes.
func Run(ctx context.Context, exp *config.Experiment, opts Options) (*Outcome, error) {
	started := time.Now()
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	prog := opts.Progress
	if prog == nil {
		prog = noProgress{}
	}
	specs, err := Plan(exp, opts)
	if err != nil {
		return nil, err
	}
	out := &Outcome{Dir: opts.OutDir}
	if out.Dir == "" {
		out.Dir = filepath.Join(workDir(opts), "reports", exp.Name, RunID(exp, specs, opts.Version))
	}
	cache := Cache{Dir: opts.CacheDir}
	switch opts.CacheDir {
	case "":
		cache.Dir = filepath.Join(workDir(opts), "reports", ".cache")
	case "off":
		cache.Dir = ""
	default:
		if abs, err := filepath.Abs(cache.Dir); err == nil {
			cache.Dir = abs
		}
	}

	results := make(map[string]*TrialResult, len(specs))
	var pending, onCPU []*TrialSpec
	for _, s := range specs {
		if r := cache.Get(s.Key); r != nil {
			results[s.ID] = r
			out.Cached++
			if s.Backend == "auto" && r.Backend.Used == "cpu" {
				onCPU = append(onCPU, s)
			}
			continue
		}
		pending = append(pending, s)
	}
	kind := opts.Executor
	if kind == "" {
		kind = exp.Executor.Kind
	}
	route, err := routeGPU(ctx, exp, opts, kind, len(pending)+len(onCPU), log)
	if err != nil {
		return nil, err
	}
	if route.worker != nil && len(onCPU) > 0 {
		// backend auto: results cached by a machine without a usable GPU are not this machine's
		// result; run them again on the GPU.
		log.Info("GPU found; cached CPU results of backend auto run again", "trials", len(onCPU))
		for _, s := range onCPU {
			delete(results, s.ID)
			out.Cached--
		}
		pending = append(pending, onCPU...)
	}
	if route.worker != nil {
		// One GPU: one trial at a time, with every core for its CPU-side work.
		kind, opts.WorkerCommand = "process", route.worker
		if opts.Jobs == 0 && exp.Executor.Jobs == 0 {
			opts.Jobs = 1
		}
	}
	jobs, threads := parallelism(exp, opts, len(pending), log)
	for _, s := range pending {
		s.Threads = threads
		s.BackendNote = route.note
		s.ModelDir = filepath.Join(out.Dir, ModelsDir, s.ID)
	}
	factories := opts.Executors
	if factories == nil {
		factories = DefaultExecutors()
	}
	factory, ok := factories[kind]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrNoExecutor, kind)
	}
	if kind == "local" && len(pending) > 0 && exp.Backend == "cuda" {
		// An explicit device that this process cannot use fails the run before any trial starts
		// (other executors run trials in other binaries or on other machines, which decide there).
		open := opts.OpenBackend
		if open == nil {
			open = OpenBackend
		}
		if _, _, err := open(ctx, exp.Backend, 1); err != nil {
			return nil, err
		}
	}
	worker := &Worker{Registry: opts.Registry, Log: log, Progress: prog.Unit, OpenBackend: opts.OpenBackend}
	ex, err := factory(ExecutorEnv{Experiment: exp, RunDir: out.Dir, Jobs: jobs, Threads: threads, Worker: worker,
		Started: func(s *TrialSpec) { prog.TrialStarted(s.ID) }, Unit: prog.Unit, WorkerCommand: opts.WorkerCommand, Log: log})
	if err != nil {
		return nil, fmt.Errorf("executor %s: %w", kind, err)
	}
	log.Info("run", "experiment", exp.Name, "trials", len(specs), "cached", out.Cached, "executor", ex.Name(), "jobs", jobs, "threads", threads, "dir", out.Dir)
	if err := writePlan(out.Dir, &RunPlan{Version: SpecVersion, EtchVersion: opts.Version, Command: opts.Command,
		Experiment: exp, Trials: specs, Cache: cache.Dir}); err != nil {
		return nil, err
	}
	prog.Begin(len(specs), out.Cached)
	var mu sync.Mutex
	var cacheErr error
	runErr := ex.Run(ctx, pending, func(r *TrialResult) {
		if err := cache.Put(r); err != nil {
			mu.Lock()
			cacheErr = errors.Join(cacheErr, err)
			mu.Unlock()
		}
		mu.Lock()
		results[r.Trial.ID] = r
		out.Ran++
		if r.Failed() {
			out.Failed++
		}
		mu.Unlock()
		prog.TrialDone(r)
	})
	prog.End()
	if runErr != nil {
		return out, runErr
	}
	if cacheErr != nil {
		log.Warn("trial cache", "err", cacheErr)
	}
	out.Results = assemble(exp, specs, results, opts, RunID(exp, specs, opts.Version), started, out.Cached, log)
	if err := os.MkdirAll(out.Dir, 0o755); err != nil {
		return out, err
	}
	if err := report.Save(out.Dir, out.Results); err != nil {
		return out, err
	}
	if err := report.Render(out.Dir, out.Results); err != nil {
		return out, fmt.Errorf("render report: %w", err)
	}
	return out, nil
}

// parallelism chooses how many trials run at once and how many threads each gets, keeping
// jobs × threads within the cores.
func parallelism(exp *config.Experiment, opts Options, pending int, log *slog.Logger) (jobs, threads int) {
	cores := opts.Cores
	if cores <= 0 {
		cores = runtime.NumCPU()
	}
	jobs, threads = opts.Jobs, opts.Threads
	if jobs == 0 {
		jobs = exp.Executor.Jobs
	}
	if threads == 0 {
		threads = exp.Executor.Threads
	}
	switch {
	case jobs == 0 && threads == 0:
		jobs = max(1, min(pending, cores))
		threads = max(1, cores/jobs)
	case jobs == 0:
		threads = min(threads, cores)
		jobs = max(1, min(pending, cores/threads))
	case threads == 0:
		jobs = min(jobs, cores)
		threads = max(1, cores/jobs)
	}
	if jobs > cores {
		log.Warn("more jobs than cores; limiting", "jobs", jobs, "cores", cores)
		jobs = cores
	}
	if jobs*threads > cores {
		t := max(1, cores/jobs)
		log.Warn("jobs × threads exceeds the cores; limiting threads", "jobs", jobs, "threads", threads, "cores", cores, "now", t)
		threads = t
	}
	return jobs, threads
}

// assemble builds the results document from the trial results, in plan order.
func assemble(exp *config.Experiment, specs []*TrialSpec, results map[string]*TrialResult, opts Options, runID string,
	started time.Time, cached int, log *slog.Logger) *report.Results {
	res := &report.Results{
		Experiment: exp.Name, RunID: runID, Description: exp.Description, EtchVersion: opts.Version,
		Command: opts.Command, Config: exp.YAML(), ConfigHash: exp.Hash(), Seed: exp.Seed,
		Backend: report.Backend{Requested: exp.Backend}, SweepKeys: exp.Sweep.Keys(),
	}
	for _, m := range exp.Models {
		res.Models = append(res.Models, report.ModelSpec{Name: m.Name, Type: m.Type})
	}
	var hw *report.Hardware
	for _, s := range specs {
		r := results[s.ID]
		if r == nil {
			continue
		}
		t := r.Trial
		// A cached result may come from an identical trial of another experiment: names are ours.
		t.ID, t.Params, t.Repeat, t.Seed = s.ID, s.Params, s.Repeat, s.Seed
		t.Dataset.Path = s.Dataset.Path
		if t.Params == nil {
			t.Params = map[string]any{}
		}
		res.Trials = append(res.Trials, t)
		if r.Hardware != nil {
			// The machine that computed the results, not the one rendering them (a cluster's
			// login node, a merge job): the first trial's, as for the backend.
			if hw == nil {
				hw = r.Hardware
			} else if *r.Hardware != *hw {
				log.Info("trials ran on different hardware; the report names the first trial's", "trial", s.ID, "hardware", *r.Hardware)
			}
		}
		if res.Backend.Used == "" && r.Backend.Used != "" {
			res.Backend.Used, res.Backend.Description, res.Backend.Reason = r.Backend.Used, r.Backend.Description, r.Backend.Reason
			if r.Backend.Used != "cpu" {
				res.Hardware.GPU = r.Backend.Description
			}
		}
	}
	if hw == nil { // results written before trials recorded their machine, or none at all
		h := hardware()
		hw = &h
	}
	gpu := res.Hardware.GPU
	res.Hardware = *hw
	res.Hardware.GPU = gpu
	if exp.Reference != "" {
		res.Reference = reference(exp, res, opts, log)
	}
	finished := time.Now()
	res.Timing = report.Timing{Started: started.UTC().Format(time.RFC3339), Finished: finished.UTC().Format(time.RFC3339),
		WallSeconds: finished.Sub(started).Seconds(), CachedTrials: cached}
	return res
}

// reference loads published results to set beside a run on the study's own data (a GCseq or
// GCstats import); on other data the comparison would mislead, so it is left out.
func reference(exp *config.Experiment, res *report.Results, opts Options, log *slog.Logger) *report.Reference {
	gc := false
	for _, t := range res.Trials {
		if strings.HasPrefix(t.Dataset.Source, "import:gc") {
			gc = true
		}
	}
	if !gc {
		log.Info("reference results left out: the dataset is not a GCseq/GCstats import", "reference", exp.Reference)
		return nil
	}
	dir := exp.Reference
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(workDir(opts), dir)
	}
	ref, err := LoadReference(filepath.Join(dir, "final_results.csv"))
	if err != nil {
		log.Warn("reference results", "err", err)
		return nil
	}
	return ref
}

// LoadReference reads a published results table with columns model, min connections,
// accuracy, precision, recall, f1_score (the reference study's final_results.csv).
func LoadReference(path string) (*report.Reference, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(bufio.NewReader(f)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(rows) < 2 || len(rows[0]) < 6 || rows[0][0] != "model" {
		return nil, fmt.Errorf("read %s: want a header model,min connections,accuracy,precision,recall,f1_score", path)
	}
	ref := &report.Reference{Source: "Bayat et al. 2021 (" + filepath.Base(path) + ")",
		Note: "Their models: RF on flow statistics; CNN-RNNs on packet, payload and IAT sequences; ensembles."}
	for i, r := range rows[1:] {
		acc, err1 := strconv.ParseFloat(r[2], 64)
		f1, err2 := strconv.ParseFloat(r[5], 64)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("read %s: line %d: %w", path, i+2, err)
		}
		ref.Rows = append(ref.Rows, report.ReferenceRow{Model: r[0], Setting: "min " + r[1], Accuracy: acc, MacroF1: f1})
	}
	return ref, nil
}

// hardware describes this machine.
func hardware() report.Hardware {
	h := report.Hardware{OS: runtime.GOOS, Arch: runtime.GOARCH, Cores: runtime.NumCPU(), GoVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				h.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	return h
}

// RunSpecFile runs the trial in a spec file and writes its result to the spec's result path (or
// next to the spec): what `etch trial run SPEC` does in a worker process.
func RunSpecFile(ctx context.Context, path string, w *Worker) (*TrialResult, error) {
	s, err := ReadSpec(path)
	if err != nil {
		return nil, err
	}
	out := s.Result
	if out == "" {
		out = strings.TrimSuffix(path, ".spec.json") + ".result.json"
		if out == path {
			out = path + ".result.json"
		}
	}
	r, err := w.Run(ctx, s)
	if err != nil {
		return nil, err
	}
	if err := WriteResult(out, r); err != nil {
		return nil, err
	}
	return r, nil
}
