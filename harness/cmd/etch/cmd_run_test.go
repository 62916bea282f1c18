package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etchlab/etch/harness/config"
	"github.com/etchlab/etch/harness/report"
	"github.com/etchlab/etch/harness/runner/runnertest"
)

// asEtch makes the test binary act as etch when it is started as a worker process by the
// process executor (os.Executable() is the test binary).
const asEtch = "ETCH_TEST_RUN_AS_ETCH"

func TestMain(m *testing.M) {
	if os.Getenv(asEtch) == "1" {
		e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, version: "test"}
		e.log = newTestLogger(os.Stderr)
		os.Exit(run(context.Background(), e, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// shrink returns overrides that make an experiment's models tiny, for tests.
func shrink(t *testing.T, file string) []string {
	t.Helper()
	exp, err := config.Load(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	var sets []string
	for _, m := range exp.Models {
		p := "models." + m.Name + "."
		switch m.Type {
		case "forest":
			sets = append(sets, p+"trees=5")
		case "dnn":
			sets = append(sets, p+"epochs=1")
		case "cnn_lstm":
			sets = append(sets, p+"epochs=1", p+"filters=[8]", p+"units=[8]", p+"dense=[8]")
		case "cnn_gru":
			sets = append(sets, p+"epochs=1", p+"filters=[8, 8]", p+"units=[8]", p+"dense=[8]")
		}
	}
	if exp.Split.Kind == "kfold" {
		sets = append(sets, "split.k=2")
	}
	return sets
}

func setArgs(sets []string) []string {
	var out []string
	for _, s := range sets {
		out = append(out, "--set", s)
	}
	return out
}

// TestExperiments runs every shipped experiment end to end on a small generated dataset, with
// its models shrunk, and checks the run directory.
func TestExperiments(t *testing.T) {
	files, err := filepath.Glob("../../../experiments/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no experiments: %v", err)
	}
	dir := t.TempDir()
	ds := filepath.Join(dir, "flows.parquet")
	// Source import:gcseq: the data looks like the reference study's, so bayat2021 shows its table.
	if err := runnertest.WriteDataset(ds, runnertest.Options{Flows: 400, Seed: 1, SeqLen: 25, Source: "import:gcseq"}); err != nil {
		t.Fatal(err)
	}
	ref, _ := filepath.Abs("../../../../shared/data/bayat2021-results")
	_, refErr := os.Stat(filepath.Join(ref, "final_results.csv"))
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			sets := append(shrink(t, f), "data.path="+ds)
			if name == "bayat2021" {
				sets = append(sets, "data.filter.min_count=20", "reference="+ref)
			}
			out := filepath.Join(dir, "runs", name)
			args := append([]string{"run", f, "--out", out, "--cache", filepath.Join(dir, "cache"), "--progress", "none"}, setArgs(sets)...)
			code, stdout, stderr := runCLI(t, args...)
			if code != 0 {
				t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
			}
			if strings.TrimSpace(stdout) != filepath.Join(out, report.ReportFile) {
				t.Errorf("stdout %q", stdout)
			}
			res, err := report.Load(out)
			if err != nil {
				t.Fatal(err)
			}
			for _, tr := range res.Trials {
				if tr.Error != "" || len(tr.Models) != len(res.Models) {
					t.Errorf("trial %s: %q, %d models", tr.ID, tr.Error, len(tr.Models))
				}
			}
			md, err := os.ReadFile(filepath.Join(out, report.ReportFile))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"## Summary", "## Reproducibility", "re-run: `etch run ../../../experiments/" + name + ".yaml --set"} {
				if !bytes.Contains(md, []byte(want)) {
					t.Errorf("report lacks %q", want)
				}
			}
			if name == "bayat2021" && refErr == nil && !bytes.Contains(md, []byte("## Reference results")) {
				t.Error("bayat2021 report lacks the reference results")
			}
		})
	}
}

// TestRunProcessExecutor runs the smoke experiment in worker processes and checks that the
// report equals the local executor's outside the timings, then re-renders and compares runs.
func TestRunProcessExecutor(t *testing.T) {
	dir := t.TempDir()
	ds := filepath.Join(dir, "flows.parquet")
	if err := runnertest.WriteDataset(ds, runnertest.Options{Flows: 200, Seed: 2, SeqLen: 20}); err != nil {
		t.Fatal(err)
	}
	const file = "../../../experiments/smoke.yaml"
	sets := append(shrink(t, file), "data.path="+ds, "sweep.data.filter.top_n=[3, 4]")
	t.Setenv(asEtch, "1")
	var bodies [][]byte
	for _, ex := range []string{"local", "process"} {
		out := filepath.Join(dir, ex)
		args := append([]string{"run", file, "--out", out, "--cache", "off", "--executor", ex, "--progress", "lines"}, setArgs(sets)...)
		code, stdout, stderr := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s\n%s", ex, code, stdout, stderr)
		}
		if !strings.Contains(stderr, "2/2 trial(s) done, 0 failed") || !strings.Contains(stderr, "trial t1r0: cnnlstm epoch 1/1") {
			t.Errorf("%s: progress lines:\n%s", ex, stderr)
		}
		md, err := os.ReadFile(filepath.Join(out, report.ReportFile))
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, report.StripTimings(md))
	}
	if !bytes.Equal(bodies[0], bodies[1]) {
		t.Error("process executor's report differs from the local one outside timings")
	}
	if _, err := os.Stat(filepath.Join(dir, "process", "trials", "t1r0.result.json")); err != nil {
		t.Errorf("process executor left no result file: %v", err)
	}

	// etch report re-renders the same body from results.json.
	local := filepath.Join(dir, "local")
	if code, _, stderr := runCLI(t, "report", local); code != 0 {
		t.Fatalf("report: %s", stderr)
	}
	md, _ := os.ReadFile(filepath.Join(local, report.ReportFile))
	if !bytes.Equal(report.StripTimings(md), bodies[0]) {
		t.Error("etch report changed the report body")
	}
	// Without results.json, etch report collects the finished trials from the run's plan.
	proc := filepath.Join(dir, "process")
	if err := os.Remove(filepath.Join(proc, report.ResultsFile)); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCLI(t, "report", proc); code != 0 {
		t.Fatalf("report (collect): %s", stderr)
	}
	md, _ = os.ReadFile(filepath.Join(proc, report.ReportFile))
	if !bytes.Equal(report.StripTimings(md), bodies[1]) {
		t.Errorf("collected report differs:\n%s", report.StripTimings(md))
	}
	code, stdout, stderr := runCLI(t, "compare", local, filepath.Join(dir, "process"))
	if code != 0 || !strings.Contains(stdout, "Δ accuracy") {
		t.Errorf("compare: %d %s %s", code, stdout, stderr)
	}

	// etch trial run on a spec file writes the result beside it.
	spec := filepath.Join(dir, "process", "trials", "t2r0.spec.json")
	b, err := os.ReadFile(spec)
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	s["result"] = ""
	b, _ = json.Marshal(s)
	spec2 := filepath.Join(dir, "again.spec.json")
	if err := os.WriteFile(spec2, b, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runCLI(t, "trial", "run", spec2)
	if code != 0 || !strings.Contains(stdout, "trial t2r0 ok") {
		t.Errorf("trial run: %d %s %s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "again.result.json")); err != nil {
		t.Error(err)
	}
}

func TestValidateAndUsage(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: x\ndata:\n  path: f.parquet\n  filter: {topn: 3}\nmodels: [{name: rf, type: forest}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		code int
		out  string
		err  string
	}{
		{[]string{"validate", "../../../experiments/smoke.yaml"}, 0, "smoke.yaml: ok: experiment smoke, 1 trial(s)", ""},
		{[]string{"validate", "../../../experiments/default.yaml", "--set", "repeats=2"}, 0, "6 trial(s) (3 sweep point(s) × 2 repeat(s))", ""},
		{[]string{"validate", bad}, 1, "", "bad.yaml:4:12: unknown field \"topn\""},
		{[]string{"validate", "../../../experiments/smoke.yaml", "--set", "models.rf.type=tree"}, 1, "", `unknown model type "tree"`},
		{[]string{"validate", "../../../experiments/smoke.yaml", "--set", "nokey"}, 1, "", "want key=value"},
		{[]string{"validate"}, 2, "", "want an experiment file"},
		{[]string{"run"}, 2, "", "want one experiment file"},
		{[]string{"run", "../../../experiments/smoke.yaml", "--progress", "fancy"}, 2, "", "--progress"},
		{[]string{"run", filepath.Join(dir, "none.yaml")}, 1, "", "no such file"},
		{[]string{"report", dir}, 1, "", "is not a run directory of etch run (no plan.json or results.json)"},
		{[]string{"status", dir}, 1, "", "is not a run directory"},
		{[]string{"compare", dir}, 2, "", "two run directories"},
		{[]string{"trial"}, 2, "", "etch trial run SPEC"},
		{[]string{"trial", "run", bad}, 1, "", "bad trial file"},
	}
	for _, c := range cases {
		code, out, errs := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(out, c.out) || !strings.Contains(errs, c.err) {
			t.Errorf("etch %v = %d\nstdout %q\nstderr %q", c.args, code, out, errs)
		}
	}
}

func TestRerunCommand(t *testing.T) {
	got := rerunCommand("experiments/x.yaml", []string{"data.filter.top_n=5", "description=two words"})
	want := "etch run experiments/x.yaml --set data.filter.top_n=5 --set 'description=two words'"
	if got != want {
		t.Errorf("got %s", got)
	}
}
