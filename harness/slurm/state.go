package slurm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/etchlab/etch/harness/report"
	"github.com/etchlab/etch/harness/runner"
)

// StateFile is the file in a run directory that records the run's Slurm submissions.
const StateFile = "slurm.json"

// State is the content of StateFile.
type State struct {
	Version     int          `json:"version"`
	Submissions []Submission `json:"submissions"`
}

// Submission is one job array and its merge job.
type Submission struct {
	// Array and Merge are the job ids (Merge "" when its submission failed).
	Array string `json:"array"`
	Merge string `json:"merge,omitempty"`
	// Tasks maps array indices to trial ids.
	Tasks []TaskTrial `json:"tasks"`
	// Script is the batch script, Submitted the time of submission (RFC 3339).
	Script    string `json:"script"`
	Submitted string `json:"submitted"`
}

// TaskTrial pairs an array index with the trial its task runs.
type TaskTrial struct {
	Index int    `json:"index"`
	Trial string `json:"trial"`
}

// IsRun reports whether dir holds a run submitted to Slurm.
func IsRun(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, StateFile))
	return err == nil
}

// ReadState reads a run directory's StateFile; a missing file is an empty state.
func ReadState(dir string) (*State, error) {
	b, err := os.ReadFile(filepath.Join(dir, StateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return &State{Version: 1}, nil
	}
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", runner.ErrSpec, filepath.Join(dir, StateFile), err)
	}
	return &s, nil
}

func writeState(dir string, s *State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return report.WriteFileAtomic(filepath.Join(dir, StateFile), append(b, '\n'))
}

// Task returns the latest task submitted for a trial.
func (s *State) Task(trial string) (job string, index int, ok bool) {
	for i := len(s.Submissions) - 1; i >= 0; i-- {
		for _, t := range s.Submissions[i].Tasks {
			if t.Trial == trial {
				return s.Submissions[i].Array, t.Index, true
			}
		}
	}
	return "", 0, false
}

// mergeOf returns the merge job of an array ("" when none).
func (s *State) mergeOf(array string) string {
	for _, sub := range s.Submissions {
		if sub.Array == array {
			return sub.Merge
		}
	}
	return ""
}

// logPath is the log file of a task (sbatch --output=RUN_DIR/slurm/%A_%a.log).
func logPath(dir, job string, index int) string {
	return filepath.Join(dir, "slurm", taskRef(job, index)+".log")
}

func resultPath(dir, trial string) string {
	return filepath.Join(dir, "trials", trial+".result.json")
}

// readResult returns the trial's result in the run directory when there is one for this spec.
func readResult(dir string, s *runner.TrialSpec) *runner.TrialResult {
	r, err := runner.ReadResult(resultPath(dir, s.ID))
	if err != nil || r.Key != s.Key {
		return nil
	}
	return r
}

// missingTask is the state of a task Slurm does not list. Without a log it never started: Slurm
// drops a pending array task that is cancelled (scancel JOB_INDEX) without a trace (only
// accounting would keep it). With a log it ran, and Slurm has since forgotten how it ended.
func missingTask(dir, job string, index int) Task {
	if _, err := os.Stat(logPath(dir, job, index)); err != nil {
		return Task{Job: job, Index: index, State: "CANCELLED", Reason: "removed from the queue before it started"}
	}
	return Task{Job: job, Index: index, State: "UNKNOWN", Reason: "Slurm no longer knows the task"}
}

// failurePrefix starts the error of a trial whose task ended without a result.
const failurePrefix = "slurm: task "

// failure is the result of a trial whose task ended without writing one: the task's state,
// reason and exit code, and the end of its log.
func failure(dir string, s *runner.TrialSpec, t Task) *runner.TrialResult {
	r := &runner.TrialResult{Version: runner.SpecVersion, Key: s.Key}
	r.Trial.ID, r.Trial.Params, r.Trial.Repeat, r.Trial.Seed = s.ID, s.Params, s.Repeat, s.Seed
	msg := failurePrefix + t.Ref() + " " + t.State
	if t.State == "COMPLETED" {
		msg += " without writing a result"
	}
	var why []string
	if t.Reason != "" && t.Reason != "None" {
		why = append(why, "reason "+t.Reason)
	}
	if t.ExitCode != "" {
		why = append(why, "exit code "+t.ExitCode)
	}
	if len(why) > 0 {
		msg += " (" + strings.Join(why, ", ") + ")"
	}
	r.Trial.Error = msg
	r.Trial.LogTail = logTail(logPath(dir, t.Job, t.Index))
	return r
}

// logTail returns the end of a task's log without its progress lines (which the progress
// display has shown, and which would push the messages that matter out of the tail).
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var keep []string
	for line := range strings.SplitSeq(string(b), "\n") {
		if !strings.HasPrefix(line, runner.ProgressPrefix) {
			keep = append(keep, line)
		}
	}
	return tail(strings.Join(keep, "\n"), runner.LogTailBytes)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// taskStates looks up the tasks of jobs: squeue first, then sacct for jobs squeue has forgotten.
// A job neither knows is absent from the map; a job whose lookup failed otherwise has its error.
func taskStates(ctx context.Context, c *Client, jobs []string) (map[string]map[int]Task, map[string]error) {
	states := map[string]map[int]Task{}
	errs := map[string]error{}
	for _, job := range jobs {
		if _, ok := states[job]; ok {
			continue
		}
		tasks, err := c.Queue(ctx, job)
		if errors.Is(err, ErrUnknownJob) {
			var aerr error
			if tasks, aerr = c.Accounting(ctx, job); aerr != nil || len(tasks) == 0 {
				continue // forgotten: absent, no error
			}
			err = nil
		}
		if err != nil {
			errs[job] = err
			continue
		}
		m := map[int]Task{}
		for _, t := range tasks {
			m[t.Index] = t
		}
		states[job] = m
	}
	return states, errs
}

// Trial states as Status reports them.
const (
	StateDone         = "done"
	StateFailed       = "failed"
	StateCancelled    = "cancelled"
	StateRunning      = "running"
	StatePending      = "pending"
	StateNotSubmitted = "not submitted"
	StateUnknown      = "unknown"
)

// TrialStatus is one trial's state in a run directory.
type TrialStatus struct {
	ID     string         `json:"id"`
	Params map[string]any `json:"params"`
	// State is one of the State* constants; Task the Slurm task ("" when none), Detail a
	// one-line explanation (the error of a failed trial, the Slurm state of a running one).
	State  string `json:"state"`
	Task   string `json:"task,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// readPlan reads a run directory's plan.
func readPlan(dir string) (*runner.RunPlan, error) {
	path := filepath.Join(dir, runner.PlanFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p runner.RunPlan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", runner.ErrSpec, path, err)
	}
	if p.Version != runner.SpecVersion {
		return nil, fmt.Errorf("%w: %s: plan version %d", runner.ErrSpec, path, p.Version)
	}
	return &p, nil
}

// Status returns the state of every trial of a run directory: done (a result, in the directory
// or the trial cache), failed or cancelled (a failed result, or a task that ended without one),
// running or pending (its task, from squeue), not submitted, or unknown (Slurm has forgotten a
// task that left no result). It works for runs of every executor; only Slurm runs have tasks.
func Status(ctx context.Context, c *Client, dir string) ([]TrialStatus, error) {
	p, err := readPlan(dir)
	if err != nil {
		return nil, err
	}
	st, err := ReadState(dir)
	if err != nil {
		return nil, err
	}
	var jobs []string
	for _, sub := range st.Submissions {
		jobs = append(jobs, sub.Array)
	}
	var states map[string]map[int]Task
	var errs map[string]error
	if len(jobs) > 0 {
		states, errs = taskStates(ctx, c, jobs)
	}
	cache := runner.Cache{Dir: p.Cache}
	out := make([]TrialStatus, 0, len(p.Trials))
	for _, s := range p.Trials {
		ts := TrialStatus{ID: s.ID, Params: s.Params}
		job, idx, submitted := st.Task(s.ID)
		if submitted {
			ts.Task = taskRef(job, idx)
		}
		r := cache.Get(s.Key)
		if r == nil {
			r = readResult(dir, s)
		}
		switch {
		case r != nil && !r.Failed():
			ts.State = StateDone
		case r != nil:
			ts.State, ts.Detail = StateFailed, firstLine(r.Trial.Error)
			if strings.HasPrefix(r.Trial.Error, failurePrefix) && strings.Contains(r.Trial.Error, " CANCELLED") {
				ts.State = StateCancelled
			}
		case !submitted:
			ts.State = StateNotSubmitted
		case errs[job] != nil:
			ts.State, ts.Detail = StateUnknown, firstLine(errs[job].Error())
		default:
			t, ok := states[job][idx]
			switch {
			case !ok && missingTask(dir, job, idx).State == "CANCELLED":
				ts.State, ts.Detail = StateCancelled, "removed from the queue before it started"
			case !ok:
				ts.State, ts.Detail = StateUnknown, "Slurm no longer knows the task and it wrote no result"
			case t.State == "PENDING":
				ts.State, ts.Detail = StatePending, "reason "+t.Reason
			case Active(t.State):
				ts.State, ts.Detail = StateRunning, t.State
			case t.State == "CANCELLED":
				ts.State, ts.Detail = StateCancelled, "task CANCELLED"
			default:
				ts.State, ts.Detail = StateFailed, "task "+t.State+" without a result"
			}
		}
		out = append(out, ts)
	}
	return out, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// Merge prepares a Slurm run directory for its report (what the merge job does before
// rendering, through `etch report`): every trial whose task ended without writing a result gets
// a failed result naming the task's state and holding the end of its log, and every finished
// trial goes into the run's trial cache, so that a re-run submits only what has no result.
// Trials whose tasks still run, or whose state Slurm cannot be asked about (a warning), are left
// alone: the report calls them not finished.
func Merge(ctx context.Context, c *Client, dir string, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p, err := readPlan(dir)
	if err != nil {
		return err
	}
	st, err := ReadState(dir)
	if err != nil {
		return err
	}
	cache := runner.Cache{Dir: p.Cache}
	var missing []*runner.TrialSpec
	var jobs []string
	for _, s := range p.Trials {
		if r := readResult(dir, s); r != nil {
			if err := cache.Put(r); err != nil {
				log.Warn("trial cache", "trial", s.ID, "err", err)
			}
			continue
		}
		if job, _, ok := st.Task(s.ID); ok && cache.Get(s.Key) == nil {
			missing = append(missing, s)
			jobs = append(jobs, job)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	states, errs := taskStates(ctx, c, jobs)
	for job, err := range errs {
		// Away from the cluster (a copied run directory) the report is still rendered.
		log.Warn("cannot ask Slurm about a job; its unfinished trials are reported as not finished", "job", job, "err", err)
	}
	var errList []error
	for _, s := range missing {
		job, idx, _ := st.Task(s.ID)
		if errs[job] != nil {
			continue
		}
		t, ok := states[job][idx]
		if !ok {
			t = missingTask(dir, job, idx)
		}
		if Active(t.State) {
			continue
		}
		if t.ExitCode == "" {
			if codes, err := c.ExitCodes(ctx, job); err == nil {
				t.ExitCode = codes[idx]
			}
		}
		if err := runner.WriteResult(resultPath(dir, s.ID), failure(dir, s, t)); err != nil {
			errList = append(errList, err)
		}
	}
	return errors.Join(errList...)
}
