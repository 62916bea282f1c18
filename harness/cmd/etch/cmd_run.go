package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/mattn/go-isatty"

	"github.com/etchlab/etch/harness/config"
	"github.com/etchlab/etch/harness/report"
	"github.com/etchlab/etch/harness/runner"
	"github.com/etchlab/etch/harness/slurm"
)

// setFlags collects repeated --set key=value flags.
type setFlags []string

func (s *setFlags) String() string     { return strings.Join(*s, " ") }
func (s *setFlags) Set(v string) error { *s = append(*s, v); return nil }

// loadExperiment reads path, applies the overrides and validates the result against the
// registered model types.
func loadExperiment(path string, sets []string, types []string) (*config.Experiment, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	exp, err := config.Parse(path, b)
	if err != nil {
		return nil, err
	}
	var ovs []config.Override
	for _, s := range sets {
		o, err := config.ParseOverride(s)
		if err != nil {
			return nil, err
		}
		ovs = append(ovs, o)
	}
	if len(ovs) > 0 {
		if exp, err = exp.Apply(ovs...); err != nil {
			return nil, err
		}
	}
	if err := exp.Validate(types); err != nil {
		return nil, err
	}
	return exp, nil
}

// rerunCommand is the command line a report shows to re-run the experiment: the file and the
// overrides (flags that do not change results, like --jobs or --out, are left out).
func rerunCommand(file string, sets []string) string {
	parts := []string{"etch", "run", shellQuote(file)}
	for _, s := range sets {
		parts = append(parts, "--set", shellQuote(s))
	}
	return strings.Join(parts, " ")
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

func runRun(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "run", "FILE")
	var sets setFlags
	fs.Var(&sets, "set", "override a key: --set data.filter.top_n=10 (repeatable; value in YAML)")
	out := fs.String("out", "", "run directory (default reports/<name>/<run-id> under the working directory)")
	jobs := fs.Int("jobs", 0, "trials run at once (default: from the cores and executor.threads)")
	threads := fs.Int("threads", 0, "threads per trial (default: cores / jobs)")
	executor := fs.String("executor", "", "where trials run: local, process or slurm (default: the experiment's executor.kind)")
	sl := addSlurmFlags(fs)
	cache := fs.String("cache", "", `trial cache directory, or "off" (default reports/.cache)`)
	progress := fs.String("progress", "auto", "progress display: auto (bars on a terminal), bars, lines or none")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: want one experiment file", errUsage)
	}
	file := fs.Arg(0)
	reg := runner.DefaultRegistry("")
	exp, err := loadExperiment(file, sets, reg.Types())
	if err != nil {
		return err
	}
	if err := sl.check(fs, cmp.Or(*executor, exp.Executor.Kind)); err != nil {
		return err
	}
	opts := runner.Options{Version: e.version, OutDir: *out, CacheDir: *cache, Executor: *executor, Jobs: *jobs,
		Threads: *threads, Registry: reg, Log: e.log, Command: rerunCommand(file, sets), Executors: runExecutors(e, sl)}
	switch *progress {
	case "auto":
		opts.Progress = runner.NewProgress(e.stderr, isTerminal(e.stderr))
	case "bars":
		opts.Progress = runner.NewProgress(e.stderr, true)
	case "lines":
		opts.Progress = runner.NewProgress(e.stderr, false)
	case "none":
	default:
		return fmt.Errorf("%w: --progress %q: want auto, bars, lines or none", errUsage, *progress)
	}
	if opts.Progress != nil {
		// The progress display says what runs; info records of the models would break up the bars.
		opts.Log = slog.New(minLevel{e.log.Handler(), slog.LevelWarn})
	}
	if sl.settings.Detach {
		opts.Progress = nil
	}
	res, err := runner.Run(ctx, exp, opts)
	if errors.Is(err, slurm.ErrDetached) {
		return detached(e, sl, res.Dir)
	}
	if err != nil {
		if errors.Is(err, context.Canceled) && res != nil {
			fmt.Fprintf(e.stderr, "interrupted: %d trial(s) finished and cached; run the same command again to resume\n", res.Ran)
		}
		return err
	}
	fmt.Fprintf(e.stdout, "%s\n", filepath.Join(res.Dir, report.ReportFile))
	if res.Failed > 0 {
		return fmt.Errorf("%d of %d trial(s) failed; see the report's failed trials", res.Failed, len(res.Results.Trials))
	}
	return nil
}

// minLevel drops records below a level.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(as), h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.min}
}

// runExecutors lists the executors `etch run` offers (--executor or executor.kind): the runner's
// local and process executors, and the Slurm executor with its flags.
func runExecutors(e *env, sl *slurmFlags) map[string]runner.ExecutorFactory {
	ex := runner.DefaultExecutors()
	ex["slurm"] = slurmExecutor(e, sl)
	return ex
}

func runValidate(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "validate", "FILE...")
	var sets setFlags
	fs.Var(&sets, "set", "override a key before validating (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("%w: want an experiment file", errUsage)
	}
	types := runner.DefaultRegistry("").Types()
	var errs []error
	for _, file := range fs.Args() {
		exp, err := loadExperiment(file, sets, types)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		points, err := exp.Expand()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(e.stdout, "%s: ok: experiment %s, %d trial(s) (%d sweep point(s) × %d repeat(s)), %d model(s), hash %s\n",
			file, exp.Name, len(points)*exp.Repeats, len(points), exp.Repeats, len(exp.Models), exp.Hash()[:16])
	}
	return errors.Join(errs...)
}

func runReport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "report", "RUN_DIR")
	collect := fs.Bool("collect", false, "rebuild results.json from the run's plan and finished trials first (automatic when it is missing)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dir, err := runDirArg(fs)
	if err != nil {
		return err
	}
	if isSlurm, err := prepareReport(ctx, e, dir); err != nil {
		return err
	} else if isSlurm {
		*collect = true
	}
	if _, err := os.Stat(filepath.Join(dir, report.ResultsFile)); errors.Is(err, os.ErrNotExist) {
		if _, err := os.Stat(filepath.Join(dir, runner.PlanFile)); err == nil {
			*collect = true
		}
	}
	if *collect {
		res, err := runner.Collect(dir, e.log)
		if err != nil {
			return err
		}
		if err := report.Save(dir, res); err != nil {
			return err
		}
	}
	res, err := report.Load(dir)
	if err != nil {
		return err
	}
	if err := report.Render(dir, res); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, filepath.Join(dir, report.ReportFile))
	return nil
}

func runCompare(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "compare", "RUN_A RUN_B")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return fmt.Errorf("%w: want two run directories", errUsage)
	}
	a, err := report.Load(fs.Arg(0))
	if err != nil {
		return err
	}
	b, err := report.Load(fs.Arg(1))
	if err != nil {
		return err
	}
	return report.Compare(e.stdout, a, b)
}

func runTrial(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "run" {
		return fmt.Errorf("%w: etch trial run SPEC", errUsage)
	}
	fs := newFlags(e, "trial run", "SPEC")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: want one trial spec file", errUsage)
	}
	w := &runner.Worker{Registry: runner.DefaultRegistry(""), Log: e.log}
	// Progress goes to stderr in lines the process executor parses (and a person can read).
	w.Progress = func(trial, model string, done, total int, unit string) {
		fmt.Fprintln(e.stderr, runner.ProgressLine(trial, model, done, total, unit))
	}
	r, err := runner.RunSpecFile(ctx, fs.Arg(0), w)
	if err != nil {
		return err
	}
	status := "ok"
	if r.Failed() {
		status = "failed: " + r.Trial.Error
	}
	fmt.Fprintf(e.stdout, "trial %s %s (%.1fs)\n", r.Trial.ID, status, r.Seconds)
	return nil
}

// runDirArg returns the one argument left in fs, a run directory checked by checkRunDir.
func runDirArg(fs *flag.FlagSet) (string, error) {
	if fs.NArg() != 1 {
		return "", fmt.Errorf("%w: want one run directory", errUsage)
	}
	dir := fs.Arg(0)
	return dir, checkRunDir(dir)
}

// checkRunDir says clearly when dir is not a run directory of etch run (one holds plan.json or
// results.json), rather than failing on the first file it lacks.
func checkRunDir(dir string) error {
	for _, f := range []string{runner.PlanFile, report.ResultsFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return nil
		}
	}
	if _, err := os.Stat(dir); err != nil {
		return err
	}
	return fmt.Errorf("%s is not a run directory of etch run (no %s or %s)", dir, runner.PlanFile, report.ResultsFile)
}
