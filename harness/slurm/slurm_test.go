package slurm

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/etchlab/etch/harness/config"
	"github.com/etchlab/etch/harness/report"
	"github.com/etchlab/etch/harness/runner"
	"github.com/etchlab/etch/harness/runner/runnertest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// workerEnv makes the test binary act as etch's worker and merge commands when a (fake) Slurm
// task starts it: `trial run SPEC` and `report --collect DIR`.
const workerEnv = "ETCH_SLURM_TEST_WORKER"

func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) == "1" {
		os.Exit(worker(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func worker(args []string) int {
	ctx := context.Background()
	switch {
	case len(args) == 3 && args[0] == "trial" && args[1] == "run":
		w := &runner.Worker{Registry: runner.DefaultRegistry("")}
		w.Progress = func(trial, model string, done, total int, unit string) {
			fmt.Fprintln(os.Stderr, runner.ProgressLine(trial, model, done, total, unit))
		}
		if _, err := runner.RunSpecFile(ctx, args[2], w); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	case len(args) == 3 && args[0] == "report" && args[1] == "--collect":
		dir := args[2]
		err := Merge(ctx, &Client{}, dir, nil)
		if err == nil {
			var res *report.Results
			if res, err = runner.Collect(dir, nil); err == nil {
				if err = report.Save(dir, res); err == nil {
					err = report.Render(dir, res)
				}
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(os.Stderr, "test worker: unexpected arguments %q\n", args)
	return 2
}

// fakeSlurm puts the fake Slurm commands (testdata/bin) first on PATH with a fresh state
// directory, and returns that directory.
func fakeSlurm(t *testing.T) string {
	t.Helper()
	bin, err := filepath.Abs("testdata/bin")
	if err != nil {
		t.Fatal(err)
	}
	d := t.TempDir()
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAKE_SLURM_DIR", d)
	t.Setenv("FAKE_SLURM_NODES", "")
	t.Setenv(workerEnv, "1")
	t.Cleanup(func() {
		// Stop whatever the fake cluster still runs, so the temporary directories can go.
		_ = os.Remove(filepath.Join(d, "hold"))
		refs, _ := filepath.Glob(filepath.Join(d, "jobs", "*"))
		var ids []string
		for _, r := range refs {
			if !strings.Contains(r, ".") {
				ids = append(ids, filepath.Base(r))
			}
		}
		_ = (&Client{}).Cancel(context.Background(), ids...)
		waitFor(t, 20*time.Second, func() bool {
			busy, _ := os.ReadDir(filepath.Join(d, "busy"))
			return len(busy) == 0
		})
	})
	return d
}

// anyActive reports whether a fake job is queued or running.
func anyActive(d string) bool {
	refs, _ := filepath.Glob(filepath.Join(d, "jobs", "*"))
	for _, r := range refs {
		if strings.Contains(filepath.Base(r), ".") {
			continue
		}
		b, _ := os.ReadFile(r)
		if Active(strings.TrimSpace(string(b))) {
			return true
		}
	}
	return false
}

func waitFor(t *testing.T, limit time.Duration, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("condition not met within %s", limit)
}

// experiment returns a 4-trial experiment (a top-N sweep of a small forest) on a generated dataset.
func experiment(t *testing.T, dir string) *config.Experiment {
	t.Helper()
	ds := filepath.Join(dir, "flows.parquet")
	if err := runnertest.WriteDataset(ds, runnertest.Options{Flows: 200, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	y := fmt.Sprintf(`name: slurm-test
seed: 7
backend: cpu
data: {path: %s, label: label, features: [stats]}
split: {kind: stratified, test: 0.3}
models:
  - {name: rf, type: forest, trees: 3}
sweep:
  data.filter.top_n: [3, 4, 5, 6]
`, ds)
	exp, err := config.Parse("slurm-test.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	if err := exp.Validate(runner.DefaultRegistry("").Types()); err != nil {
		t.Fatal(err)
	}
	return exp
}

// recorder is a runner.Progress that records what it is told.
type recorder struct {
	started, units, done []string
}

func (r *recorder) Begin(int, int)         {}
func (r *recorder) TrialStarted(id string) { r.started = append(r.started, id) }
func (r *recorder) Unit(trial, model string, done, total int, unit string) {
	r.units = append(r.units, fmt.Sprintf("%s %s %s %d/%d", trial, model, unit, done, total))
}
func (r *recorder) TrialDone(res *runner.TrialResult) { r.done = append(r.done, res.Trial.ID) }
func (r *recorder) End()                              {}

// run runs exp with the executor kind into out and returns the report body (timings stripped).
func run(t *testing.T, ctx context.Context, exp *config.Experiment, kind, out string, ex Executor, prog runner.Progress) (*runner.Outcome, []byte, error) {
	t.Helper()
	execs := runner.DefaultExecutors()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ex.Command = []string{exe, "trial", "run"}
	ex.MergeCommand = []string{exe, "report", "--collect"}
	ex.Poll = 100 * time.Millisecond
	execs["slurm"] = Factory(ex, nil)
	o, err := runner.Run(ctx, exp, runner.Options{Version: "test", OutDir: out, CacheDir: filepath.Join(filepath.Dir(out), "cache-"+kind),
		Executor: kind, Executors: execs, Registry: runner.DefaultRegistry(""), Command: "etch run slurm-test.yaml", Progress: prog})
	if err != nil {
		return o, nil, err
	}
	md, rerr := os.ReadFile(filepath.Join(out, report.ReportFile))
	if rerr != nil {
		t.Fatal(rerr)
	}
	return o, report.StripTimings(md), nil
}

func calls(t *testing.T, d, prefix string) []string {
	t.Helper()
	b, _ := os.ReadFile(filepath.Join(d, "calls"))
	var out []string
	for l := range strings.SplitSeq(string(b), "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

// arraysSubmitted returns the --array values of the scripts submitted so far.
func arraysSubmitted(t *testing.T, dir string) []string {
	t.Helper()
	st, err := ReadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range st.Submissions {
		b, err := os.ReadFile(s.Script)
		if err != nil {
			t.Fatal(err)
		}
		for l := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "#SBATCH --array="); ok {
				out = append(out, v)
			}
		}
	}
	return out
}

// TestExecutorMatchesLocal runs a 4-trial sweep on the fake cluster and locally: same report
// body, progress from the tasks' logs, one array and one merge job submitted.
func TestExecutorMatchesLocal(t *testing.T) {
	d := fakeSlurm(t)
	dir := t.TempDir()
	exp := experiment(t, dir)
	_, local, err := run(t, context.Background(), exp, "local", filepath.Join(dir, "local"), Executor{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	prog := &recorder{}
	sdir := filepath.Join(dir, "slurm run") // a space: #SBATCH values are quoted
	o, body, err := run(t, context.Background(), exp, "slurm", sdir, Executor{Out: &out}, prog)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !bytes.Equal(local, body) {
		t.Errorf("slurm report differs from the local one outside timings:\n%s", body)
	}
	if o.Ran != 4 || o.Failed != 0 {
		t.Errorf("ran %d, failed %d", o.Ran, o.Failed)
	}
	if got := calls(t, d, "sbatch"); len(got) != 2 {
		t.Errorf("sbatch calls %q, want the array and the merge job", got)
	}
	if got := arraysSubmitted(t, sdir); !reflect.DeepEqual(got, []string{"0-3"}) {
		t.Errorf("arrays %q", got)
	}
	slices.Sort(prog.started)
	if !reflect.DeepEqual(prog.started, []string{"t1r0", "t2r0", "t3r0", "t4r0"}) || !slices.Contains(prog.units, "t2r0 rf trees 3/3") {
		t.Errorf("progress: started %q, units %q", prog.started, prog.units)
	}
	if !strings.Contains(out.String(), "submitted job array 100 (4 task(s), --array=0-3) and merge job 101") ||
		!strings.Contains(out.String(), "is this machine") {
		t.Errorf("messages:\n%s", out.String())
	}
	// The merge job renders the same body; a re-run finds every trial cached and submits nothing.
	waitFor(t, 20*time.Second, func() bool { return !anyActive(d) })
	if _, err := os.Stat(filepath.Join(sdir, "slurm", "merge-101.log")); err != nil {
		t.Errorf("merge job did not run: %v", err)
	}
	md, _ := os.ReadFile(filepath.Join(sdir, report.ReportFile))
	if !bytes.Equal(report.StripTimings(md), local) {
		t.Error("the merge job's report differs")
	}
	o, _, err = run(t, context.Background(), exp, "slurm", sdir, Executor{Out: &out}, nil)
	if err != nil || o.Cached != 4 || len(calls(t, d, "sbatch")) != 2 {
		t.Errorf("re-run: %v, %d cached, sbatch %q", err, o.Cached, calls(t, d, "sbatch"))
	}
}

// TestCancelledTaskAndRerun detaches, cancels one task before it starts, checks that status and
// the merged report name it, then re-runs: only that trial is submitted, and the report is whole.
func TestCancelledTaskAndRerun(t *testing.T) {
	d := fakeSlurm(t)
	dir := t.TempDir()
	exp := experiment(t, dir)
	_, local, err := run(t, context.Background(), exp, "local", filepath.Join(dir, "local"), Executor{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d, "hold"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	sdir := filepath.Join(dir, "slurm")
	var out bytes.Buffer
	_, _, err = run(t, context.Background(), exp, "slurm", sdir, Executor{Out: &out, Settings: Settings{Detach: true, MaxParallel: 1}}, nil)
	if !errors.Is(err, ErrDetached) {
		t.Fatalf("detached run: %v", err)
	}
	states, err := Status(context.Background(), &Client{}, sdir)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range states {
		if s.State != StatePending || s.Task == "" {
			t.Errorf("before: %+v", s)
		}
	}
	if err := (&Client{}).Cancel(context.Background(), "100_2"); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(d, "hold")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, func() bool { return !anyActive(d) })
	states, err = Status(context.Background(), &Client{}, sdir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range states {
		got[s.ID] = s.State
	}
	want := map[string]string{"t1r0": StateDone, "t2r0": StateDone, "t3r0": StateCancelled, "t4r0": StateDone}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("after: %v", states)
	}
	md, err := os.ReadFile(filepath.Join(sdir, report.ReportFile))
	if err != nil {
		t.Fatalf("the merge job wrote no report: %v", err)
	}
	if !bytes.Contains(md, []byte("### Trial t3r0")) || !bytes.Contains(md, []byte("slurm: task 100_2 CANCELLED")) {
		t.Errorf("report lacks the cancelled trial:\n%s", md)
	}
	// The re-run submits only t3r0 (array index 2) and completes the report.
	o, body, err := run(t, context.Background(), exp, "slurm", sdir, Executor{Out: &out}, nil)
	if err != nil {
		t.Fatalf("re-run: %v\n%s", err, out.String())
	}
	if got := arraysSubmitted(t, sdir); !reflect.DeepEqual(got, []string{"0-3%1", "2"}) {
		t.Errorf("arrays %q", got)
	}
	if o.Cached != 3 || o.Ran != 1 || o.Failed != 0 {
		t.Errorf("re-run: %d cached, %d ran, %d failed", o.Cached, o.Ran, o.Failed)
	}
	if !bytes.Equal(body, local) {
		t.Errorf("re-run report differs from the local one:\n%s", body)
	}
}

// TestFailedTask: a worker that dies without a result, or is killed while it runs (scancel of
// its array index), is reported with its state, exit code and log tail in the follower's report.
func TestFailedTask(t *testing.T) {
	for _, tc := range []struct {
		name, script, kill, err, log string
	}{
		{"exit", "echo worker exploded >&2; exit 3", "", "slurm: task 100_0 FAILED (exit code 3:0)", "worker exploded"},
		{"scancel", "echo worker started >&2; exec sleep 30", "100_0", "slurm: task 100_0 CANCELLED (exit code 143:0)", "worker started"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fakeSlurm(t)
			dir := t.TempDir()
			exp := experiment(t, dir)
			exp.Sweep = nil
			execs := runner.DefaultExecutors()
			execs["slurm"] = Factory(Executor{Command: []string{"sh", "-c", tc.script, "sh"},
				MergeCommand: []string{"true"}, Poll: 100 * time.Millisecond}, nil)
			if tc.kill != "" {
				go func() {
					waitFor(t, 10*time.Second, func() bool {
						b, _ := os.ReadFile(filepath.Join(dir, "run", "slurm", tc.kill+".log"))
						return bytes.Contains(b, []byte(tc.log))
					})
					_ = (&Client{}).Cancel(context.Background(), tc.kill)
				}()
			}
			o, err := runner.Run(context.Background(), exp, runner.Options{Version: "test", OutDir: filepath.Join(dir, "run"), CacheDir: "off",
				Executor: "slurm", Executors: execs, Registry: runner.DefaultRegistry("")})
			if err != nil {
				t.Fatal(err)
			}
			if o.Failed != 1 {
				t.Fatalf("failed %d", o.Failed)
			}
			tr := o.Results.Trials[0]
			if tr.Error != tc.err || !strings.Contains(tr.LogTail, tc.log) {
				t.Errorf("error %q, log tail %q", tr.Error, tr.LogTail)
			}
			md, _ := os.ReadFile(filepath.Join(dir, "run", report.ReportFile))
			if !bytes.Contains(md, []byte(tc.err)) || !bytes.Contains(md, []byte(tc.log)) {
				t.Errorf("report lacks the failure:\n%s", md)
			}
		})
	}
}

// TestInterrupt: Ctrl-C while following asks whether to cancel; yes cancels the array and the
// merge job, no (or no terminal) leaves them and says how to cancel.
func TestInterrupt(t *testing.T) {
	for _, yes := range []bool{true, false} {
		t.Run(fmt.Sprint("cancel=", yes), func(t *testing.T) {
			d := fakeSlurm(t)
			dir := t.TempDir()
			exp := experiment(t, dir)
			if err := os.WriteFile(filepath.Join(d, "hold"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			var out bytes.Buffer
			var asked string
			ex := Executor{Out: &out}
			if yes {
				ex.Confirm = func(q string) bool { asked = q; return true }
			}
			go func() {
				waitFor(t, 10*time.Second, func() bool {
					st, err := ReadState(filepath.Join(dir, "run"))
					return err == nil && len(st.Submissions) == 1 && st.Submissions[0].Merge != ""
				})
				cancel()
			}()
			_, _, err := run(t, ctx, exp, "slurm", filepath.Join(dir, "run"), ex, nil)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err %v", err)
			}
			scancel := calls(t, d, "scancel")
			if yes {
				if !strings.Contains(asked, "(100 101)") || !reflect.DeepEqual(scancel, []string{"scancel 100 101"}) {
					t.Errorf("asked %q, scancel %q", asked, scancel)
				}
			} else if len(scancel) != 0 || !strings.Contains(out.String(), "`scancel 100 101` cancels them") {
				t.Errorf("scancel %q, messages:\n%s", scancel, out.String())
			}
		})
	}
}

// TestAdopt: a re-run while the tasks of a detached run are still queued follows them instead of
// submitting them again.
func TestAdopt(t *testing.T) {
	d := fakeSlurm(t)
	dir := t.TempDir()
	exp := experiment(t, dir)
	if err := os.WriteFile(filepath.Join(d, "hold"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	sdir := filepath.Join(dir, "run")
	var out bytes.Buffer
	if _, _, err := run(t, context.Background(), exp, "slurm", sdir, Executor{Out: &out, Settings: Settings{Detach: true}}, nil); !errors.Is(err, ErrDetached) {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		_ = os.Remove(filepath.Join(d, "hold"))
	}()
	o, _, err := run(t, context.Background(), exp, "slurm", sdir, Executor{Out: &out}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.Ran != 4 || len(calls(t, d, "sbatch")) != 2 || !strings.Contains(out.String(), "following 4 trial(s) still queued or running in job(s) 100") {
		t.Errorf("ran %d, sbatch %q\n%s", o.Ran, calls(t, d, "sbatch"), out.String())
	}
}

func TestCheckShared(t *testing.T) {
	fakeSlurm(t)
	dir := t.TempDir()
	c := &Client{}
	chk, err := CheckShared(context.Background(), c, "", dir)
	if err != nil || !chk.Verified || !strings.Contains(chk.Message, "is this machine") {
		t.Errorf("single node: %+v %v", chk, err)
	}
	kind, _ := fsKind(dir)
	t.Setenv("FAKE_SLURM_NODES", "node1 node2")
	chk, err = CheckShared(context.Background(), c, "gpu", dir)
	switch kind {
	case fsLocal:
		if !errors.Is(err, ErrNotShared) || !strings.Contains(err.Error(), "node1, node2") {
			t.Errorf("two nodes, local dir: %+v %v", chk, err)
		}
	case fsShared:
		if err != nil || !chk.Verified {
			t.Errorf("two nodes, shared dir: %+v %v", chk, err)
		}
	default:
		if err != nil || chk.Verified || !strings.Contains(chk.Message, "cannot verify") {
			t.Errorf("two nodes, unknown dir: %+v %v", chk, err)
		}
	}
	if got := calls(t, os.Getenv("FAKE_SLURM_DIR"), "sinfo"); len(got) == 0 || !strings.HasSuffix(got[len(got)-1], "-p gpu") {
		t.Errorf("sinfo calls %q", got)
	}
	t.Setenv("PATH", t.TempDir()) // no sinfo at all
	chk, err = CheckShared(context.Background(), c, "", dir)
	if kind != fsShared && (err != nil || chk.Verified || !strings.Contains(chk.Message, "cannot verify")) {
		t.Errorf("no sinfo: %+v %v", chk, err)
	}
}

func TestScriptGolden(t *testing.T) {
	j := arrayJob{Name: jobName("top n/sweep"), Dir: "/shared/runs/x y",
		Settings: Settings{Partition: "gpu", Time: "1:00:00", CPUsPerTask: 4, Mem: "8G", GPUs: 1, MaxParallel: 2},
		Specs:    map[int]string{0: "/shared/runs/x y/trials/t1r0.spec.json", 3: "/shared/runs/x y/trials/t2r1.spec.json"},
		Command:  []string{"/opt/etch/bin/etch", "trial", "run"}}
	got := j.script() + "---\n" + j.mergeScript([]string{"12", "9"}, []string{"/opt/etch/bin/etch", "report", "--collect"})
	golden := filepath.Join("testdata", "scripts.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("scripts differ from %s (go test -update rewrites it):\n%s", golden, got)
	}
}

func TestWithDefaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		flag Settings
		exp  config.Experiment
		want Settings
	}{
		{"empty", Settings{}, config.Experiment{Backend: "cpu"}, Settings{CPUsPerTask: 1}},
		{"yaml", Settings{}, config.Experiment{Backend: "auto", Executor: config.Executor{Slurm: &config.Slurm{Partition: "p", Time: "10",
			CPUsPerTask: 2, Mem: "1G", GPUs: 2, MaxParallel: 3}}}, Settings{Partition: "p", Time: "10", CPUsPerTask: 2, Mem: "1G", GPUs: 2, MaxParallel: 3}},
		{"flags win", Settings{Partition: "f", CPUsPerTask: 8, MaxParallel: 1}, config.Experiment{Executor: config.Executor{Jobs: 4, Threads: 2,
			Slurm: &config.Slurm{Partition: "p", CPUsPerTask: 2}}}, Settings{Partition: "f", CPUsPerTask: 8, MaxParallel: 1}},
		{"executor jobs and threads", Settings{}, config.Experiment{Executor: config.Executor{Jobs: 4, Threads: 2}}, Settings{CPUsPerTask: 2, MaxParallel: 4}},
		{"cuda gets a GPU", Settings{}, config.Experiment{Backend: "cuda"}, Settings{CPUsPerTask: 1, GPUs: 1}},
	} {
		if got := tc.flag.WithDefaults(&tc.exp); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestParseQueue(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []Task
		err  bool
	}{
		{"12_0|RUNNING|None\n12_1|PENDING|Resources\n", []Task{{Job: "12", Index: 0, State: "RUNNING", Reason: "None"},
			{Job: "12", Index: 1, State: "PENDING", Reason: "Resources"}}, false},
		{"13|COMPLETED|None\n", []Task{{Job: "13", Index: -1, State: "COMPLETED", Reason: "None"}}, false},
		{"12_[2-3%1]|PENDING|JobArrayTaskLimit", []Task{{Job: "12", Index: 2, State: "PENDING", Reason: "JobArrayTaskLimit"},
			{Job: "12", Index: 3, State: "PENDING", Reason: "JobArrayTaskLimit"}}, false},
		{"", nil, false},
		{"12_0 RUNNING", nil, true},
		{"12_0||None", nil, true},
		{"x_0|RUNNING|None", nil, true},
		{"12_-1|RUNNING|None", nil, true},
	} {
		got, err := parseQueue([]byte(tc.in))
		if (err != nil) != tc.err || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseQueue(%q) = %+v, %v", tc.in, got, err)
		}
	}
}

func TestParseAccountingAndExitCodes(t *testing.T) {
	got, err := parseAccounting([]byte("12_0|COMPLETED|0:0\n12_1|CANCELLED by 0|0:15\n12_[2-3]|PENDING|0:0\n"))
	want := []Task{{Job: "12", Index: 0, State: "COMPLETED", ExitCode: "0:0"}, {Job: "12", Index: 1, State: "CANCELLED", ExitCode: "0:15"},
		{Job: "12", Index: 2, State: "PENDING", ExitCode: "0:0"}, {Job: "12", Index: 3, State: "PENDING", ExitCode: "0:0"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("parseAccounting = %+v, %v", got, err)
	}
	if _, err := parseAccounting([]byte("12_0|COMPLETED\n")); !errors.Is(err, ErrCommand) {
		t.Errorf("short line: %v", err)
	}
	codes, err := parseExitCodes([]byte("JobId=14 ArrayJobId=12 ArrayTaskId=2 JobState=FAILED ExitCode=3:0 StdOut=/x\n" +
		"JobId=12 ArrayJobId=12 ArrayTaskId=4-5 JobState=PENDING ExitCode=0:0\nJobId=20 JobState=COMPLETED ExitCode=0:0\n"))
	if err != nil || !reflect.DeepEqual(codes, map[int]string{2: "3:0", 4: "0:0", 5: "0:0"}) {
		t.Errorf("parseExitCodes = %v, %v", codes, err)
	}
}

func TestParseArray(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
		err  bool
	}{
		{"0-3", []int{0, 1, 2, 3}, false},
		{"1,4,7-9%2", []int{1, 4, 7, 8, 9}, false},
		{"0-10:5", []int{0, 5, 10}, false},
		{"5", []int{5}, false},
		{"", nil, true},
		{"3-1", nil, true},
		{"a", nil, true},
		{"0-4:0", nil, true},
		{"0-99999999", nil, true},
	} {
		got, err := ParseArray(tc.in)
		if (err != nil) != tc.err || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseArray(%q) = %v, %v", tc.in, got, err)
		}
		if err == nil && !strings.Contains(tc.in, ":") {
			if back, _ := ParseArray(FormatArray(got, 0)); !reflect.DeepEqual(back, got) {
				t.Errorf("FormatArray(%v) = %q does not read back", got, FormatArray(got, 0))
			}
		}
	}
	if got := FormatArray([]int{0, 1, 2, 5, 7, 8}, 3); got != "0-2,5,7-8%3" {
		t.Errorf("FormatArray = %q", got)
	}
}

func TestParseSubmit(t *testing.T) {
	for in, want := range map[string]string{"42\n": "42", "42;cluster\n": "42", "sbatch: warning: x\n43\n": "43", "nope": ""} {
		got, err := parseSubmit([]byte(in))
		if got != want || (err != nil) != (want == "") {
			t.Errorf("parseSubmit(%q) = %q, %v", in, got, err)
		}
	}
}

func FuzzParseArray(f *testing.F) {
	for _, s := range []string{"0-3", "1,4,7-9%2", "0-10:5", "", "3-1", "0-4:0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ids, err := ParseArray(s)
		if err != nil {
			return
		}
		if len(ids) > maxArrayTasks {
			t.Fatalf("%d tasks", len(ids))
		}
		sorted := slices.IsSorted(ids) && len(slices.Compact(slices.Clone(ids))) == len(ids)
		if back, err := ParseArray(FormatArray(ids, 0)); sorted && (err != nil || !slices.Equal(back, ids)) {
			t.Fatalf("%q → %v → %q → %v, %v", s, ids, FormatArray(ids, 0), back, err)
		}
	})
}

func FuzzParseQueue(f *testing.F) {
	for _, s := range []string{"12_0|RUNNING|None\n", "13|COMPLETED|None", "12_[2-3%1]|PENDING|x", "a|b", "12_|X|Y"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tasks, err := parseQueue(b)
		if err == nil {
			for _, task := range tasks {
				if task.Job == "" || task.Index < -1 {
					t.Fatalf("task %+v from %q", task, b)
				}
			}
		}
		_, _ = parseAccounting(b)
		_, _ = parseExitCodes(b)
	})
}
