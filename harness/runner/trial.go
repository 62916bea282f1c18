package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/etchlab/etch/data"
	"github.com/etchlab/etch/harness/config"
	"github.com/etchlab/etch/harness/eval"
	"github.com/etchlab/etch/harness/model"
	"github.com/etchlab/etch/harness/report"
)

// Bootstrap is the number of bootstrap resamples behind each metric's 95% interval.
const Bootstrap = 1000

// ErrDatasetChanged reports a dataset whose content differs from the hash the trial was planned
// with.
var ErrDatasetChanged = errors.New("dataset content changed since the trial was planned")

// Worker runs trials in this process. It is safe for concurrent use: datasets are loaded once
// per distinct load options and shared read-only.
type Worker struct {
	// Registry builds the models.
	Registry model.Registry
	// Log receives progress messages (nil: discarded).
	Log *slog.Logger
	// Progress, when not nil, is told how far each model's training is.
	Progress func(trial, model string, done, total int, unit string)
	// OpenBackend chooses the compute backend (nil: OpenBackend).
	OpenBackend func(ctx context.Context, requested string, threads int) (any, report.Backend, error)

	mu       sync.Mutex
	datasets map[string]*loaded
	refs     map[string]int
	hashes   sync.Map
}

// datasetKey identifies a loaded dataset: the file and the load options.
func datasetKey(path string, opts data.LoadOptions) string {
	b, _ := json.Marshal(opts)
	return path + "\x00" + string(b)
}

// Expect announces the trials this worker will run, so that a dataset loaded for several of them
// is kept until the last one finishes and then released (without it, each is released after
// its trial).
func (w *Worker) Expect(specs []*TrialSpec) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.refs == nil {
		w.refs = map[string]int{}
	}
	for _, s := range specs {
		w.refs[datasetKey(s.Dataset.Abs, loadOptions(s.Config))]++
	}
}

// release drops one use of a dataset and frees it after its last expected use.
func (w *Worker) release(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.refs == nil {
		w.refs = map[string]int{}
	}
	w.refs[key]--
	if w.refs[key] <= 0 {
		delete(w.refs, key)
		delete(w.datasets, key)
	}
}

type loaded struct {
	once sync.Once
	ds   *data.Dataset
	err  error
}

func (w *Worker) log() *slog.Logger {
	if w.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Log
}

// load returns the dataset for the options, loading it once.
func (w *Worker) load(ctx context.Context, path string, opts data.LoadOptions) (*data.Dataset, error) {
	key := datasetKey(path, opts)
	w.mu.Lock()
	if w.datasets == nil {
		w.datasets = map[string]*loaded{}
	}
	l, ok := w.datasets[key]
	if !ok {
		l = &loaded{}
		w.datasets[key] = l
	}
	w.mu.Unlock()
	l.once.Do(func() { l.ds, l.err = LoadDataset(ctx, path, opts) })
	if l.err != nil && ctx.Err() != nil {
		// A load cut short by cancellation must not poison later attempts.
		w.mu.Lock()
		delete(w.datasets, key)
		w.mu.Unlock()
	}
	return l.ds, l.err
}

// loadOptions maps a config's data section to load options.
func loadOptions(c *config.Experiment) data.LoadOptions {
	return data.LoadOptions{Features: c.Data.Features, Label: c.Data.Label, TopN: c.Data.Filter.TopN,
		MinCount: c.Data.Filter.MinCount, Other: c.Data.Filter.Other, Packets: c.Data.Packets, Group: c.Split.GroupBy}
}

// Run runs one trial and returns its result. Errors of the trial itself (bad data, a model that
// fails) are recorded in the result; only cancellation is returned as an error.
func (w *Worker) Run(ctx context.Context, s *TrialSpec) (*TrialResult, error) {
	start := time.Now()
	hw := hardware()
	res := &TrialResult{Version: SpecVersion, Key: s.Key, Hardware: &hw}
	res.Trial = report.Trial{ID: s.ID, Params: s.Params, Repeat: s.Repeat, Seed: s.Seed, Models: map[string]*report.ModelResult{}}
	err := w.run(ctx, s, res)
	w.release(datasetKey(s.Dataset.Abs, loadOptions(s.Config)))
	res.Seconds = time.Since(start).Seconds()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		res.Trial.Error = err.Error()
		res.Trial.Models = nil
		w.log().Error("trial failed", "trial", s.ID, "err", err)
	}
	return res, nil
}

func (w *Worker) run(ctx context.Context, s *TrialSpec, res *TrialResult) error {
	c := s.Config
	open := w.OpenBackend
	if open == nil {
		open = OpenBackend
	}
	backend, binfo, err := open(ctx, s.Backend, s.Threads)
	if err != nil {
		return err
	}
	if s.BackendNote != "" && binfo.Used == "cpu" {
		binfo.Reason = s.BackendNote
	}
	res.Backend = binfo
	ds, err := w.load(ctx, s.Dataset.Abs, loadOptions(c))
	if err != nil {
		return err
	}
	if s.Dataset.Hash != "" {
		h, err := w.fileHash(s.Dataset.Abs)
		if err != nil {
			return err
		}
		if h != s.Dataset.Hash {
			return fmt.Errorf("%s: %w (planned %s, now %s)", s.Dataset.Path, ErrDatasetChanged, short(s.Dataset.Hash), short(h))
		}
	}
	if ds.N == 0 || len(ds.ClassNames) < 2 {
		return fmt.Errorf("%s: %d flows in %d classes after filtering: nothing to classify", s.Dataset.Path, ds.N, len(ds.ClassNames))
	}
	res.Trial.Dataset = datasetInfo(s, ds)
	folds, err := eval.Split(eval.SplitConfig{Kind: c.Split.Kind, Test: c.Split.Test, Val: c.Split.Val, K: c.Split.K,
		Grouped: c.Split.GroupBy != ""}, ds.Y, ds.Groups, DeriveSeed(s.Seed, "split"))
	if err != nil {
		return fmt.Errorf("split: %w", err)
	}
	keys := ds.RowKeys()
	sp := report.Split{Kind: c.Split.Kind, Test: c.Split.Test, Val: c.Split.Val, K: c.Split.K, GroupBy: c.Split.GroupBy}
	for _, f := range folds {
		sp.Train += len(f.Train)
		sp.ValN += len(f.Val)
		sp.TestN += len(f.Test)
		sp.Leaks += eval.Leaks(keys, f)
	}
	res.Trial.Split = sp

	k := len(ds.ClassNames)
	type acc struct {
		proba        []float32 // out-of-fold, in testRows order
		fit, predict float64
		foldAcc      []float64
		curve        []model.Epoch
	}
	accs := make([]*acc, len(c.Models))
	for i := range accs {
		accs[i] = &acc{}
	}
	var testRows []int
	for fi, f := range folds {
		train, val, test, sc, err := foldData(ds, f, c.Data.Scale)
		if err != nil {
			return err
		}
		testRows = append(testRows, f.Test...)
		fitted := map[string]model.Model{}
		for mi, ms := range c.Models {
			if err := ctx.Err(); err != nil {
				return err
			}
			a := accs[mi]
			m, err := w.build(s, ms, fi, backend, ds, fitted)
			if err != nil {
				return err
			}
			t0 := time.Now()
			if err := m.Fit(ctx, train, val); err != nil {
				return fmt.Errorf("model %q: fit (fold %d): %w", ms.Name, fi+1, err)
			}
			a.fit += time.Since(t0).Seconds()
			if m.Classes() != k {
				return fmt.Errorf("model %q predicts %d classes, the data has %d", ms.Name, m.Classes(), k)
			}
			p := make([]float32, test.N*k)
			t0 = time.Now()
			if err := m.PredictProba(ctx, test, p); err != nil {
				return fmt.Errorf("model %q: predict (fold %d): %w", ms.Name, fi+1, err)
			}
			a.predict += time.Since(t0).Seconds()
			a.proba = append(a.proba, p...)
			if len(folds) > 1 {
				a.foldAcc = append(a.foldAcc, accuracy(test.Y, p, k))
			}
			if h, ok := m.(model.Historian); ok && fi == 0 {
				a.curve = h.History()
			}
			fitted[ms.Name] = m
			if fi == 0 && s.ModelDir != "" {
				w.saveModel(s, ms, m, ds, sc)
			}
		}
	}
	yTest := make([]int32, len(testRows))
	for i, r := range testRows {
		yTest[i] = ds.Y[r]
	}
	preds := make([][]int32, len(c.Models))
	for mi, ms := range c.Models {
		a := accs[mi]
		met, err := eval.Evaluate(yTest, a.proba, ds.ClassNames, eval.Options{Bootstrap: Bootstrap, Seed: DeriveSeed(s.Seed, "bootstrap", ms.Name)})
		if err != nil {
			return fmt.Errorf("model %q: %w", ms.Name, err)
		}
		preds[mi] = eval.Predict(a.proba, k)
		mr := &report.ModelResult{Type: ms.Type, Metrics: *met, FitSeconds: a.fit, PredictSeconds: a.predict,
			Backend: binfo.Used, FoldAccuracy: a.foldAcc, Curve: a.curve}
		if a.predict > 0 {
			mr.PredictPerSecond = float64(len(yTest)) / a.predict
		}
		res.Trial.Models[ms.Name] = mr
	}
	for i := range c.Models {
		for j := i + 1; j < len(c.Models); j++ {
			res.Trial.McNemar = append(res.Trial.McNemar, eval.McNemar(c.Models[i].Name, c.Models[j].Name, yTest, preds[i], preds[j]))
		}
	}
	return nil
}

// build constructs one model for fold fi. Ensembles get their members, already fitted on the
// same fold, in Env.Members, and every model gets Env.Build, which builds fresh instances of the
// experiment's models (stacking fits per-fold copies of its members).
func (w *Worker) build(s *TrialSpec, ms config.Model, fi int, backend any, ds *data.Dataset, fitted map[string]model.Model) (model.Model, error) {
	env := w.env(s, ms.Name, DeriveSeed(s.Seed, "model", ms.Name, fi), backend, ds)
	if members := ms.Members(); len(members) > 0 {
		env.Members = map[string]model.Model{}
		for _, n := range members {
			m, ok := fitted[n]
			if !ok {
				return nil, fmt.Errorf("model %q: member %q is not built before it", ms.Name, n)
			}
			env.Members[n] = m
		}
	}
	return w.newModel(ms, env, ds)
}

// newModel builds ms; a model with its own `features:` is wrapped to see only those.
func (w *Worker) newModel(ms config.Model, env model.Env, ds *data.Dataset) (model.Model, error) {
	m, err := w.Registry.New(modelSpec(ms), env)
	if err != nil {
		return nil, err
	}
	if fs := ms.Features(); len(fs) > 0 {
		sel, err := selectFeatures(ds, fs)
		if err != nil {
			return nil, fmt.Errorf("model %q: %w", ms.Name, err)
		}
		return sel.project(m, ds), nil
	}
	return m, nil
}

// env returns the Env of a model of trial s; its Build builds the experiment's models by name.
func (w *Worker) env(s *TrialSpec, name string, seed uint64, backend any, ds *data.Dataset) model.Env {
	env := model.Env{Seed: seed, Threads: max(1, s.Threads), Backend: backend, Log: w.log().With("trial", s.ID, "name", name)}
	if w.Progress != nil {
		id := s.ID
		env.Progress = func(done, total int, unit string) { w.Progress(id, name, done, total, unit) }
	}
	env.Build = func(member string, seed uint64) (model.Model, error) {
		for _, m := range s.Config.Models {
			if m.Name == member {
				return w.newModel(m, w.env(s, member, seed, backend, ds), ds)
			}
		}
		return nil, fmt.Errorf("build %q: no such model in the experiment", member)
	}
	return env
}

// modelSpec copies a config entry into a model spec (the parameters map is the model's own).
func modelSpec(ms config.Model) model.Spec {
	params := make(map[string]any, len(ms.Params))
	for k, v := range ms.Params {
		if k != config.FeaturesKey {
			params[k] = v
		}
	}
	return model.Spec{Name: ms.Name, Type: ms.Type, Params: params}
}

// foldData scales the dataset with a scaler fitted on the fold's training rows and slices it
// into training, validation (nil when empty) and test sets.
func foldData(ds *data.Dataset, f eval.Fold, scale string) (train, val, test *model.Data, sc *data.Scaler, err error) {
	sc, err = data.Fit(ds, f.Train, data.ScaleOptions{Method: scale})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	all := &model.Data{N: ds.N, TabNames: ds.TabNames, SeqLen: ds.SeqLen, SeqChannels: ds.SeqChannels,
		Tab: slices.Clone(ds.Tab), Seq: slices.Clone(ds.Seq), Y: ds.Y, Classes: len(ds.ClassNames), ClassNames: ds.ClassNames}
	if err := sc.Apply(all.TabNames, all.Tab, all.SeqChannels, all.Seq); err != nil {
		return nil, nil, nil, nil, err
	}
	train, test = all.Slice(f.Train), all.Slice(f.Test)
	if len(f.Val) > 0 {
		val = all.Slice(f.Val)
	}
	return train, val, test, sc, nil
}

func accuracy(y []int32, proba []float32, k int) float64 {
	if len(y) == 0 {
		return 0
	}
	pred := eval.Predict(proba, k)
	n := 0
	for i, t := range y {
		if pred[i] == t {
			n++
		}
	}
	return float64(n) / float64(len(y))
}

func datasetInfo(s *TrialSpec, ds *data.Dataset) report.Dataset {
	c := s.Config
	d := report.Dataset{Path: s.Dataset.Path, Hash: s.Dataset.Hash, Source: ds.Meta.Source, Rows: ds.N,
		Label: c.Data.Label, Features: c.Data.Features, TabFeatures: ds.TabDim(), SeqLen: ds.SeqLen,
		SeqChannels: ds.SeqChannels, Scale: c.Data.Scale}
	var f []string
	if c.Data.Filter.MinCount > 0 {
		f = append(f, fmt.Sprintf("min_count=%d", c.Data.Filter.MinCount))
	}
	if c.Data.Filter.TopN > 0 {
		f = append(f, fmt.Sprintf("top_n=%d", c.Data.Filter.TopN))
	}
	if c.Data.Filter.Other {
		f = append(f, "other")
	}
	d.Filter = strings.Join(f, ", ")
	for i, n := range ds.ClassNames {
		d.Classes = append(d.Classes, report.ClassCount{Label: n, Count: ds.ClassCounts[i]})
	}
	return d
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// fileHash memoises data.FileSHA256 per path, size and modification time.
func (w *Worker) fileHash(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	key := fmt.Sprintf("%s\x00%d\x00%d", path, st.Size(), st.ModTime().UnixNano())
	if h, ok := w.hashes.Load(key); ok {
		return h.(string), nil
	}
	h, err := data.FileSHA256(path)
	if err != nil {
		return "", err
	}
	w.hashes.Store(key, h)
	return h, nil
}
