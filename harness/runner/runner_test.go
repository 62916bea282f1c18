package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/etchlab/etch/data"
	"github.com/etchlab/etch/harness/config"
	"github.com/etchlab/etch/harness/model"
	"github.com/etchlab/etch/harness/report"
	"github.com/etchlab/etch/kernels"
)

// centroid is a small, deterministic test classifier: nearest class mean over the tabular
// features and flattened sequences, probabilities from a softmax of negative squared distances.
type centroid struct {
	k     int
	means [][]float64
	fail  bool
	hist  []model.Epoch
}

func (c *centroid) Classes() int { return c.k }

func features(d *model.Data, i int) []float32 {
	td, sd := d.TabDim(), d.SeqDim()
	out := append([]float32{}, d.Tab[i*td:(i+1)*td]...)
	return append(out, d.Seq[i*sd:(i+1)*sd]...)
}

func (c *centroid) Fit(ctx context.Context, train, val *model.Data) error {
	if c.fail {
		return errors.New("this model always fails")
	}
	c.k = train.Classes
	dim := train.TabDim() + train.SeqDim()
	c.means = make([][]float64, c.k)
	n := make([]int, c.k)
	for j := range c.means {
		c.means[j] = make([]float64, dim)
	}
	for i := range train.N {
		y := train.Y[i]
		n[y]++
		for f, v := range features(train, i) {
			c.means[y][f] += float64(v)
		}
	}
	for j := range c.means {
		for f := range c.means[j] {
			c.means[j][f] /= float64(max(1, n[j]))
		}
	}
	c.hist = []model.Epoch{{Epoch: 1, TrainLoss: 1}, {Epoch: 2, TrainLoss: 0.5}}
	return ctx.Err()
}

func (c *centroid) PredictProba(_ context.Context, x *model.Data, dst []float32) error {
	for i := range x.N {
		f := features(x, i)
		row := dst[i*c.k : (i+1)*c.k]
		var sum float64
		for j := range c.k {
			d := 0.0
			for a, v := range f {
				e := float64(v) - c.means[j][a]
				d += e * e
			}
			p := math.Exp(-d * 10 / float64(max(1, len(f))))
			row[j] = float32(p)
			sum += p
		}
		for j := range row {
			if sum > 0 {
				row[j] = float32(float64(row[j]) / sum)
			} else {
				row[j] = 1 / float32(c.k)
			}
		}
	}
	return nil
}

// vote averages its members' probabilities: a test ensemble that needs fitted members.
type vote struct {
	members []model.Model
}

func (v *vote) Classes() int { return v.members[0].Classes() }
func (v *vote) Fit(context.Context, *model.Data, *model.Data) error {
	return nil
}
func (v *vote) PredictProba(ctx context.Context, x *model.Data, dst []float32) error {
	tmp := make([]float32, len(dst))
	clear(dst)
	for _, m := range v.members {
		if err := m.PredictProba(ctx, x, tmp); err != nil {
			return err
		}
		for i := range dst {
			dst[i] += tmp[i] / float32(len(v.members))
		}
	}
	return nil
}

type centroidHistory struct{ *centroid }

func (c centroidHistory) History() []model.Epoch { return c.hist }

// testRegistry registers "centroid" (fail: true makes Fit fail), "curve" (a centroid with a
// training curve) and "vote"; fits counts Fit calls.
func testRegistry(fits *atomic.Int64) model.Registry {
	return model.Registry{
		"centroid": func(spec model.Spec, env model.Env) (model.Model, error) {
			var p struct {
				Fail bool `json:"fail"`
			}
			if err := model.DecodeParams(spec.Params, &p); err != nil {
				return nil, err
			}
			fits.Add(1)
			return &centroid{fail: p.Fail}, nil
		},
		"curve": func(spec model.Spec, env model.Env) (model.Model, error) {
			fits.Add(1)
			return centroidHistory{&centroid{}}, nil
		},
		"vote": func(spec model.Spec, env model.Env) (model.Model, error) {
			var ms []model.Model
			for _, n := range spec.Params["members"].([]any) {
				ms = append(ms, env.Members[n.(string)])
			}
			return &vote{members: ms}, nil
		},
	}
}

// writeDataset writes a small flows file with four classes that differ in packet sizes.
func writeDataset(t testing.TB, path string, n int) {
	t.Helper()
	w, err := data.Create(path, data.Meta{Source: "test", SeqLen: 8})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	classes := []string{"web", "mail", "voip", "p2p"}
	recs := make([]data.Record, n)
	for i := range recs {
		c := i % len(classes)
		if i%7 == 0 {
			c = 0 // unequal class sizes
		}
		r := &recs[i]
		r.Label, r.Service, r.Category = classes[c], classes[c]+"-svc", "cat"+fmt.Sprint(c%2)
		r.Capture = fmt.Sprintf("cap%d.pcap", i%5)
		r.StartUS = int64(i) * 1e6
		r.Proto = "tcp"
		base := float64(100 * (c + 1))
		r.SizeFwdMean = base + rng.NormFloat64()*60
		r.SizeBwdMean = 2*base + rng.NormFloat64()*80
		r.DurationS = float64(c) + rng.Float64()
		for k := 0; k < 8; k++ {
			r.SeqSize = append(r.SeqSize, int32(base)+int32(rng.IntN(150)))
			r.SeqDir = append(r.SeqDir, int32(1-2*(k%2)))
			r.SeqPayload = append(r.SeqPayload, int32(rng.IntN(100)))
			r.SeqIATUS = append(r.SeqIATUS, int32(rng.IntN(1000)))
		}
	}
	if err := w.Write(recs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

const testExperiment = `name: test-sweep
seed: 7
backend: cpu
data:
  path: flows.parquet
  features: [size_fwd_mean, size_bwd_mean, seq_size, seq_dir]
  filter: {top_n: 4}
split: {kind: stratified, test: 0.3, val: 0.1}
models:
  - {name: a, type: centroid}
  - {name: b, type: curve}
  - {name: ens, type: vote, members: [a, b]}
sweep:
  data.filter.top_n: [2, 3, 4]
`

type fixture struct {
	dir  string
	exp  *config.Experiment
	fits *atomic.Int64
}

func newFixture(t *testing.T, yaml string) *fixture {
	t.Helper()
	dir := t.TempDir()
	writeDataset(t, filepath.Join(dir, "flows.parquet"), 240)
	exp, err := config.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	if err := exp.Validate(nil); err != nil {
		t.Fatal(err)
	}
	return &fixture{dir: dir, exp: exp, fits: &atomic.Int64{}}
}

func (f *fixture) opts(out string) Options {
	return Options{Version: "test", WorkDir: f.dir, OutDir: filepath.Join(f.dir, out), Registry: testRegistry(f.fits),
		Command: "etch run test.yaml", Cores: 2}
}

func TestRunDeterministic(t *testing.T) {
	f := newFixture(t, testExperiment)
	var bodies [][]byte
	for i, jobs := range []int{1, 2} {
		o := f.opts(fmt.Sprintf("run%d", i))
		o.CacheDir = "off"
		o.Jobs = jobs
		out, err := Run(context.Background(), f.exp, o)
		if err != nil {
			t.Fatal(err)
		}
		if out.Ran != 3 || out.Failed != 0 || len(out.Results.Trials) != 3 {
			t.Fatalf("ran %d failed %d trials %d", out.Ran, out.Failed, len(out.Results.Trials))
		}
		md, err := os.ReadFile(filepath.Join(out.Dir, report.ReportFile))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(md, []byte(report.TimingsBegin)) {
			t.Fatal("report has no timings section")
		}
		bodies = append(bodies, report.StripTimings(md))
		csv, err := os.ReadFile(filepath.Join(out.Dir, "confusion", "t1r0-ens.csv"))
		if err != nil || !bytes.HasPrefix(csv, []byte("true\\predicted,web,")) {
			t.Errorf("confusion csv %q: %v", csv, err)
		}
	}
	if !bytes.Equal(bodies[0], bodies[1]) {
		t.Errorf("reports differ outside timings:\n%s", firstDiff(bodies[0], bodies[1]))
	}
	for _, want := range []string{"## Sweep", "data.filter.top_n=3", "## Significance", "re-run: `etch run test.yaml`",
		"requested `cpu`, used `cpu`", "t1r0-b-training.png"} {
		if !bytes.Contains(bodies[0], []byte(want)) {
			t.Errorf("report lacks %q", want)
		}
	}
	res, err := report.Load(filepath.Join(f.dir, "run0"))
	if err != nil {
		t.Fatal(err)
	}
	tr := res.Trials[0]
	if tr.Params["data.filter.top_n"] != 2.0 || len(tr.Dataset.Classes) != 2 || tr.Models["a"].Accuracy < 0.6 {
		t.Errorf("trial 1: params %v classes %v accuracy %v", tr.Params, tr.Dataset.Classes, tr.Models["a"].Accuracy)
	}
	if len(tr.McNemar) != 3 || tr.Models["a"].CI["accuracy"].Hi == 0 || tr.Models["b"].Curve == nil {
		t.Errorf("mcnemar %d, ci %v, curve %v", len(tr.McNemar), tr.Models["a"].CI, tr.Models["b"].Curve)
	}
}

func firstDiff(a, b []byte) string {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, la[i], lb[i])
		}
	}
	return "lengths differ"
}

// cancelAfter cancels the run as the first trial finishes.
type cancelAfter struct {
	noProgress
	cancel context.CancelFunc
	n      atomic.Int64
}

func (c *cancelAfter) TrialDone(*TrialResult) {
	if c.n.Add(1) == 1 {
		c.cancel()
	}
}

func TestResume(t *testing.T) {
	f := newFixture(t, testExperiment)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := f.opts("run")
	o.Jobs = 1
	o.Progress = &cancelAfter{cancel: cancel}
	_, err := Run(ctx, f.exp, o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "run", report.ReportFile)); err == nil {
		t.Error("an interrupted run wrote a report")
	}
	// The plan lets a report be collected from what finished: one trial, two without results.
	partial, err := Collect(filepath.Join(f.dir, "run"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(partial.Trials) != 3 || partial.Trials[0].Error != "" || !strings.Contains(partial.Trials[2].Error, "no result yet") {
		t.Errorf("collected %d trials: %q, %q", len(partial.Trials), partial.Trials[0].Error, partial.Trials[2].Error)
	}
	first := f.fits.Load()
	if first < 2 {
		t.Fatalf("%d fits before the interrupt", first)
	}
	f.fits.Store(0)
	o.Progress = nil
	out, err := Run(context.Background(), f.exp, o)
	if err != nil {
		t.Fatal(err)
	}
	if out.Cached != 1 || out.Ran != 2 {
		t.Errorf("resumed run: cached %d ran %d, want 1 and 2", out.Cached, out.Ran)
	}
	if got := f.fits.Load(); got != 4 {
		t.Errorf("resumed run fitted %d models, want 4 (2 trials × 2 fitted models)", got)
	}
	if out.Results.Timing.CachedTrials != 1 {
		t.Errorf("timing says %d cached", out.Results.Timing.CachedTrials)
	}
	// A third run takes everything from the cache and renders the same report body.
	f.fits.Store(0)
	o2 := o
	o2.OutDir = filepath.Join(f.dir, "run2")
	out2, err := Run(context.Background(), f.exp, o2)
	if err != nil {
		t.Fatal(err)
	}
	if out2.Cached != 3 || f.fits.Load() != 0 {
		t.Errorf("third run: cached %d, fits %d", out2.Cached, f.fits.Load())
	}
	a, _ := os.ReadFile(filepath.Join(out.Dir, report.ReportFile))
	b, _ := os.ReadFile(filepath.Join(out2.Dir, report.ReportFile))
	if !bytes.Equal(report.StripTimings(a), report.StripTimings(b)) {
		t.Errorf("cached run's report differs:\n%s", firstDiff(report.StripTimings(a), report.StripTimings(b)))
	}
	// A changed model parameter is a new trial.
	ov, _ := config.ParseOverride("models.a.fail=false")
	exp2, err := f.exp.Apply(ov)
	if err != nil {
		t.Fatal(err)
	}
	out3, err := Run(context.Background(), exp2, o2)
	if err != nil {
		t.Fatal(err)
	}
	if out3.Cached != 0 {
		t.Errorf("changed config found %d cached trials", out3.Cached)
	}
}

func TestFailedTrial(t *testing.T) {
	y := strings.Replace(testExperiment, "{name: a, type: centroid}", "{name: a, type: centroid, fail: true}", 1)
	f := newFixture(t, y)
	o := f.opts("run")
	out, err := Run(context.Background(), f.exp, o)
	if err != nil {
		t.Fatal(err)
	}
	if out.Failed != 3 {
		t.Fatalf("%d failed", out.Failed)
	}
	md, _ := os.ReadFile(filepath.Join(out.Dir, report.ReportFile))
	if !bytes.Contains(md, []byte("## Failed trials")) || !bytes.Contains(md, []byte("this model always fails")) {
		t.Errorf("report does not name the failure:\n%s", md)
	}
	if (Cache{Dir: filepath.Join(f.dir, "reports", ".cache")}).Get(out.Results.Trials[0].ID) != nil {
		t.Error("failed trial cached")
	}
	again, err := Run(context.Background(), f.exp, o)
	if err != nil || again.Cached != 0 {
		t.Errorf("re-run: cached %d (%v); failed trials must run again", again.Cached, err)
	}
}

func TestKFoldRepeats(t *testing.T) {
	y := `name: kf
seed: 3
data: {path: flows.parquet, features: [stats, seq_size], filter: {min_count: 40, other: true}, scale: standard}
split: {kind: kfold, k: 3, group_by: capture}
models: [{name: a, type: centroid}]
repeats: 2
`
	f := newFixture(t, y)
	out, err := Run(context.Background(), f.exp, f.opts("run"))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Results.Trials) != 2 {
		t.Fatalf("%d trials", len(out.Results.Trials))
	}
	t0, t1 := out.Results.Trials[0], out.Results.Trials[1]
	if t0.Seed == t1.Seed || t0.ID != "t1r0" || t1.ID != "t1r1" {
		t.Errorf("repeats: %s/%d %s/%d", t0.ID, t0.Seed, t1.ID, t1.Seed)
	}
	if t0.Split.TestN != t0.Dataset.Rows || len(t0.Models["a"].FoldAccuracy) != 3 || t0.Split.GroupBy != "capture" {
		t.Errorf("k-fold: split %+v folds %v", t0.Split, t0.Models["a"].FoldAccuracy)
	}
	md, _ := os.ReadFile(filepath.Join(out.Dir, report.ReportFile))
	if !bytes.Contains(md, []byte("mean ± 95% Student-t half-width over 2 repeats")) {
		t.Error("report does not summarise repeats")
	}
}

func TestModelFeatures(t *testing.T) {
	y := strings.Replace(testExperiment, "{name: a, type: centroid}", "{name: a, type: centroid, features: [seq_dir]}", 1)
	f := newFixture(t, y)
	out, err := Run(context.Background(), f.exp, f.opts("run"))
	if err != nil {
		t.Fatal(err)
	}
	tr := out.Results.Trials[2]
	// seq_dir is the same for every class: a model that sees only it cannot beat the majority.
	a, b := tr.Models["a"].Accuracy, tr.Models["b"].Accuracy
	if a > 0.5 || b < 0.6 || tr.Error != "" {
		t.Errorf("accuracy of a (seq_dir only) %.3f, b (all) %.3f, error %q", a, b, tr.Error)
	}
	ds, err := LoadDataset(context.Background(), filepath.Join(f.dir, "flows.parquet"), data.LoadOptions{Features: []string{"stats", "seq_size", "seq_dir"}})
	if err != nil {
		t.Fatal(err)
	}
	sel, err := selectFeatures(ds, []string{"seq_dir", "stats"})
	if err != nil || len(sel.tab) != 48 || len(sel.ch) != 1 || sel.ch[0] != 1 {
		t.Errorf("selection %+v: %v", sel, err)
	}
	p := sel.project(nil, ds)
	if len(p.Tab) != 48 || !slices.Equal(p.Channels, []string{"seq_dir"}) {
		t.Errorf("projection %v %v", p.Tab, p.Channels)
	}
	if _, err := selectFeatures(ds, []string{"seq_iat_us"}); err == nil {
		t.Error("selecting an unloaded channel succeeded")
	}
}

func TestBackendAndErrors(t *testing.T) {
	f := newFixture(t, strings.Replace(testExperiment, "backend: cpu", "backend: cuda", 1))
	if _, err := Run(context.Background(), f.exp, f.opts("run")); !errors.Is(err, kernels.ErrNoDevice) {
		t.Errorf("cuda without a device: %v", err)
	}
	// In a worker (another binary may have the device), the trial fails with the reason.
	specs, err := Plan(f.exp, f.opts("run"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := (&Worker{Registry: testRegistry(f.fits)}).Run(context.Background(), specs[0])
	if err != nil || !strings.Contains(r.Trial.Error, "no usable device") {
		t.Errorf("worker on cuda without a device: %v, %q", err, r.Trial.Error)
	}
	f2 := newFixture(t, strings.Replace(testExperiment, "path: flows.parquet", "path: missing.parquet", 1))
	if _, err := Run(context.Background(), f2.exp, f2.opts("run")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing dataset: %v", err)
	}
	o := f2.opts("run")
	o.Executor = "nowhere"
	f2.exp.Data.Path = "flows.parquet"
	if _, err := Run(context.Background(), f2.exp, o); !errors.Is(err, ErrNoExecutor) {
		t.Errorf("unknown executor: %v", err)
	}
}

func TestParallelism(t *testing.T) {
	cases := []struct {
		cores, jobs, threads, pending int
		wantJ, wantT                  int
	}{
		{2, 0, 0, 8, 2, 1},
		{2, 0, 0, 1, 1, 2},
		{16, 0, 4, 10, 4, 4},
		{16, 3, 0, 10, 3, 5},
		{2, 4, 0, 10, 2, 1},
		{4, 2, 4, 10, 2, 2},
		{8, 0, 0, 3, 3, 2},
	}
	for _, c := range cases {
		exp := &config.Experiment{}
		j, th := parallelism(exp, Options{Cores: c.cores, Jobs: c.jobs, Threads: c.threads}, c.pending, nopLog())
		if j != c.wantJ || th != c.wantT {
			t.Errorf("%+v: got jobs %d threads %d", c, j, th)
		}
		if j*th > c.cores {
			t.Errorf("%+v: %d×%d oversubscribes", c, j, th)
		}
	}
}

func TestDeriveSeed(t *testing.T) {
	seen := map[uint64]bool{}
	for _, s := range []uint64{DeriveSeed(1, "repeat", 0), DeriveSeed(1, "repeat", 1), DeriveSeed(2, "repeat", 0),
		DeriveSeed(1, "split"), DeriveSeed(1, "model", "a", 0), DeriveSeed(1, "model", "a", 1)} {
		if seen[s] {
			t.Error("seed collision")
		}
		seen[s] = true
	}
	a, b := DeriveSeed(5, "x"), DeriveSeed(5, "x")
	if a != b {
		t.Error("not deterministic")
	}
}

func TestLoadDataset(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.parquet")
	writeDataset(t, path, 70)
	cases := []struct {
		name    string
		opts    data.LoadOptions
		classes []string
		n       int
		tab     int
		seq     int
		err     bool
	}{
		{"all", data.LoadOptions{Features: []string{"stats"}}, []string{"web", "mail", "voip", "p2p"}, 70, 48, 0, false},
		{"top2", data.LoadOptions{Features: []string{"seq_size"}, TopN: 2}, []string{"web", "mail"}, 0, 0, 8, false},
		{"other", data.LoadOptions{Features: []string{"duration_s"}, TopN: 2, Other: true}, []string{"web", "mail", "other"}, 70, 1, 0, false},
		{"min count", data.LoadOptions{Features: []string{"size_fwd_mean"}, MinCount: 16}, []string{"web", "mail"}, 0, 1, 0, false},
		{"packets", data.LoadOptions{Features: []string{"seq_size", "seq_dir"}, Packets: 3}, nil, 70, 0, 6, false},
		{"service", data.LoadOptions{Features: []string{"stats"}, Label: "service"}, nil, 70, 48, 0, false},
		{"unknown column", data.LoadOptions{Features: []string{"nope"}}, nil, 0, 0, 0, true},
		{"no extra", data.LoadOptions{Features: []string{"extra"}}, nil, 0, 0, 0, true},
		{"bad label", data.LoadOptions{Features: []string{"stats"}, Label: "app"}, nil, 0, 0, 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := LoadDataset(context.Background(), path, c.opts)
			if c.err {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.classes != nil && strings.Join(d.ClassNames, ",") != strings.Join(c.classes, ",") {
				t.Errorf("classes %v", d.ClassNames)
			}
			if c.n > 0 && d.N != c.n {
				t.Errorf("N %d", d.N)
			}
			if d.TabDim() != c.tab || d.SeqDim() != c.seq || len(d.Tab) != d.N*c.tab || len(d.Seq) != d.N*c.seq || len(d.Y) != d.N {
				t.Errorf("dims tab %d seq %d (N %d)", d.TabDim(), d.SeqDim(), d.N)
			}
		})
	}
	d, err := LoadDataset(context.Background(), path, data.LoadOptions{Features: []string{"seq_size", "seq_dir"}, Group: "capture"})
	if err != nil {
		t.Fatal(err)
	}
	// Channels of one time step are adjacent: row 0, step 1 is (seq_size[1], seq_dir[1] = -1).
	if d.Seq[3] != -1 || d.Seq[1] != 1 || len(d.Groups) != d.N {
		t.Errorf("seq layout %v groups %d", d.Seq[:4], len(d.Groups))
	}
}

func nopLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestWorkerReleasesDatasets(t *testing.T) {
	f := newFixture(t, testExperiment)
	specs, err := Plan(f.exp, f.opts("x"))
	if err != nil {
		t.Fatal(err)
	}
	// Trials 1 and 3 share one load (same options), trial 2 has its own.
	specs[2].Config.Data.Filter.TopN = 2
	w := &Worker{Registry: testRegistry(f.fits)}
	w.Expect(specs)
	held := func() int {
		w.mu.Lock()
		defer w.mu.Unlock()
		return len(w.datasets)
	}
	// Without Expect (a worker process runs one trial), nothing is held after the trial.
	w0 := &Worker{Registry: testRegistry(f.fits)}
	if _, err := w0.Run(context.Background(), specs[0]); err != nil || len(w0.datasets) != 0 {
		t.Errorf("worker without Expect: %v, %d datasets held", err, len(w0.datasets))
	}
	for i, want := range []int{1, 1, 0} {
		if _, err := w.Run(context.Background(), specs[i]); err != nil {
			t.Fatal(err)
		}
		if got := held(); got != want {
			t.Errorf("after trial %d: %d datasets held, want %d", i+1, got, want)
		}
	}
}

// TestReportHardwareFromTrials: the report names the machine that ran the trials (recorded in
// each result), not the one that renders it; results without it fall back to this machine.
func TestReportHardwareFromTrials(t *testing.T) {
	f := newFixture(t, testExperiment)
	specs, err := Plan(f.exp, f.opts("run"))
	if err != nil {
		t.Fatal(err)
	}
	node := report.Hardware{OS: "linux", Arch: "arm64", Cores: 96, CPU: "Neoverse-V2", GoVersion: "go1.26.0"}
	results := map[string]*TrialResult{}
	for _, s := range specs {
		results[s.ID] = &TrialResult{Key: s.Key, Trial: report.Trial{ID: s.ID}, Hardware: &node}
	}
	res := assemble(f.exp, specs, results, f.opts("run"), "r", time.Now(), 0, nopLog())
	if res.Hardware != node {
		t.Errorf("hardware %+v, want the trials' %+v", res.Hardware, node)
	}
	for _, r := range results {
		r.Hardware = nil
	}
	res = assemble(f.exp, specs, results, f.opts("run"), "r", time.Now(), 0, nopLog())
	if res.Hardware != hardware() {
		t.Errorf("hardware %+v, want this machine's", res.Hardware)
	}
}
