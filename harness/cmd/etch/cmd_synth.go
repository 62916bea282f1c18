package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/etchlab/etch/data"
	"github.com/etchlab/etch/data/flow"
	"github.com/etchlab/etch/data/synth"
)

// runDataSynth is `etch data synth -o OUT`: the traffic lab. A .pcap output gets the packets;
// .parquet, .jsonl and .csv get flow records, extracted by the same flow table as captures.
func runDataSynth(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "data synth", "-o OUT.{parquet,jsonl,csv,pcap}")
	out := fs.String("o", "", "output `FILE`; .pcap writes packets, .parquet/.jsonl/.csv flow records")
	classes := fs.Int("classes", 30, "number of services (classes); beyond the built-in catalogue they are made up from the seed")
	flows := fs.Int("flows", 20000, "number of flows")
	seed := fs.Uint64("seed", 1, "random seed: the same seed gives the same dataset")
	zipf := fs.Float64("zipf", 1, "class frequency skew: weight of rank i ∝ 1/i^zipf")
	rate := fs.Float64("rate", 50, "mean new flows per second of capture time")
	ipv6 := fs.Float64("ipv6", 0.15, "share of clients that reach services over IPv6 (0..1)")
	workers := fs.Int("workers", 0, "goroutines building flows (0: GOMAXPROCS)")
	rulesOut := fs.String("rules-out", "", "also write label rules (SNI → service, category) for etch extract --label-rules to `FILE`")
	opts := flow.DefaultOptions()
	opts.LabelFrom = flow.LabelService
	opts.RegisterFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("%w: need -o OUT and no positional arguments", errUsage)
	}
	cfg := synth.Config{Classes: *classes, Flows: *flows, Seed: *seed, Zipf: *zipf, Rate: *rate, IPv6: *ipv6, Workers: *workers}
	if *flows <= 0 || *classes <= 0 {
		return fmt.Errorf("%w: -flows and -classes must be positive", errUsage)
	}
	start := time.Now()
	if *rulesOut != "" {
		if err := synth.WriteRulesFile(*rulesOut, cfg); err != nil {
			return err
		}
	}
	if strings.EqualFold(filepath.Ext(*out), ".pcap") {
		if err := synth.WritePcap(ctx, cfg, *out); err != nil {
			return err
		}
		e.log.Info("synth", "out", *out, "flows", *flows, "classes", *classes, "seed", *seed,
			"seconds", time.Since(start).Seconds())
		return nil
	}
	if _, err := data.FormatOf(*out); err != nil {
		return fmt.Errorf("%w: %v (or .pcap)", errUsage, err)
	}
	// The ground truth labels every flow, so -label service/category need no rules file here;
	// the extractor's labeler runs on SNI and the lab relabels.
	from := opts.LabelFrom
	switch from {
	case flow.LabelSNI, flow.LabelService, flow.LabelCategory:
	default:
		return fmt.Errorf("%w: -label %q: want sni, service or category", errUsage, from)
	}
	if opts.LabelRules == "" {
		opts.LabelFrom = flow.LabelSNI
	}
	fcfg := flow.Config{Version: e.version, Log: e.log}
	if err := opts.Apply(&fcfg); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	fcfg.Labeler.From = from
	sum, err := synth.WriteFile(ctx, cfg, fcfg, *out)
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	e.log.Info("synth", "out", *out, "flows", sum.Flows, "records", sum.Records, "packets", sum.Packets,
		"split", sum.Split, "seed", *seed, "seconds", secs, "flows_per_s", float64(sum.Flows)/secs)
	return nil
}
