package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/mattn/go-isatty"

	"github.com/etchlab/etch/harness/runner"
	"github.com/etchlab/etch/harness/slurm"
)

// slurmFlags are `etch run`'s flags for the Slurm executor.
type slurmFlags struct {
	settings slurm.Settings
	// executors receives the Slurm executors built for the run (for the job ids after --detach).
	executors []*slurm.Executor
}

// addSlurmFlags registers the Slurm executor's flags on fs.
func addSlurmFlags(fs *flag.FlagSet) *slurmFlags {
	f := &slurmFlags{}
	s := &f.settings
	fs.StringVar(&s.Partition, "partition", "", "slurm: partition (default: executor.slurm.partition, or the cluster's default)")
	fs.StringVar(&s.Time, "time", "", "slurm: time limit per task, e.g. 2:00:00 (default: executor.slurm.time, or the partition's)")
	fs.IntVar(&s.CPUsPerTask, "cpus-per-task", 0, "slurm: CPUs per task, also the trial's threads (default: executor.slurm.cpus_per_task, executor.threads, or 1)")
	fs.StringVar(&s.Mem, "mem", "", "slurm: memory per task, e.g. 8G (default: executor.slurm.mem, or the partition's)")
	fs.IntVar(&s.GPUs, "gpus", 0, "slurm: GPUs per task (default: executor.slurm.gpus; 1 with backend cuda)")
	fs.IntVar(&s.MaxParallel, "max-parallel", 0, "slurm: most tasks running at once, the array's %N (default: executor.slurm.max_parallel, executor.jobs, or no limit)")
	fs.BoolVar(&s.Detach, "detach", false, "slurm: submit, print the job ids and return (follow with etch status RUN_DIR)")
	fs.BoolVar(&s.AssumeShared, "assume-shared", false, "slurm: skip the check that the run directory is on a filesystem the nodes share")
	return f
}

// check refuses Slurm flags on a run whose executor is not slurm (they would be ignored).
func (f *slurmFlags) check(fs *flag.FlagSet, kind string) error {
	if kind == "slurm" {
		return nil
	}
	var set []string
	fs.Visit(func(fl *flag.Flag) {
		if strings.HasPrefix(fl.Usage, "slurm: ") {
			set = append(set, "--"+fl.Name)
		}
	})
	if len(set) > 0 {
		return fmt.Errorf("%w: %s apply to --executor slurm only (this run's executor: %s)", errUsage, strings.Join(set, ", "), kind)
	}
	return nil
}

// slurmExecutor returns the factory of `etch run`'s Slurm executor.
func slurmExecutor(e *env, f *slurmFlags) runner.ExecutorFactory {
	proto := slurm.Executor{Settings: f.settings, Out: e.stderr, Confirm: confirmer(e)}
	return slurm.Factory(proto, func(x *slurm.Executor) { f.executors = append(f.executors, x) })
}

// confirmer returns a yes/no prompt on the terminal, or nil when stdin is not one (the answer
// is then no: a non-interactive run never cancels jobs by itself).
func confirmer(e *env) func(string) bool {
	f, ok := e.stdin.(*os.File)
	if !ok || !(isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		return nil
	}
	return func(q string) bool { return ask(e.stderr, e.stdin, q) }
}

// ask prints a question and reads a line: y or yes (any case) is yes, anything else no.
func ask(w io.Writer, r io.Reader, q string) bool {
	fmt.Fprint(w, "\n"+q)
	line, _ := bufio.NewReader(r).ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes"
}

// detached reports a run left to Slurm with --detach: the job ids on stdout, what to do next on
// stderr.
func detached(e *env, f *slurmFlags, dir string) error {
	for _, x := range f.executors {
		for _, s := range x.Submitted {
			fmt.Fprintf(e.stdout, "array %s (%d task(s))\n", s.Array, len(s.Tasks))
			if s.Merge != "" {
				fmt.Fprintf(e.stdout, "merge %s\n", s.Merge)
			}
		}
	}
	fmt.Fprintf(e.stderr, "detached: `etch status %s` shows the trials; the merge job renders the report "+
		"(or `etch report %s` for whatever has finished); running the same command again follows the jobs\n",
		shellQuote(dir), shellQuote(dir))
	return nil
}

// prepareReport readies a Slurm run directory for `etch report`: trials whose tasks ended
// without a result are recorded as failed with their log tail, finished ones cached. It reports
// whether dir is a Slurm run (its report is then always collected from the trial files).
func prepareReport(ctx context.Context, e *env, dir string) (bool, error) {
	if !slurm.IsRun(dir) {
		return false, nil
	}
	return true, slurm.Merge(ctx, &slurm.Client{}, dir, e.log)
}

func runStatus(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "status", "RUN_DIR")
	asJSON := fs.Bool("json", false, "print the states as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dir, err := runDirArg(fs)
	if err != nil {
		return err
	}
	states, err := slurm.Status(ctx, &slurm.Client{}, dir)
	if err != nil {
		return err
	}
	if *asJSON {
		b, err := json.MarshalIndent(states, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(e.stdout, "%s\n", b)
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "TRIAL\tPARAMS\tSTATE\tTASK\tDETAIL")
	counts := map[string]int{}
	for _, s := range states {
		counts[s.State]++
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.ID, formatParams(s.Params), s.State, orDash(s.Task), s.Detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var parts []string
	for _, st := range []string{slurm.StateDone, slurm.StateRunning, slurm.StatePending, slurm.StateFailed,
		slurm.StateCancelled, slurm.StateNotSubmitted, slurm.StateUnknown} {
		if counts[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[st], st))
		}
	}
	fmt.Fprintf(e.stdout, "%d trial(s): %s\n", len(states), strings.Join(parts, ", "))
	return nil
}

func formatParams(p map[string]any) string {
	if len(p) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		b, _ := json.Marshal(p[k])
		parts[i] = k + "=" + string(b)
	}
	return strings.Join(parts, " ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
