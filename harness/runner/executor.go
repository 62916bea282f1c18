package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Executor runs trials somewhere: in this process, in worker processes, on a cluster. The runner
// plans the trials, skips cached ones, and hands the rest to an executor; adding an executor
// touches nothing else.
type Executor interface {
	// Name names the executor in logs and reports (local, process, slurm, ...).
	Name() string
	// Run runs every trial and calls done once per finished trial, failed ones included (a
	// result with Trial.Error set). done may be called from several goroutines at once. Run
	// returns when every trial has finished, or with ctx's error soon after ctx is done, having
	// stopped the trials still running; results already passed to done stay valid.
	Run(ctx context.Context, trials []*TrialSpec, done func(*TrialResult)) error
}

// Local runs trials in this process on a pool of Jobs goroutines.
type Local struct {
	Worker *Worker
	Jobs   int
	// Started, when not nil, is called as each trial starts.
	Started func(*TrialSpec)
}

// Name returns "local".
func (l *Local) Name() string { return "local" }

// Run runs the trials on the pool.
func (l *Local) Run(ctx context.Context, trials []*TrialSpec, done func(*TrialResult)) error {
	l.Worker.Expect(trials)
	return pool(ctx, l.Jobs, trials, func(ctx context.Context, s *TrialSpec) error {
		if l.Started != nil {
			l.Started(s)
		}
		r, err := l.Worker.Run(ctx, s)
		if err != nil {
			return err
		}
		done(r)
		return nil
	})
}

// Process runs each trial as a separate worker process, `etch trial run SPEC`, which writes its
// result file atomically: the path trials take to another binary (the CUDA build) or another
// machine (a cluster executor writes the same spec files and runs the same command).
type Process struct {
	// Command is the worker command line before the spec path (default: this executable,
	// "trial", "run").
	Command []string
	// Env is added to the worker's environment.
	Env []string
	// Dir is where spec, result and log files go (the run directory's trials/).
	Dir  string
	Jobs int
	// Started, when not nil, is called as each trial starts; Unit, when not nil, gets the
	// training progress the worker reports (ProgressLine lines in its output).
	Started func(*TrialSpec)
	Unit    func(trial, model string, done, total int, unit string)
}

// ProgressPrefix starts the lines in which a worker process reports training progress:
// "etch-progress TRIAL MODEL UNIT DONE TOTAL" (see ProgressLine).
const ProgressPrefix = "etch-progress "

// ProgressLine formats a progress report for a worker's output.
func ProgressLine(trial, model string, done, total int, unit string) string {
	return fmt.Sprintf("%s%s %s %s %d %d", ProgressPrefix, trial, model, unit, done, total)
}

// parseProgress reads a ProgressLine.
func parseProgress(line string) (trial, model, unit string, done, total int, ok bool) {
	rest, ok := strings.CutPrefix(line, ProgressPrefix)
	if !ok {
		return "", "", "", 0, 0, false
	}
	n, err := fmt.Sscanf(rest, "%s %s %s %d %d", &trial, &model, &unit, &done, &total)
	return trial, model, unit, done, total, err == nil && n == 5
}

// progressWriter collects a worker's output and passes its progress lines on.
type progressWriter struct {
	mu      sync.Mutex
	out     bytes.Buffer
	partial []byte
	unit    func(trial, model string, done, total int, unit string)
}

func (w *progressWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.out.Write(b)
	if w.unit == nil {
		return len(b), nil
	}
	w.partial = append(w.partial, b...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		if t, m, u, d, n, ok := parseProgress(string(w.partial[:i])); ok {
			w.unit(t, m, d, n, u)
		}
		w.partial = w.partial[i+1:]
	}
	return len(b), nil
}

func (w *progressWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.out.String()
}

// Name returns "process".
func (p *Process) Name() string { return "process" }

// LogTailBytes is how much of a failed worker's log a result keeps.
const LogTailBytes = 2000

// Run starts one worker process per trial, Jobs at a time.
func (p *Process) Run(ctx context.Context, trials []*TrialSpec, done func(*TrialResult)) error {
	cmd := p.Command
	if len(cmd) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("process executor: %w", err)
		}
		cmd = []string{exe, "trial", "run"}
	}
	if err := os.MkdirAll(p.Dir, 0o755); err != nil {
		return fmt.Errorf("process executor: %w", err)
	}
	return pool(ctx, p.Jobs, trials, func(ctx context.Context, s *TrialSpec) error {
		if p.Started != nil {
			p.Started(s)
		}
		spec := *s
		specPath := filepath.Join(p.Dir, s.ID+".spec.json")
		spec.Result = filepath.Join(p.Dir, s.ID+".result.json")
		_ = os.Remove(spec.Result)
		if err := WriteSpec(specPath, &spec); err != nil {
			return err
		}
		out := &progressWriter{unit: p.Unit}
		start := time.Now()
		c := exec.CommandContext(ctx, cmd[0], append(cmd[1:], specPath)...)
		c.Env = append(os.Environ(), p.Env...)
		c.Stdout, c.Stderr = out, out
		c.Cancel = func() error { return c.Process.Signal(os.Interrupt) }
		c.WaitDelay = 10 * time.Second
		runErr := c.Run()
		_ = os.WriteFile(filepath.Join(p.Dir, s.ID+".log"), []byte(out.String()), 0o644)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r, err := ReadResult(spec.Result)
		if runErr != nil || err != nil {
			why := runErr
			if why == nil {
				why = err
			}
			r = &TrialResult{Version: SpecVersion, Key: s.Key, Seconds: time.Since(start).Seconds()}
			r.Trial.ID, r.Trial.Params, r.Trial.Repeat, r.Trial.Seed = s.ID, s.Params, s.Repeat, s.Seed
			r.Trial.Error = fmt.Sprintf("worker process: %v", why)
			r.Trial.LogTail = tail(out.String(), LogTailBytes)
		} else if r.Failed() && r.Trial.LogTail == "" {
			r.Trial.LogTail = tail(out.String(), LogTailBytes)
		}
		done(r)
		return nil
	})
}

// readTail returns the last LogTailBytes of a log file.
func readTail(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return tail(string(b), LogTailBytes), nil
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

// pool runs fn on every trial with at most jobs at once, in order of the slice. The first error
// (other than from a cancelled context) stops the pool; cancellation stops starting new trials.
func pool(ctx context.Context, jobs int, trials []*TrialSpec, fn func(context.Context, *TrialSpec) error) error {
	jobs = max(1, min(jobs, len(trials)))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan *TrialSpec)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range next {
				if err := fn(ctx, s); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					cancel()
				}
			}
		}()
	}
feed:
	for _, s := range trials {
		select {
		case next <- s:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first != nil && !errors.Is(first, context.Canceled) {
		return first
	}
	return ctx.Err()
}
