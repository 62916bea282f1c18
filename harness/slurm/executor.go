package slurm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/etchlab/etch/harness/config"
	"github.com/etchlab/etch/harness/report"
	"github.com/etchlab/etch/harness/runner"
)

// ErrDetached is returned by Executor.Run with Detach set once the jobs are submitted: the run
// goes on in Slurm, and `etch status` / `etch report` pick it up.
var ErrDetached = errors.New("detached: the jobs run on in Slurm")

// Settings are the job-array options (flags or the experiment's executor.slurm).
type Settings struct {
	// Partition, Time (sbatch --time, e.g. 2:00:00) and Mem (per task, e.g. 8G): "" leaves
	// Slurm's defaults.
	Partition, Time, Mem string
	// CPUsPerTask is each task's CPUs, and the threads its models use (0: executor.threads, or 1).
	CPUsPerTask int
	// GPUs per task (gres gpu:N; 0 with backend cuda: 1).
	GPUs int
	// MaxParallel limits how many tasks run at once (the array's %N; 0: executor.jobs, or no limit).
	MaxParallel int
	// AssumeShared skips the shared-filesystem check.
	AssumeShared bool
	// Detach returns after submitting (ErrDetached) instead of following the tasks.
	Detach bool
}

// WithDefaults fills unset settings from the experiment: executor.slurm, then executor.threads
// and executor.jobs, and one GPU per task for backend cuda.
func (s Settings) WithDefaults(exp *config.Experiment) Settings {
	if exp == nil {
		return s
	}
	if y := exp.Executor.Slurm; y != nil {
		s.Partition = firstSet(s.Partition, y.Partition)
		s.Time = firstSet(s.Time, y.Time)
		s.Mem = firstSet(s.Mem, y.Mem)
		s.CPUsPerTask = firstSet(s.CPUsPerTask, y.CPUsPerTask)
		s.GPUs = firstSet(s.GPUs, y.GPUs)
		s.MaxParallel = firstSet(s.MaxParallel, y.MaxParallel)
	}
	s.CPUsPerTask = firstSet(s.CPUsPerTask, exp.Executor.Threads, 1)
	s.MaxParallel = firstSet(s.MaxParallel, exp.Executor.Jobs)
	if exp.Backend == "cuda" && s.GPUs == 0 {
		s.GPUs = 1
	}
	return s
}

// firstSet returns the first non-zero value (like cmp.Or).
func firstSet[T comparable](vs ...T) T {
	var zero T
	for _, v := range vs {
		if v != zero {
			return v
		}
	}
	return zero
}

// Executor runs trials as a Slurm job array (see the package documentation).
type Executor struct {
	Settings
	// Dir is the run directory, Experiment the run's experiment (for the job name and the
	// array indices, which are the trials' positions in the plan).
	Dir        string
	Experiment *config.Experiment
	// Command is the worker command before the spec path (nil: this executable, trial, run);
	// MergeCommand the merge job's command before the run directory (nil: this executable,
	// report, --collect).
	Command, MergeCommand []string
	// Client runs Slurm's commands (nil: from PATH).
	Client *Client
	// Started and Unit feed the progress display (either may be nil).
	Started func(*runner.TrialSpec)
	Unit    func(trial, model string, done, total int, unit string)
	// Out receives messages for the user: the submission, the shared-filesystem check, what
	// to do after an interrupt (nil: discarded).
	Out io.Writer
	// Confirm asks the user a yes/no question after an interrupt: whether to cancel the jobs
	// (nil: never cancel, as for a non-interactive run).
	Confirm func(question string) bool
	// Poll is the longest pause between looks at the tasks (default 3 s); ResultGrace how long a
	// task that completed may take for its result to appear, for shared filesystems that show
	// files late (default 15 s).
	Poll, ResultGrace time.Duration
	Log               *slog.Logger
	// Submitted records the submissions this executor made.
	Submitted []Submission
}

// Factory returns an ExecutorFactory that builds executors from proto (its settings, client,
// output and hooks), completed for each run from the runner's environment: run directory,
// experiment, progress callbacks, worker command, and settings defaults from the experiment.
// created, when not nil, receives each executor built (to read Submitted after a run).
func Factory(proto Executor, created func(*Executor)) runner.ExecutorFactory {
	return func(env runner.ExecutorEnv) (runner.Executor, error) {
		e := proto
		e.Dir, e.Experiment, e.Started, e.Unit = env.RunDir, env.Experiment, env.Started, env.Unit
		if e.Command == nil {
			e.Command = env.WorkerCommand
		}
		if e.Log == nil {
			e.Log = env.Log
		}
		e.Settings = e.Settings.WithDefaults(env.Experiment)
		if created != nil {
			created(&e)
		}
		return &e, nil
	}
}

// Name returns "slurm".
func (e *Executor) Name() string { return "slurm" }

func (e *Executor) say(format string, args ...any) {
	if e.Out != nil {
		fmt.Fprintf(e.Out, "slurm: "+format+"\n", args...)
	}
}

// tracked is a trial whose task is being followed.
type tracked struct {
	spec       *runner.TrialSpec
	job        string
	index      int
	started    bool
	logOff     int64
	partial    []byte
	endedSince time.Time
}

// Run submits the trials that have neither a result in the run directory nor a live task from an
// earlier submission as one job array plus a merge job, then follows every task until its trial
// has a result (or, with Detach, returns ErrDetached). On ctx's end it asks Confirm whether to
// cancel the jobs, says how to otherwise, and returns ctx's error.
func (e *Executor) Run(ctx context.Context, trials []*runner.TrialSpec, done func(*runner.TrialResult)) error {
	if e.Client == nil {
		e.Client = &Client{}
	}
	if e.Log == nil {
		e.Log = slog.New(slog.DiscardHandler)
	}
	dir, err := filepath.Abs(e.Dir)
	if err != nil {
		return err
	}
	e.Dir = dir
	st, err := ReadState(dir)
	if err != nil {
		return err
	}
	follow := map[string]*tracked{}
	var candidates []*runner.TrialSpec
	var jobs []string
	for _, s := range trials {
		if r := readResult(dir, s); r != nil && !r.Failed() {
			done(r) // finished by an earlier submission: the runner caches it now
			continue
		}
		candidates = append(candidates, s)
		if job, _, ok := st.Task(s.ID); ok {
			jobs = append(jobs, job)
		}
	}
	// Tasks of earlier submissions that are still queued or running are followed, not resubmitted.
	states, errs := taskStates(ctx, e.Client, jobs)
	var submit []*runner.TrialSpec
	adopted := map[string]bool{}
	for _, s := range candidates {
		job, idx, ok := st.Task(s.ID)
		if ok && errs[job] != nil {
			return fmt.Errorf("slurm: state of job %s: %w", job, errs[job])
		}
		if t, live := states[job][idx]; ok && live && Active(t.State) && e.sameSpec(s) {
			follow[s.ID] = &tracked{spec: s, job: job, index: idx}
			adopted[job] = true
			continue
		}
		submit = append(submit, s)
	}
	if len(adopted) > 0 {
		e.say("following %d trial(s) still queued or running in job(s) %s", len(follow), strings.Join(sortedKeys(adopted), ", "))
	}
	if len(submit) > 0 {
		sub, err := e.submit(ctx, st, submit, sortedKeys(adopted))
		if err != nil {
			return err
		}
		for _, t := range sub.Tasks {
			for _, s := range submit {
				if s.ID == t.Trial {
					follow[s.ID] = &tracked{spec: s, job: sub.Array, index: t.Index}
				}
			}
		}
	}
	if len(follow) == 0 {
		return nil
	}
	if e.Detach {
		return ErrDetached
	}
	return e.follow(ctx, st, follow, done)
}

// sameSpec reports whether the spec file a live task reads is for this trial as planned now (an
// experiment changed under a reused --out has other cache keys: its tasks are not followed).
func (e *Executor) sameSpec(s *runner.TrialSpec) bool {
	old, err := runner.ReadSpec(filepath.Join(e.Dir, "trials", s.ID+".spec.json"))
	return err == nil && old.Key == s.Key
}

func sortedKeys(m map[string]bool) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// index is a trial's array index: its position in the plan.
func (e *Executor) index(s *runner.TrialSpec) int {
	reps := 1
	if e.Experiment != nil {
		reps = max(1, e.Experiment.Repeats)
	}
	return s.Point*reps + s.Repeat
}

// submit writes the trials' spec files and batch scripts, checks the paths are shared, and
// submits the array and its merge job (which also waits for the adopted arrays).
func (e *Executor) submit(ctx context.Context, st *State, trials []*runner.TrialSpec, adopted []string) (*Submission, error) {
	cmd := e.Command
	merge := e.MergeCommand
	if len(cmd) == 0 || len(merge) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("slurm: %w", err)
		}
		if exe, err = filepath.Abs(exe); err != nil {
			return nil, fmt.Errorf("slurm: %w", err)
		}
		if len(cmd) == 0 {
			cmd = []string{exe, "trial", "run"}
		}
		if len(merge) == 0 {
			merge = []string{exe, "report", "--collect"}
		}
	}
	if _, err := exec.LookPath("sbatch"); err != nil && e.Client.Env == nil {
		return nil, fmt.Errorf("slurm: sbatch not found on PATH (%w): run etch on a node that can submit jobs "+
			"(or start a test cluster with make slurm-up and export SLURM_CONF)", err)
	}
	for _, d := range []string{"trials", "slurm"} {
		if err := os.MkdirAll(filepath.Join(e.Dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("slurm: %w", err)
		}
	}
	if !e.AssumeShared {
		paths := []string{e.Dir, cmd[0]}
		for _, s := range trials {
			if !slices.Contains(paths, s.Dataset.Abs) {
				paths = append(paths, s.Dataset.Abs)
			}
		}
		check, err := CheckShared(ctx, e.Client, e.Partition, paths...)
		if err != nil {
			return nil, fmt.Errorf("slurm: %w", err)
		}
		if check.Verified {
			e.say("shared filesystem: %s", check.Message)
		} else {
			e.say("WARNING: %s", check.Message)
		}
	}
	for what, v := range map[string]string{"run directory": e.Dir, "partition": e.Partition, "time": e.Time, "mem": e.Mem} {
		if err := checkDirective(what, v); err != nil {
			return nil, err
		}
	}
	job := arrayJob{Name: jobName(e.Experiment.Name), Dir: e.Dir, Settings: e.Settings, Specs: map[int]string{}, Command: cmd}
	sub := &Submission{Submitted: time.Now().UTC().Format(time.RFC3339)}
	for _, s := range trials {
		spec := *s
		spec.Threads = max(1, e.CPUsPerTask)
		spec.Result = resultPath(e.Dir, s.ID)
		if err := os.Remove(spec.Result); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("slurm: %w", err)
		}
		path := filepath.Join(e.Dir, "trials", s.ID+".spec.json")
		if err := runner.WriteSpec(path, &spec); err != nil {
			return nil, err
		}
		i := e.index(s)
		if _, dup := job.Specs[i]; dup {
			return nil, fmt.Errorf("slurm: trials %s and another share array index %d", s.ID, i)
		}
		job.Specs[i] = path
		sub.Tasks = append(sub.Tasks, TaskTrial{Index: i, Trial: s.ID})
	}
	slices.SortFunc(sub.Tasks, func(a, b TaskTrial) int { return a.Index - b.Index })
	n := len(st.Submissions) + 1
	sub.Script = filepath.Join(e.Dir, "slurm", fmt.Sprintf("array-%d.sh", n))
	if err := report.WriteFileAtomic(sub.Script, []byte(job.script())); err != nil {
		return nil, err
	}
	// Submissions finish even when ctx ends meanwhile (Ctrl-C): a half-submitted run (an array
	// without its merge job, or unrecorded) is worse than a complete one the user may cancel.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	id, err := e.Client.Submit(sctx, sub.Script)
	if err != nil {
		return nil, fmt.Errorf("slurm: submit %s: %w", sub.Script, err)
	}
	sub.Array = id
	// Record the array before anything else can fail, so status and re-runs know its tasks.
	st.Submissions = append(st.Submissions, *sub)
	if err := writeState(e.Dir, st); err != nil {
		return nil, err
	}
	mergeScript := filepath.Join(e.Dir, "slurm", fmt.Sprintf("merge-%d.sh", n))
	if err := report.WriteFileAtomic(mergeScript, []byte(job.mergeScript(append([]string{id}, adopted...), merge))); err != nil {
		return nil, err
	}
	if mid, err := e.Client.Submit(sctx, mergeScript); err != nil {
		e.say("WARNING: the merge job was not submitted (%v); render the report with `etch report %s` when the tasks end", err, e.Dir)
	} else {
		sub.Merge = mid
		st.Submissions[len(st.Submissions)-1].Merge = mid
		if err := writeState(e.Dir, st); err != nil {
			return nil, err
		}
	}
	e.Submitted = append(e.Submitted, *sub)
	ids := make([]int, len(sub.Tasks))
	for i, t := range sub.Tasks {
		ids[i] = t.Index
	}
	e.say("submitted job array %s (%d task(s), --array=%s) and merge job %s; logs in %s",
		sub.Array, len(sub.Tasks), FormatArray(ids, e.MaxParallel), firstSet(sub.Merge, "(none)"), filepath.Join(e.Dir, "slurm"))
	return sub, nil
}

// follow polls the tasks until every trial has a result.
func (e *Executor) follow(ctx context.Context, st *State, follow map[string]*tracked, done func(*runner.TrialResult)) error {
	poll := firstSet(e.Poll, 3*time.Second)
	wait := min(250*time.Millisecond, poll)
	warned := false
	for len(follow) > 0 {
		changed, err := e.poll(ctx, follow, done)
		if err != nil && ctx.Err() == nil && !warned {
			e.say("WARNING: cannot read the tasks' state (%v); still trying", err)
			warned = true
		}
		if len(follow) == 0 {
			break
		}
		if changed {
			wait = min(250*time.Millisecond, poll)
		} else {
			wait = min(wait*2, poll)
		}
		select {
		case <-ctx.Done():
			return e.interrupt(ctx, st, follow)
		case <-time.After(wait):
		}
	}
	return nil
}

// poll looks once at every followed task: new progress lines in its log, its result file, its
// state in Slurm. It reports whether anything changed.
func (e *Executor) poll(ctx context.Context, follow map[string]*tracked, done func(*runner.TrialResult)) (bool, error) {
	changed := false
	finish := func(t *tracked, r *runner.TrialResult) {
		e.readProgress(t) // the lines written since the last look
		if !t.started && e.Started != nil {
			e.Started(t.spec)
		}
		if r.Failed() && r.Trial.LogTail == "" {
			r.Trial.LogTail = logTail(logPath(e.Dir, t.job, t.index))
		}
		done(r)
		delete(follow, t.spec.ID)
		changed = true
	}
	var jobs []string
	for _, id := range sortedIDs(follow) {
		t := follow[id]
		if e.readProgress(t) {
			changed = true
		}
		if r := readResult(e.Dir, t.spec); r != nil {
			finish(t, r)
			continue
		}
		jobs = append(jobs, t.job)
	}
	if len(jobs) == 0 {
		return changed, nil
	}
	states, errs := taskStates(ctx, e.Client, jobs)
	var errList []error
	now := time.Now()
	grace := firstSet(e.ResultGrace, 15*time.Second)
	for _, id := range sortedIDs(follow) {
		t := follow[id]
		if err := errs[t.job]; err != nil {
			errList = append(errList, err)
			continue
		}
		task, known := states[t.job][t.index]
		if known && Active(task.State) {
			if !t.started && task.State != "PENDING" && e.Started != nil {
				e.Started(t.spec)
				t.started, changed = true, true
			}
			continue
		}
		if !known {
			task = missingTask(e.Dir, t.job, t.index)
		}
		// The task has ended. Its result may have landed since the look above, or (on shared
		// filesystems that show files late) land a little later: a task that completed gets time.
		if r := readResult(e.Dir, t.spec); r != nil {
			finish(t, r)
			continue
		}
		if t.endedSince.IsZero() {
			t.endedSince = now
		}
		if (task.State == "COMPLETED" || task.State == "UNKNOWN") && now.Sub(t.endedSince) < grace {
			continue
		}
		if codes, err := e.Client.ExitCodes(ctx, t.job); err == nil {
			task.ExitCode = codes[t.index]
		}
		r := failure(e.Dir, t.spec, task)
		if err := runner.WriteResult(resultPath(e.Dir, t.spec.ID), r); err != nil {
			e.Log.Warn("slurm: write failed result", "trial", t.spec.ID, "err", err)
		}
		finish(t, r)
	}
	return changed, errors.Join(errList...)
}

func sortedIDs(m map[string]*tracked) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// readProgress passes the progress lines a task has added to its log since the last look.
func (e *Executor) readProgress(t *tracked) bool {
	f, err := os.Open(logPath(e.Dir, t.job, t.index))
	if err != nil {
		return false
	}
	defer f.Close()
	if _, err := f.Seek(t.logOff, io.SeekStart); err != nil {
		return false
	}
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil || len(b) == 0 {
		return false
	}
	t.logOff += int64(len(b))
	t.partial = append(t.partial, b...)
	if !t.started && e.Started != nil {
		e.Started(t.spec)
	}
	t.started = true
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			break
		}
		if trial, model, unit, d, n, ok := parseProgress(string(t.partial[:i])); ok && e.Unit != nil {
			e.Unit(trial, model, d, n, unit)
		}
		t.partial = t.partial[i+1:]
	}
	return true
}

// parseProgress reads a runner.ProgressLine.
func parseProgress(line string) (trial, model, unit string, done, total int, ok bool) {
	rest, ok := strings.CutPrefix(line, runner.ProgressPrefix)
	if !ok {
		return "", "", "", 0, 0, false
	}
	n, err := fmt.Sscanf(rest, "%s %s %s %d %d", &trial, &model, &unit, &done, &total)
	return trial, model, unit, done, total, err == nil && n == 5
}

// interrupt handles the end of ctx while following: asks whether to cancel the jobs (cancelling
// them if so) or says how to, and returns ctx's error.
func (e *Executor) interrupt(ctx context.Context, st *State, follow map[string]*tracked) error {
	set := map[string]bool{}
	for _, t := range follow {
		set[t.job] = true
		if m := st.mergeOf(t.job); m != "" {
			set[m] = true
		}
	}
	jobs := sortedKeys(set)
	list := strings.Join(jobs, " ")
	if e.Confirm != nil && e.Confirm(fmt.Sprintf("cancel the Slurm jobs of this run (%s)? [y/N] ", list)) {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if err := e.Client.Cancel(cctx, jobs...); err != nil {
			e.say("cancel failed: %v; cancel them with `scancel %s`", err, list)
		} else {
			e.say("cancelled job(s) %s; finished trials stay cached, so running again submits only the rest", list)
		}
		return ctx.Err()
	}
	e.say("the jobs keep running in Slurm: `scancel %s` cancels them; `etch status %s` shows their state; "+
		"running the same command again follows them", list, e.Dir)
	return ctx.Err()
}
