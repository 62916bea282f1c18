package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etchlab/etch/harness/eval"
	"github.com/etchlab/etch/harness/model"
)

var update = flag.Bool("update", false, "rewrite golden files")

func fixture(t *testing.T, wall float64) *Results {
	t.Helper()
	classes := []string{"web|mail", "voip", "p2p"}
	res := &Results{
		Experiment: "topn-sweep", RunID: "r1", EtchVersion: "v0.0.0-test", Command: "etch run experiments/x.yaml",
		Config: "name: topn-sweep\nseed: 42\n", ConfigHash: "abc123", Seed: 42,
		Backend:   Backend{Requested: "auto", Used: "cpu", Description: "cpu: 2 threads", Reason: "no CUDA device"},
		Hardware:  Hardware{OS: "linux", Arch: "amd64", Cores: 2, GoVersion: "go1.26"},
		SweepKeys: []string{"data.filter.top_n"},
		Models:    []ModelSpec{{"rf", "forest"}, {"nn", "cnn_lstm"}},
		Reference: &Reference{Source: "Bayat et al. 2021", Rows: []ReferenceRow{{Model: "Random Forest", Setting: "min 100", Accuracy: 0.925, MacroF1: 0.92}}},
		Timing:    Timing{Started: "2026-01-01T00:00:00Z", Finished: "2026-01-01T00:01:00Z", WallSeconds: wall},
	}
	for i, topN := range []float64{2, 3} {
		for rep := range 2 {
			tr := Trial{ID: []string{"t1", "t2"}[i] + []string{"r0", "r1"}[rep], Params: map[string]any{"data.filter.top_n": topN}, Repeat: rep,
				Dataset: Dataset{Path: "d.parquet", Hash: "ffee", Rows: 9, Label: "label", Features: []string{"seq_size"}, SeqLen: 3,
					SeqChannels: []string{"seq_size"}, Filter: "top_n=3", Classes: []ClassCount{{"web|mail", 3}, {"voip", 3}, {"p2p", 3}}},
				Split:  Split{Kind: "stratified", Test: 0.2, Train: 6, TestN: 3},
				Models: map[string]*ModelResult{}}
			y := []int32{0, 0, 1, 1, 2, 2}
			for j, name := range []string{"rf", "nn"} {
				proba := make([]float32, 18)
				for r, c := range y {
					pred := c
					if r == j+rep {
						pred = (c + 1) % 3
					}
					proba[r*3+int(pred)] = 0.8
					proba[r*3+int(pred+1)%3] = 0.2
				}
				m, err := eval.Evaluate(y, proba, classes, eval.Options{Bootstrap: 50, Seed: 1})
				if err != nil {
					t.Fatal(err)
				}
				mr := &ModelResult{Type: res.Models[j].Type, Metrics: *m, FitSeconds: wall, PredictSeconds: wall / 10, Backend: "cpu"}
				if name == "nn" {
					mr.Curve = []model.Epoch{{Epoch: 1, TrainLoss: 1.0, ValLoss: 1.1}, {Epoch: 2, TrainLoss: 0.5, ValLoss: 0.7}}
				}
				tr.Models[name] = mr
			}
			tr.McNemar = []eval.McNemarResult{eval.McNemar("rf", "nn", y, eval.Predict(make([]float32, 18), 3), y)}
			res.Trials = append(res.Trials, tr)
		}
	}
	return res
}

func TestRenderGolden(t *testing.T) {
	dir := t.TempDir()
	res := fixture(t, 1.5)
	if err := Save(dir, res); err != nil {
		t.Fatal(err)
	}
	loaded, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := Render(dir, loaded); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "report.golden.md")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("report differs from %s (go test -update rewrites it):\n%s", golden, got)
	}
	for _, f := range []string{"figures/t1r0-rf-confusion.png", "figures/t1r0-nn-training.png", "figures/sweep-data.filter.top_n.png",
		"confusion/t2r1-nn.csv", "figures/t2r1-rf-f1.png"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("missing %s: %v", f, err)
		}
		if !strings.Contains(string(got), f) {
			t.Errorf("report does not reference %s", f)
		}
	}
	csv, _ := os.ReadFile(filepath.Join(dir, "confusion/t1r0-rf.csv"))
	if !strings.HasPrefix(string(csv), "true\\predicted,web|mail,voip,p2p\nweb|mail,1,1,0\n") {
		t.Errorf("confusion csv:\n%s", csv)
	}
}

func TestReproducibleOutsideTimings(t *testing.T) {
	var outs [][]byte
	var pngs [][]byte
	for _, wall := range []float64{1.5, 99} {
		dir := t.TempDir()
		if err := Render(dir, fixture(t, wall)); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(filepath.Join(dir, ReportFile))
		outs = append(outs, b)
		png, _ := os.ReadFile(filepath.Join(dir, "figures/t1r0-rf-confusion.png"))
		pngs = append(pngs, png)
	}
	if bytes.Equal(outs[0], outs[1]) {
		t.Fatal("timings did not change the report: the fixture does not exercise the test")
	}
	if !bytes.Equal(StripTimings(outs[0]), StripTimings(outs[1])) {
		t.Error("reports differ outside the timings section")
	}
	if !bytes.Equal(pngs[0], pngs[1]) {
		t.Error("figures differ between identical renders")
	}
	if bytes.Contains(StripTimings(outs[0]), []byte("fit s")) {
		t.Error("StripTimings left the timings table")
	}
}

func TestCompare(t *testing.T) {
	a, b := fixture(t, 1), fixture(t, 2)
	b.RunID = "r2"
	b.Trials[0].Models["rf"].Accuracy = 1
	var out bytes.Buffer
	if err := Compare(&out, a, b); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	if !strings.Contains(s, "+0.083") || !strings.Contains(s, "+0.000") || !strings.Contains(s, "data.filter.top_n=3") {
		t.Errorf("compare output:\n%s", s)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir); err == nil {
		t.Error("missing results.json accepted")
	}
	os.WriteFile(filepath.Join(dir, ResultsFile), []byte("{bad"), 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), ResultsFile) {
		t.Errorf("bad json: %v", err)
	}
}
