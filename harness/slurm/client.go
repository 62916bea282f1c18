package slurm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// ErrCommand reports a Slurm command that failed or printed something this package cannot read.
var ErrCommand = errors.New("slurm command")

// ErrUnknownJob reports a job id Slurm no longer (or never) knew: squeue's "Invalid job id".
var ErrUnknownJob = errors.New("job unknown to Slurm")

// Client runs Slurm's commands. The zero value runs them from PATH with this process's
// environment (SLURM_CONF and the like included).
type Client struct {
	// Env, when not nil, is the commands' environment.
	Env []string
}

// run runs a Slurm command and returns its standard output; a failure carries its stderr.
func (c *Client) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = c.Env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "Invalid job id") {
			return nil, fmt.Errorf("%w: %s %s: %s", ErrUnknownJob, name, strings.Join(args, " "), msg)
		}
		return nil, fmt.Errorf("%w: %s %s: %w: %s", ErrCommand, name, strings.Join(args, " "), err, msg)
	}
	return stdout.Bytes(), nil
}

// Submit submits a batch script (its #SBATCH lines carry the options) and returns the job id.
func (c *Client) Submit(ctx context.Context, script string) (string, error) {
	out, err := c.run(ctx, "sbatch", "--parsable", script)
	if err != nil {
		return "", err
	}
	return parseSubmit(out)
}

// parseSubmit reads `sbatch --parsable` output: "JOBID" or "JOBID;CLUSTER".
func parseSubmit(out []byte) (string, error) {
	s := strings.TrimSpace(string(out))
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:] // warnings may come first
	}
	id, _, _ := strings.Cut(s, ";")
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		return "", fmt.Errorf("%w: sbatch printed %q, want a job id", ErrCommand, strings.TrimSpace(string(out)))
	}
	return id, nil
}

// Task is the state of one job-array task (or of a plain job, Index -1).
type Task struct {
	Job   string
	Index int
	// State is Slurm's job state (PENDING, RUNNING, COMPLETED, CANCELLED, FAILED, TIMEOUT, ...).
	State string
	// Reason is why a task waits or ended (squeue's %r), ExitCode "code:signal" where known.
	Reason, ExitCode string
}

// Ref names the task as Slurm does: JOB_INDEX (or JOB for a plain job).
func (t Task) Ref() string { return taskRef(t.Job, t.Index) }

func taskRef(job string, index int) string {
	if index < 0 {
		return job
	}
	return job + "_" + strconv.Itoa(index)
}

// Active reports whether a task is queued or running (it may still write a result).
func Active(state string) bool {
	switch baseState(state) {
	case "PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED", "REQUEUE_FED",
		"REQUEUE_HOLD", "RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED", "RESV_DEL_HOLD", "SPECIAL_EXIT":
		return true
	}
	return false
}

// baseState drops what sacct appends ("CANCELLED by 0") and scontrol's flags ("COMPLETED+").
func baseState(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), " ")
	return strings.TrimRight(s, "+")
}

// Queue returns the tasks of a job (a job array's tasks one by one, in any state Slurm still
// keeps: finished jobs stay for the cluster's MinJobAge). ErrUnknownJob: Slurm has forgotten it.
func (c *Client) Queue(ctx context.Context, job string) ([]Task, error) {
	out, err := c.run(ctx, "squeue", "-h", "-r", "-t", "all", "-j", job, "-o", "%i|%T|%r")
	if err != nil {
		return nil, err
	}
	return parseQueue(out)
}

// parseQueue reads `squeue -h -r -o %i|%T|%r` lines: "JOB_INDEX|STATE|REASON" (JOB alone for a
// plain job; JOB_[2-5%1] for array tasks not yet split, which -r normally avoids).
func parseQueue(out []byte) ([]Task, error) {
	return parseTasks(out, "squeue", "JOBID|STATE|REASON", func(t *Task, reason string) { t.Reason = reason })
}

// parseTasks reads the lines of a Slurm listing with three |-separated fields: a job id (array
// ids expanded), a state and a third field that set stores; want names the fields for errors.
func parseTasks(out []byte, tool, want string, set func(t *Task, third string)) ([]Task, error) {
	var tasks []Task
	for n, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		f := strings.Split(line, "|")
		if len(f) != 3 || f[1] == "" {
			return nil, fmt.Errorf("%w: %s line %d: %q: want %s", ErrCommand, tool, n+1, line, want)
		}
		ts, err := expandID(f[0])
		if err != nil {
			return nil, fmt.Errorf("%w: %s line %d: %w", ErrCommand, tool, n+1, err)
		}
		for _, t := range ts {
			t.State = baseState(f[1])
			set(&t, f[2])
			tasks = append(tasks, t)
		}
	}
	return tasks, nil
}

// expandID reads a job id as Slurm prints it: 12, 12_3 or 12_[1-3,5%2].
func expandID(s string) ([]Task, error) {
	job, idx, ok := strings.Cut(strings.TrimSpace(s), "_")
	if _, err := strconv.ParseUint(job, 10, 64); err != nil {
		return nil, fmt.Errorf("job id %q", s)
	}
	if !ok {
		return []Task{{Job: job, Index: -1}}, nil
	}
	if strings.HasPrefix(idx, "[") && strings.HasSuffix(idx, "]") {
		ids, err := ParseArray(idx[1 : len(idx)-1])
		if err != nil {
			return nil, fmt.Errorf("job id %q: %w", s, err)
		}
		tasks := make([]Task, len(ids))
		for i, id := range ids {
			tasks[i] = Task{Job: job, Index: id}
		}
		return tasks, nil
	}
	i, err := strconv.Atoi(idx)
	if err != nil || i < 0 {
		return nil, fmt.Errorf("job id %q", s)
	}
	return []Task{{Job: job, Index: i}}, nil
}

// maxArrayTasks bounds the indices ParseArray expands (Slurm's own MaxArraySize tops out at 4M).
const maxArrayTasks = 4_000_001

// ParseArray reads an array index list as sbatch --array takes it and Slurm prints it:
// "0-3", "1,4,7-9", "0-15:4", an optional "%N" limit; it returns the indices in order.
func ParseArray(s string) ([]int, error) {
	s, _, _ = strings.Cut(s, "%")
	var out []int
	for part := range strings.SplitSeq(s, ",") {
		rng, stepS, hasStep := strings.Cut(part, ":")
		loS, hiS, isRange := strings.Cut(rng, "-")
		lo, err := strconv.Atoi(loS)
		if err != nil || lo < 0 {
			return nil, fmt.Errorf("array index %q in %q", part, s)
		}
		hi, step := lo, 1
		if isRange {
			if hi, err = strconv.Atoi(hiS); err != nil || hi < lo {
				return nil, fmt.Errorf("array range %q in %q", part, s)
			}
		}
		if hasStep {
			if step, err = strconv.Atoi(stepS); err != nil || step < 1 {
				return nil, fmt.Errorf("array step %q in %q", part, s)
			}
		}
		if hi >= maxArrayTasks || len(out)+(hi-lo)/step+1 > maxArrayTasks {
			return nil, fmt.Errorf("array %q: more than %d tasks", s, maxArrayTasks)
		}
		for i := lo; i <= hi; i += step {
			out = append(out, i)
		}
	}
	return out, nil
}

// FormatArray writes indices as an --array list, ranges folded ("0-3,7"), with a "%limit" when
// limit > 0.
func FormatArray(ids []int, limit int) string {
	var b strings.Builder
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(ids[i]))
		if j > i {
			b.WriteString("-" + strconv.Itoa(ids[j]))
		}
		i = j + 1
	}
	if limit > 0 {
		b.WriteString("%" + strconv.Itoa(limit))
	}
	return b.String()
}

// Accounting returns a job's tasks from the accounting database (sacct), which keeps jobs after
// squeue has forgotten them; on clusters without accounting it fails.
func (c *Client) Accounting(ctx context.Context, job string) ([]Task, error) {
	out, err := c.run(ctx, "sacct", "-n", "-P", "-X", "-j", job, "-o", "JobID,State,ExitCode")
	if err != nil {
		return nil, err
	}
	return parseAccounting(out)
}

// parseAccounting reads `sacct -n -P -X -o JobID,State,ExitCode` lines.
func parseAccounting(out []byte) ([]Task, error) {
	return parseTasks(out, "sacct", "JobID|State|ExitCode", func(t *Task, code string) { t.ExitCode = code })
}

// ExitCodes returns the exit codes ("code:signal") of a job's finished tasks by index, from
// `scontrol -o show job` (squeue does not show them).
func (c *Client) ExitCodes(ctx context.Context, job string) (map[int]string, error) {
	out, err := c.run(ctx, "scontrol", "-o", "show", "job", job)
	if err != nil {
		return nil, err
	}
	return parseExitCodes(out)
}

// parseExitCodes reads `scontrol -o show job` records (one line each, Key=Value fields).
func parseExitCodes(out []byte) (map[int]string, error) {
	codes := map[int]string{}
	for line := range strings.SplitSeq(string(out), "\n") {
		fields := map[string]string{}
		for f := range strings.FieldsSeq(line) {
			if k, v, ok := strings.Cut(f, "="); ok {
				fields[k] = v
			}
		}
		idx, code := fields["ArrayTaskId"], fields["ExitCode"]
		if idx == "" || code == "" {
			continue
		}
		ids, err := ParseArray(idx)
		if err != nil {
			return nil, fmt.Errorf("%w: scontrol: %w", ErrCommand, err)
		}
		for _, i := range ids {
			codes[i] = code
		}
	}
	return codes, nil
}

// Cancel cancels jobs or tasks (JOB or JOB_INDEX).
func (c *Client) Cancel(ctx context.Context, refs ...string) error {
	if len(refs) == 0 {
		return nil
	}
	_, err := c.run(ctx, "scancel", refs...)
	return err
}

// Node is a compute node: its Slurm name, hostname and address.
type Node struct {
	Name, Host, Addr string
}

// Nodes lists the nodes of a partition ("" : the default partition's and all others').
func (c *Client) Nodes(ctx context.Context, partition string) ([]Node, error) {
	args := []string{"-h", "-N", "-o", "%N|%n|%o"}
	if partition != "" {
		args = append(args, "-p", partition)
	}
	out, err := c.run(ctx, "sinfo", args...)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var nodes []Node
	for line := range strings.SplitSeq(string(out), "\n") {
		f := strings.Split(strings.TrimSpace(line), "|")
		if len(f) != 3 || seen[f[0]] {
			continue
		}
		seen[f[0]] = true
		nodes = append(nodes, Node{Name: f[0], Host: f[1], Addr: f[2]})
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("%w: sinfo lists no nodes (partition %q)", ErrCommand, partition)
	}
	return nodes, nil
}
