package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"text/tabwriter"
)

// version is set by the Makefile with -ldflags "-X main.version=...".
var version = ""

// etchVersion returns the version this binary reports and records in files and reports.
func etchVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// env is what every command gets: output streams, a logger and the version.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	log            *slog.Logger
	version        string
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

// commands lists etch's subcommands in the order `etch help` shows them.
func commands() []command {
	return []command{
		{"version", "print the etch version", runVersion},
		{"extract", "packet captures → flows file (.parquet/.jsonl/.csv)", runExtract},
		{"fingerprint", "print TLS/QUIC fingerprints (SNI, JA3, JA4, ...) per flow of captures", runFingerprint},
		{"run", "run an experiment (YAML): trials, cache, report in reports/<name>/<run-id>/", runRun},
		{"validate", "check experiment files without running them", runValidate},
		{"report", "re-render a run directory's report from its results.json", runReport},
		{"compare", "show metric deltas between two run directories", runCompare},
		{"status", "per-trial state of a run directory (done, running, pending, failed, cancelled; Slurm tasks)", runStatus},
		{"trial", "run one planned trial: etch trial run SPEC (worker processes, clusters)", runTrial},
		{"classify", "classify flows in real time from a capture, stdin or a live interface (JSON lines)", runClassify},
		{"data", "datasets: info, import, list, fetch, synth (etch data help)", runData},
	}
}

// errUsage marks errors caused by the command line; main exits 2 on them.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, version: etchVersion()}
	e.log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	os.Exit(run(ctx, e, os.Args[1:]))
}

// run dispatches args to a subcommand and returns the process exit code.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(e.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, e, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			fmt.Fprintf(e.stderr, "etch %s: %v\n", c.name, err)
			return 2
		case errors.Is(err, context.Canceled):
			fmt.Fprintf(e.stderr, "etch %s: interrupted\n", c.name)
			return 130
		default:
			fmt.Fprintf(e.stderr, "etch %s: %v\n", c.name, err)
			return 1
		}
	}
	fmt.Fprintf(e.stderr, "etch: unknown command %q (see etch help)\n", args[0])
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "etch: the Encrypted Traffic Classification Harness\n\nUsage: etch COMMAND [flags] [args]\n\nCommands:")
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, c := range commands() {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nRun `etch COMMAND -h` for a command's flags.")
}

// newFlags returns a flag set for a subcommand that prints its usage to e.stderr and returns
// errors instead of exiting.
func newFlags(e *env, name, argsUsage string) *flag.FlagSet {
	fs := flag.NewFlagSet("etch "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: etch %s [flags] %s\n", name, argsUsage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, allowing flags after positional arguments (etch extract a.pcap -o x).
func parseFlags(fs *flag.FlagSet, args []string) error {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	return fs.Parse(append([]string{"--"}, pos...))
}

func runVersion(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "version", "")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "etch %s\n", e.version)
	return nil
}
