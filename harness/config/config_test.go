package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const issueExample = `name: topn-sweep
seed: 42
backend: auto                 # auto | cpu | cuda
data:
  path: data/samples/default.parquet
  label: label                # or category, service
  filter: {top_n: 25}         # or {min_count: 100}; optional other: true
  features: [seq_size]
split: {kind: stratified, test: 0.2, val: 0.1}   # or {kind: kfold, k: 10}; group_by: capture
models:
  - {name: rf, type: forest, trees: 100}
  - {name: cnnlstm, type: cnn_lstm, epochs: 20, batch: 128}
  - {name: ens, type: soft_vote, members: [rf, cnnlstm], weights: [0.5, 0.5]}
sweep:                        # grid over any dotted key; each combination is one trial
  data.filter.top_n: [10, 25, 50]
repeats: 1                    # >1: new seeds per repeat, results as mean ± 95% CI
`

var known = []string{"forest", "cnn_lstm", "soft_vote", "dnn"}

func TestIssueExample(t *testing.T) {
	e, err := Parse("x.yaml", []byte(issueExample))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Validate(known); err != nil {
		t.Fatal(err)
	}
	if e.Name != "topn-sweep" || e.Seed != 42 || e.Data.Filter.TopN != 25 || e.Split.Val != 0.1 {
		t.Errorf("decoded %+v", e)
	}
	if e.Models[0].Params["trees"] != 100.0 || e.Models[1].Params["batch"] != 128.0 {
		t.Errorf("params %+v", e.Models)
	}
	if got := e.Models[2].Members(); len(got) != 2 || got[1] != "cnnlstm" {
		t.Errorf("members %v", got)
	}
	pts, err := e.Expand()
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 3 {
		t.Fatalf("%d points", len(pts))
	}
	for i, want := range []int{10, 25, 50} {
		if pts[i].Config.Data.Filter.TopN != want || pts[i].Params["data.filter.top_n"] != float64(want) || len(pts[i].Config.Sweep) != 0 {
			t.Errorf("point %d: %+v", i, pts[i])
		}
	}
	if pts[0].Config.Hash() == pts[1].Config.Hash() {
		t.Error("different points hash alike")
	}
}

func TestDefaults(t *testing.T) {
	e, err := Parse("d.yaml", []byte("name: d\ndata: {path: x.parquet}\nmodels: [{name: rf, type: forest}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Validate(nil); err != nil {
		t.Fatal(err)
	}
	want := Experiment{Name: "d", Backend: "auto", Repeats: 1,
		Data:     Data{Path: "x.parquet", Label: "label", Features: []string{"stats"}, Scale: "minmax"},
		Split:    Split{Kind: "stratified", Test: 0.2},
		Executor: Executor{Kind: "local"}}
	if e.Backend != want.Backend || e.Repeats != 1 || e.Data.Label != "label" || e.Data.Scale != "minmax" ||
		e.Data.Features[0] != "stats" || e.Split != want.Split || e.Executor.Kind != "local" {
		t.Errorf("defaults: %+v", e)
	}
	k, err := Parse("k.yaml", []byte("name: k\ndata: {path: x}\nsplit: {kind: kfold}\nmodels: [{name: rf, type: forest}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if k.Split.K != 10 || k.Split.Test != 0 {
		t.Errorf("kfold defaults: %+v", k.Split)
	}
}

// TestBadFiles checks that each bad file gives an error at the right line and column.
func TestBadFiles(t *testing.T) {
	base := "name: b\ndata: {path: x.parquet}\nmodels: [{name: rf, type: forest}]\n"
	cases := []struct {
		name, yaml string
		want       string // substring of the error, including file:line:column
	}{
		{"unknown top-level key", base + "sede: 4\n", "b.yaml:4:1"},
		{"unknown nested key", "name: b\ndata:\n  path: x\n  lable: label\nmodels: [{name: rf, type: forest}]\n", "b.yaml:4:3"},
		{"wrong type", "name: b\nseed: many\ndata: {path: x}\nmodels: [{name: rf, type: forest}]\n", "b.yaml:2:7"},
		{"wrong type nested", "name: b\ndata: {path: x, filter: {top_n: lots}}\nmodels: [{name: rf, type: forest}]\n", "b.yaml:2:33"},
		{"duplicate key", "name: b\nname: c\ndata: {path: x}\nmodels: [{name: rf, type: forest}]\n", "b.yaml:2:1"},
		{"syntax", "name: b\ndata: {path: x\nmodels: []\n", "b.yaml:"},
		{"bad backend", "name: b\nbackend: gpu\ndata: {path: x}\nmodels: [{name: rf, type: forest}]\n", "b.yaml:2:1: backend: \"gpu\""},
		{"missing path", "name: b\ndata: {label: label}\nmodels: [{name: rf, type: forest}]\n", "b.yaml:2:1: data.path"},
		{"bad label", "name: b\ndata:\n  path: x\n  label: app\nmodels: [{name: rf, type: forest}]\n", "b.yaml:4:3: data.label"},
		{"negative top_n", "name: b\ndata:\n  path: x\n  filter:\n    top_n: -3\nmodels: [{name: rf, type: forest}]\n", "b.yaml:5:5: data.filter.top_n"},
		{"bad feature", "name: b\ndata:\n  path: x\n  features: [stats, 'a b']\nmodels: [{name: rf, type: forest}]\n", "b.yaml:4:21: data.features[1]"},
		{"test fraction", "name: b\ndata: {path: x}\nsplit: {test: 1.5}\nmodels: [{name: rf, type: forest}]\n", "b.yaml:3:9: split.test"},
		{"kfold k", "name: b\ndata: {path: x}\nsplit: {kind: kfold, k: 1}\nmodels: [{name: rf, type: forest}]\n", "b.yaml:3:22: split.k"},
		{"group_by", "name: b\ndata: {path: x}\nsplit: {group_by: host}\nmodels: [{name: rf, type: forest}]\n", "split.group_by: \"host\""},
		{"no models", "name: b\ndata: {path: x}\n", "models: at least one model"},
		{"unknown type", "name: b\ndata: {path: x}\nmodels:\n  - name: rf\n    type: forrest\n", "b.yaml:5:5: models[0].type: unknown model type \"forrest\""},
		{"duplicate model", "name: b\ndata: {path: x}\nmodels:\n  - {name: rf, type: forest}\n  - {name: rf, type: dnn}\n", "b.yaml:5:6: models[1].name"},
		{"member missing", "name: b\ndata: {path: x}\nmodels:\n  - {name: rf, type: forest}\n  - {name: e, type: soft_vote, members: [rf, nn]}\n", "b.yaml:5:46: models[1].members[1]: \"nn\" is not a model listed before"},
		{"weights count", "name: b\ndata: {path: x}\nmodels:\n  - {name: rf, type: forest}\n  - {name: e, type: soft_vote, members: [rf], weights: [1, 2]}\n", "models[1].weights"},
		{"model name type", "name: b\ndata: {path: x}\nmodels:\n  - {name: [a], type: forest}\n", "b.yaml:4:"},
		{"model features", "name: b\ndata: {path: x, features: [stats]}\nmodels:\n  - {name: rf, type: forest, features: [stats, seq_size]}\n", "b.yaml:4:48: models[0].features[1]: seq_size is not in data.features"},
		{"sweep unknown key", base + "sweep:\n  data.filtr.top_n: [1, 2]\n", "b.yaml:5:3: sweep.data.filtr.top_n"},
		{"sweep wrong type", base + "sweep:\n  data.filter.top_n: [1, many]\n", "sweep.data.filter.top_n: value \"many\""},
		{"sweep bad value", base + "sweep:\n  split.test: [0.2, 2]\n", "sweep.split.test: value 2: split.test"},
		{"sweep not list", base + "sweep:\n  seed: 3\n", "b.yaml:"},
		{"repeats", base + "repeats: -1\n", "b.yaml:4:1: repeats"},
		{"executor", base + "executor: {kind: cloud}\n", "executor.kind"},
		{"empty", "\n", "empty experiment"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := Parse("b.yaml", []byte(c.yaml))
			if err == nil {
				err = e.Validate(known)
			}
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			if !errors.Is(err, ErrConfig) {
				t.Errorf("error %v does not match ErrConfig", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error\n  %v\nwant it to contain\n  %s", err, c.want)
			}
		})
	}
}

func TestOverrides(t *testing.T) {
	e, err := Parse("x.yaml", []byte(issueExample))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		set   []string
		check func(*Experiment) bool
	}{
		{[]string{"data.filter.top_n=5"}, func(x *Experiment) bool { return x.Data.Filter.TopN == 5 }},
		{[]string{"seed=18446744073709551615"}, func(x *Experiment) bool { return x.Seed == 18446744073709551615 }},
		{[]string{"models.rf.trees=7"}, func(x *Experiment) bool { return x.Models[0].Params["trees"] == 7.0 }},
		{[]string{"models.1.epochs=2"}, func(x *Experiment) bool { return x.Models[1].Params["epochs"] == 2.0 }},
		{[]string{"models.rf.max_depth=4"}, func(x *Experiment) bool { return x.Models[0].Params["max_depth"] == 4.0 }},
		{[]string{"data.features=[stats, seq_dir]"}, func(x *Experiment) bool { return len(x.Data.Features) == 2 && x.Data.Features[1] == "seq_dir" }},
		{[]string{"split.kind=kfold"}, func(x *Experiment) bool { return x.Split.K == 10 && x.Split.Test == 0 }},
		{[]string{"executor.slurm.partition=gpu"}, func(x *Experiment) bool { return x.Executor.Slurm.Partition == "gpu" }},
		{[]string{"description=hello world"}, func(x *Experiment) bool { return x.Description == "hello world" }},
		{[]string{"sweep.data.filter.top_n=[3, 4]"}, func(x *Experiment) bool { return len(x.Sweep) == 1 && len(x.Sweep[0].Values) == 2 }},
	}
	for _, c := range cases {
		var ovs []Override
		for _, s := range c.set {
			o, err := ParseOverride(s)
			if err != nil {
				t.Fatal(err)
			}
			ovs = append(ovs, o)
		}
		got, err := e.Apply(ovs...)
		if err != nil {
			t.Errorf("%v: %v", c.set, err)
			continue
		}
		if err := got.Validate(known); err != nil {
			t.Errorf("%v: %v", c.set, err)
		}
		if !c.check(got) {
			t.Errorf("%v: not applied: %+v", c.set, got)
		}
	}
	if e.Data.Filter.TopN != 25 {
		t.Error("Apply changed its receiver")
	}
	for _, bad := range []string{"data.filtr.top_n=5", "seed=abc", "models.nope.trees=1", "name.x=1", "=3", "novalue"} {
		o, err := ParseOverride(bad)
		if err == nil {
			_, err = e.Apply(o)
		}
		if err == nil || !errors.Is(err, ErrConfig) {
			t.Errorf("--set %s: error %v", bad, err)
		}
	}
}

func TestSweepGridOrder(t *testing.T) {
	e, err := Parse("g.yaml", []byte("name: g\ndata: {path: x}\nmodels: [{name: rf, type: forest}]\nsweep:\n  data.filter.top_n: [1, 2]\n  data.packets: [5, 10, 20]\n"))
	if err != nil {
		t.Fatal(err)
	}
	pts, err := e.Expand()
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 6 {
		t.Fatalf("%d points", len(pts))
	}
	if pts[1].Config.Data.Filter.TopN != 1 || pts[1].Config.Data.Packets != 10 || pts[3].Config.Data.Filter.TopN != 2 || pts[3].Config.Data.Packets != 5 {
		t.Errorf("grid order: %+v %+v", pts[1].Config.Data, pts[3].Config.Data)
	}
	if got := e.Sweep.Keys(); got[0] != "data.filter.top_n" || got[1] != "data.packets" {
		t.Errorf("keys %v", got)
	}
}

func TestHashCanonical(t *testing.T) {
	a, err := Parse("a.yaml", []byte(issueExample))
	if err != nil {
		t.Fatal(err)
	}
	reordered := strings.Replace(issueExample, "seed: 42\nbackend: auto                 # auto | cpu | cuda\n", "backend: auto\nseed: 42   # comment\n", 1)
	b, err := Parse("b.yaml", []byte(reordered))
	if err != nil {
		t.Fatal(err)
	}
	if a.Hash() != b.Hash() {
		t.Error("key order or comments changed the hash")
	}
	c, _ := a.Apply(Override{"seed", 43.0})
	if c.Hash() == a.Hash() {
		t.Error("seed change kept the hash")
	}
	if y := a.YAML(); !strings.Contains(y, "trees: 100\n") || !strings.Contains(y, "- 0.5\n") || !strings.Contains(y, "data.filter.top_n:\n    - 10\n") {
		t.Errorf("YAML form:\n%s", y)
	}
	// The YAML form decodes back to the same experiment.
	d, err := Parse("d.yaml", []byte(a.YAML()))
	if err != nil {
		t.Fatalf("%v\n%s", err, a.YAML())
	}
	if d.Hash() != a.Hash() {
		t.Errorf("YAML round trip changed the hash:\n%s", a.YAML())
	}
}

// TestExperimentsDir loads every shipped experiment. Model types of families that are not
// registered in this package's view are checked against the families the design names.
func TestExperimentsDir(t *testing.T) {
	files, err := filepath.Glob("../../experiments/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no experiments/ directory")
	}
	for _, f := range files {
		if _, err := Load(f, KnownFamilies); err != nil {
			t.Errorf("%v", err)
		}
	}
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "none.yaml"), nil)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(issueExample))
	f.Add([]byte("name: x\n"))
	f.Add([]byte("models: [{name: a, type: b, members: [a]}]\nsweep: {a.b: [1]}\n"))
	f.Add([]byte("{"))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Parse("f.yaml", b)
		if err != nil {
			return
		}
		_ = e.Validate(nil)
		_, _ = e.Expand()
		_ = e.Hash()
	})
}

func FuzzParseOverride(f *testing.F) {
	for _, s := range []string{"data.filter.top_n=5", "models.rf.trees=10", "seed=", "a=[1, {b: c}]", "=x", "sweep.seed=[1,2]"} {
		f.Add(s)
	}
	base, err := Parse("x.yaml", []byte(issueExample))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseOverride(s)
		if err != nil {
			return
		}
		if e, err := base.Apply(o); err == nil {
			_ = e.Validate(nil)
			_ = e.Hash()
		}
	})
}
