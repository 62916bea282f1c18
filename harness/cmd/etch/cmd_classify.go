package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/etchlab/etch/data/flow"
	"github.com/etchlab/etch/harness/model"
	"github.com/etchlab/etch/harness/model/saved"
	"github.com/etchlab/etch/harness/realtime"
)

// runClassify is `etch classify --model M INPUT|-|--iface NAME`: real-time classification.
func runClassify(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "classify", "--model M (CAPTURE.pcap[ng][.gz] | - | --iface NAME)")
	modelPath := fs.String("model", "", "`M`: a run directory, a saved model (.etchm), a native etch model or an .onnx file")
	trial := fs.String("trial", "", "trial `ID` of the model in a run directory (default: the first)")
	name := fs.String("name", "", "model `NAME` in a run directory (default: the trial's only model)")
	iface := fs.String("iface", "", "capture live on interface `NAME` (AF_PACKET; needs CAP_NET_RAW)")
	packets := fs.Int("packets", 0, "decide after `K` packets (0: the model's trained K; -1: only at flow end)")
	features := fs.String("features", "", "bare models only: the data.features `LIST` (comma-separated) the model reads")
	classes := fs.String("classes", "", "bare models only: class names (comma-separated `LIST`)")
	layout := fs.String("layout", "flat", "ONNX models: input layout, flat or seq")
	preprocess := fs.String("preprocess", "", "bare models only: take features, K, scaler and classes from this saved model (`FILE.etchm`), e.g. the one an .onnx was exported from")
	batch := fs.Int("batch", 128, "largest micro-batch of decisions (128: the CNN-LSTM preset is fastest there on this CPU)")
	wait := fs.Duration("max-wait", 500*time.Microsecond, "longest a decision waits for its micro-batch while the model is idle (under load batches grow while the model runs)")
	threads := fs.Int("threads", 1, "threads the model may use")
	every := fs.Duration("stats-every", 5*time.Second, "print counters to stderr this often (0: only at the end and on SIGUSR1)")
	opts := flow.DefaultOptions()
	opts.RegisterFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *modelPath == "" {
		fs.Usage()
		return fmt.Errorf("%w: need --model", errUsage)
	}
	if (*iface != "") == (fs.NArg() > 0) || fs.NArg() > 1 {
		fs.Usage()
		return fmt.Errorf("%w: need exactly one input: a capture file, - (stdin) or --iface NAME", errUsage)
	}
	cfg := flow.Config{Version: e.version, Log: e.log}
	if err := opts.Apply(&cfg); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	lo := realtime.LoadOptions{Trial: *trial, Name: *name, Packets: max(*packets, 0), Layout: *layout,
		Env: model.Env{Threads: max(*threads, 1), Log: e.log}}
	if *features != "" {
		lo.Features = splitList(*features)
	}
	if *classes != "" {
		lo.Classes = splitList(*classes)
	}
	if *preprocess != "" {
		b, err := saved.ReadFile(*preprocess, lo.Env)
		if err != nil {
			return err
		}
		lo.Preprocess = &b.Preprocess
	}
	c, err := realtime.Load(*modelPath, lo)
	if err != nil {
		return err
	}
	src, closeSrc, srcName, err := openClassifyInput(ctx, e, *iface, fs.Args())
	if err != nil {
		return err
	}
	defer closeSrc()
	eng, err := realtime.New(c, realtime.Options{Flow: cfg, Packets: *packets, Batch: *batch, MaxWait: *wait, Log: e.log},
		realtime.JSONLines(e.stdout))
	if err != nil {
		return err
	}
	e.log.Info("classify", "model", c.Source, "input", srcName, "packets_k", eng.Packets(),
		"features", len(c.Pre.TabNames)+len(c.Pre.SeqChannels), "classes", len(c.Pre.ClassNames), "privacy", cfg.Privacy.Mode())

	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		reportCounters(e.stderr, eng, *every, done)
	}()
	start := time.Now()
	err = eng.Run(ctx, src)
	close(done)
	<-stopped
	printCounters(e.stderr, eng.Counters(), time.Since(start), "final")
	if errors.Is(err, context.Canceled) {
		return nil // SIGINT/SIGTERM: pending flows were flushed and classified
	}
	return err
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// openClassifyInput opens the packet source: a live interface, stdin (-) or a capture file.
// A read from stdin cannot be interrupted, so stdin is copied through a pipe that is closed
// when ctx is cancelled (SIGINT/SIGTERM), which ends the engine's blocked read.
func openClassifyInput(ctx context.Context, e *env, iface string, args []string) (realtime.Source, func(), string, error) {
	switch {
	case iface != "":
		l, err := realtime.OpenLive(iface)
		if err != nil {
			return nil, nil, "", err
		}
		return l, func() { l.Close() }, "iface " + iface, nil
	case args[0] == "-":
		in := e.stdin
		if in == nil {
			in = os.Stdin
		}
		pr, pw := io.Pipe()
		go func() {
			_, err := io.Copy(pw, in)
			pw.CloseWithError(err) // nil: EOF
		}()
		stop := context.AfterFunc(ctx, func() { pr.CloseWithError(context.Canceled) })
		r, err := flow.NewReader(pr, "stdin")
		if err != nil {
			stop()
			if ctx.Err() != nil {
				return nil, nil, "", ctx.Err()
			}
			return nil, nil, "", err
		}
		return r, func() { stop(); r.Close(); pr.Close() }, "stdin", nil
	default:
		r, err := flow.Open(args[0])
		if err != nil {
			return nil, nil, "", err
		}
		return r, func() { r.Close() }, args[0], nil
	}
}

// reportCounters prints the counters every `every` (when > 0) and on SIGUSR1 until done closes.
func reportCounters(w io.Writer, eng *realtime.Engine, every time.Duration, done <-chan struct{}) {
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	defer signal.Stop(usr1)
	var tick <-chan time.Time
	if every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
	last, lastT := eng.Counters(), time.Now()
	for {
		select {
		case <-done:
			return
		case <-usr1:
			printCounters(w, eng.Counters(), 0, "SIGUSR1")
		case now := <-tick:
			c := eng.Counters()
			dt := now.Sub(lastT).Seconds()
			fmt.Fprintf(w, "classify: %.0f pkts/s, %.0f decisions/s; ", float64(c.Packets-last.Packets)/dt, float64(c.Decisions-last.Decisions)/dt)
			printCounters(w, c, 0, "")
			last, lastT = c, now
		}
	}
}

func printCounters(w io.Writer, c realtime.Counters, elapsed time.Duration, tag string) {
	if tag != "" {
		fmt.Fprintf(w, "classify (%s): ", tag)
	}
	fmt.Fprintf(w, "packets %d (tcp/udp %d), flows %d (open %d), decisions %d (early %d, at end %d), evictions %d, drops %d, latency p50 %d µs p99 %d µs",
		c.Packets, c.Decoded, c.Flows, c.Open, c.Decisions, c.Early, c.AtEnd, c.Evictions, c.Drops, c.LatencyP50US, c.LatencyP99US)
	if s := elapsed.Seconds(); s > 0 {
		fmt.Fprintf(w, ", %.0f pkts/s over %.1f s (GOMAXPROCS %d)", float64(c.Packets)/s, s, runtime.GOMAXPROCS(0))
	}
	fmt.Fprintln(w)
}
