package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/etchlab/etch/harness/report"
	"github.com/etchlab/etch/harness/runner/runnertest"
	"github.com/etchlab/etch/harness/slurm"
)

// TestSlurmFake runs the Slurm scenario on the fake cluster (harness/slurm/testdata/bin on PATH):
// always, so `go test ./...` covers the command line without Slurm.
func TestSlurmFake(t *testing.T) {
	bin, err := filepath.Abs("../../slurm/testdata/bin")
	if err != nil {
		t.Fatal(err)
	}
	d := t.TempDir()
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAKE_SLURM_DIR", d)
	t.Setenv("FAKE_SLURM_NODES", "")
	t.Cleanup(func() {
		_ = os.Remove(filepath.Join(d, "hold"))
		for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			if busy, _ := os.ReadDir(filepath.Join(d, "busy")); len(busy) == 0 {
				return
			}
		}
	})
	slurmScenario(t, func() { _ = os.WriteFile(filepath.Join(d, "hold"), nil, 0o644) }, func() { _ = os.Remove(filepath.Join(d, "hold")) })
}

// TestSlurmCluster runs the same scenario on a real Slurm cluster (make slurm-up; make
// slurm-test). It runs when sinfo answers, and must run (fails otherwise) with ETCH_SLURM=1.
func TestSlurmCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "sinfo", "-h", "-o", "%P %a").CombinedOutput()
	switch {
	case err != nil && os.Getenv("ETCH_SLURM") == "1":
		t.Fatalf("ETCH_SLURM=1 but sinfo fails (is the cluster up, SLURM_CONF exported? make slurm-up): %v: %s", err, out)
	case err != nil:
		t.Skipf("no Slurm cluster answers (sinfo: %v); make slurm-test starts one and runs this test", err)
	}
	slurmScenario(t, func() {}, func() {})
}

// slurmScenario: a 4-trial sweep through Slurm gives the local executor's report body; a
// detached run with one task cancelled (scancel JOB_3) is reported by etch status and the merge
// job's report; re-running submits only that trial and completes the report. hold and release
// keep the fake cluster from starting tasks while the test cancels one.
func slurmScenario(t *testing.T, hold, release func()) {
	dir := t.TempDir()
	t.Cleanup(func() { waitJobs(t, filepath.Join(dir, "slurm"), filepath.Join(dir, "kill")) })
	ds := filepath.Join(dir, "flows.parquet")
	if err := runnertest.WriteDataset(ds, runnertest.Options{Flows: 200, Seed: 2, SeqLen: 20}); err != nil {
		t.Fatal(err)
	}
	const file = "../../../experiments/smoke.yaml"
	sets := append(shrink(t, file), "data.path="+ds, "sweep.data.filter.top_n=[3, 4, 5, 6]")
	t.Setenv(asEtch, "1")
	runArgs := func(out, cache string, extra ...string) []string {
		args := append([]string{"run", file, "--out", out, "--cache", cache}, extra...)
		return append(args, setArgs(sets)...)
	}
	body := func(out string) []byte {
		t.Helper()
		md, err := os.ReadFile(filepath.Join(out, report.ReportFile))
		if err != nil {
			t.Fatal(err)
		}
		return report.StripTimings(md)
	}

	local := filepath.Join(dir, "local")
	if code, stdout, stderr := runCLI(t, runArgs(local, filepath.Join(dir, "cache-local"), "--progress", "none")...); code != 0 {
		t.Fatalf("local: exit %d\n%s\n%s", code, stdout, stderr)
	}
	want := body(local)

	// 1. Followed run: progress lines as for local runs, the same report body.
	sl := filepath.Join(dir, "slurm")
	code, stdout, stderr := runCLI(t, runArgs(sl, filepath.Join(dir, "cache-slurm"), "--executor", "slurm", "--progress", "lines")...)
	if code != 0 {
		t.Fatalf("slurm: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, s := range []string{"4/4 trial(s) done, 0 failed", "trial t1r0: cnnlstm epoch 1/1", "trial t4r0 started", "slurm: submitted job array"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("slurm run's output lacks %q:\n%s", s, stderr)
		}
	}
	if !bytes.Equal(body(sl), want) {
		t.Errorf("slurm report differs from the local one outside timings:\n%s", body(sl))
	}
	code, stdout, stderr = runCLI(t, "status", sl)
	if code != 0 || !strings.Contains(stdout, "4 trial(s): 4 done") {
		t.Errorf("status: %d\n%s\n%s", code, stdout, stderr)
	}

	// 2. Detached run, one task cancelled before it starts.
	kill := filepath.Join(dir, "kill")
	cache := filepath.Join(dir, "cache-kill")
	hold()
	code, stdout, stderr = runCLI(t, runArgs(kill, cache, "--executor", "slurm", "--detach", "--max-parallel", "1")...)
	if code != 0 || !strings.Contains(stdout, "(4 task(s))") || !strings.Contains(stdout, "merge ") {
		release()
		t.Fatalf("detach: exit %d\n%s\n%s", code, stdout, stderr)
	}
	array := strings.Fields(stdout)[1]
	if out, err := exec.Command("scancel", array+"_3").CombinedOutput(); err != nil {
		release()
		t.Fatalf("scancel: %v: %s", err, out)
	}
	release()
	// The merge job renders the report once every task has ended.
	for end := time.Now().Add(90 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(kill, report.ReportFile)); err == nil {
			break
		}
		if time.Now().After(end) {
			t.Fatal("the merge job rendered no report within 90 s")
		}
	}
	code, stdout, stderr = runCLI(t, "status", kill)
	if code != 0 || !strings.Contains(stdout, "3 done, 1 cancelled") || !strings.Contains(stdout, "t4r0") {
		t.Errorf("status after scancel: %d\n%s\n%s", code, stdout, stderr)
	}
	if code, _, stderr := runCLI(t, "report", kill); code != 0 {
		t.Fatalf("report: %s", stderr)
	}
	md, _ := os.ReadFile(filepath.Join(kill, report.ReportFile))
	if !bytes.Contains(md, []byte("## Failed trials")) || !bytes.Contains(md, []byte("### Trial t4r0")) ||
		!bytes.Contains(md, []byte("slurm: task "+array+"_3 CANCELLED")) {
		t.Errorf("report does not name the cancelled task:\n%s", md)
	}

	// 3. Re-run: only the cancelled trial is submitted; the report is whole.
	code, stdout, stderr = runCLI(t, runArgs(kill, cache, "--executor", "slurm", "--progress", "lines")...)
	if code != 0 {
		t.Fatalf("re-run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "(1 task(s), --array=3)") || !strings.Contains(stderr, "4 trial(s), 3 from cache, 1 to run") {
		t.Errorf("re-run did not submit only t4r0:\n%s", stderr)
	}
	if !bytes.Equal(body(kill), want) {
		t.Errorf("re-run report differs from the local one:\n%s", body(kill))
	}
}

// waitJobs waits until the Slurm jobs of the run directories (tasks and merge jobs) have ended,
// so that none writes into them as they are removed.
func waitJobs(t *testing.T, dirs ...string) {
	c := &slurm.Client{}
	for _, d := range dirs {
		st, err := slurm.ReadState(d)
		if err != nil {
			continue
		}
		for _, sub := range st.Submissions {
			for _, job := range []string{sub.Array, sub.Merge} {
				for end := time.Now().Add(60 * time.Second); job != "" && time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
					tasks, err := c.Queue(context.Background(), job)
					if err != nil || !slices.ContainsFunc(tasks, func(x slurm.Task) bool { return slurm.Active(x.State) }) {
						break
					}
				}
			}
		}
	}
}

func TestAsk(t *testing.T) {
	for in, want := range map[string]bool{"y\n": true, "Yes\n": true, " YES ": true, "n\n": false, "\n": false, "": false, "yep\n": false} {
		var out bytes.Buffer
		if got := ask(&out, strings.NewReader(in), "cancel? [y/N] "); got != want || !strings.Contains(out.String(), "cancel? [y/N] ") {
			t.Errorf("ask(%q) = %v, printed %q", in, got, out.String())
		}
	}
}

func TestSlurmFlagsNeedSlurm(t *testing.T) {
	code, _, stderr := runCLI(t, "run", "../../../experiments/smoke.yaml", "--detach", "--partition", "x")
	if code != 2 || !strings.Contains(stderr, "--detach, --partition apply to --executor slurm only (this run's executor: local)") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

// TestSlurmInterruptCLI: Ctrl-C on a following etch run without a terminal leaves the jobs
// running and says how to cancel them; etch status --json shows them pending.
func TestSlurmInterruptCLI(t *testing.T) {
	bin, err := filepath.Abs("../../slurm/testdata/bin")
	if err != nil {
		t.Fatal(err)
	}
	d := t.TempDir()
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAKE_SLURM_DIR", d)
	t.Setenv("FAKE_SLURM_NODES", "")
	if err := os.WriteFile(filepath.Join(d, "hold"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Cleanup(func() {
		_ = (&slurm.Client{}).Cancel(context.Background(), "100", "101")
		_ = os.Remove(filepath.Join(d, "hold"))
		for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			if busy, _ := os.ReadDir(filepath.Join(d, "busy")); len(busy) == 0 {
				return
			}
		}
	})
	ds := filepath.Join(dir, "flows.parquet")
	if err := runnertest.WriteDataset(ds, runnertest.Options{Flows: 100, Seed: 2, SeqLen: 20}); err != nil {
		t.Fatal(err)
	}
	const file = "../../../experiments/smoke.yaml"
	out := filepath.Join(dir, "run")
	args := append([]string{"run", file, "--out", out, "--cache", "off", "--executor", "slurm", "--progress", "none"},
		setArgs(append(shrink(t, file), "data.path="+ds))...)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			if st, err := slurm.ReadState(out); err == nil && len(st.Submissions) == 1 && st.Submissions[0].Merge != "" {
				break
			}
		}
		cancel()
	}()
	var stdout, stderr bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, version: "test"}
	e.log = newTestLogger(&stderr)
	if code := run(ctx, e, args); code != 130 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "the jobs keep running in Slurm: `scancel 100 101` cancels them") {
		t.Errorf("no advice:\n%s", stderr.String())
	}
	if b, _ := os.ReadFile(filepath.Join(d, "calls")); bytes.Contains(b, []byte("scancel")) {
		t.Errorf("a non-interactive run cancelled jobs:\n%s", b)
	}
	code, js, errs := runCLI(t, "status", "--json", out)
	var states []slurm.TrialStatus
	if code != 0 || json.Unmarshal([]byte(js), &states) != nil || len(states) != 1 || states[0].State != slurm.StatePending || states[0].Task != "100_0" {
		t.Errorf("status --json: %d %s %s", code, js, errs)
	}
}
