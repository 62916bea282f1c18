package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/etchlab/etch/data"
	"github.com/etchlab/etch/data/flow"
)

// runExtract is `etch extract IN... -o OUT`: captures → flows file.
func runExtract(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "extract", "IN.pcap[ng][.gz]... -o OUT.{parquet,jsonl,csv}")
	out := fs.String("o", "", "output `FILE`; its extension picks the format (.parquet, .jsonl, .csv)")
	first := fs.Int("first-packets", 0, "cut every flow at its first `K` packets (end_reason early): the features etch classify decides on at K, statistics included (0: whole flows)")
	opts := flow.DefaultOptions()
	opts.RegisterFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *first < 0 {
		return fmt.Errorf("%w: --first-packets %d: want K >= 0", errUsage, *first)
	}
	if fs.NArg() == 0 || *out == "" {
		fs.Usage()
		return fmt.Errorf("%w: need inputs and -o OUT", errUsage)
	}
	if _, err := data.FormatOf(*out); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	cfg := flow.Config{Version: e.version, Log: e.log, FirstPackets: *first}
	if err := opts.Apply(&cfg); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	sum, err := flow.ExtractToFile(ctx, fs.Args(), *out, cfg)
	if err != nil {
		return err
	}
	e.log.Info("extracted", "out", *out, "inputs", len(sum.Inputs), "packets", sum.Packets,
		"tcp_udp", sum.Decoded, "flows", sum.Flows, "truncated", len(sum.Truncated), "privacy", cfg.Privacy.Mode())
	return nil
}

// fingerprintKeys are the columns of `etch fingerprint`, in order.
var fingerprintKeys = []string{"file", "proto", "src", "sport", "dst", "dport", "sni", "alpn", "tls_version",
	"ja3", "ja3_full", "ja3s", "ja3s_full", "ja4", "ja4_r", "ja4s"}

// runFingerprint is `etch fingerprint FILE...`: one row per TLS/QUIC flow.
func runFingerprint(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "fingerprint", "FILE.pcap[ng][.gz]...")
	asJSON := fs.Bool("json", false, "print JSON lines instead of a table")
	opts := flow.DefaultOptions()
	opts.KeepIPs = true
	opts.RegisterFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return fmt.Errorf("%w: need capture files", errUsage)
	}
	cfg := flow.Config{Version: e.version, Log: e.log}
	if err := opts.Apply(&cfg); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	var rows [][]string
	_, err := flow.Extract(ctx, fs.Args(), cfg, func(r *data.Record) error {
		if row := fingerprintRow(r); row != nil {
			rows = append(rows, row)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSONRows(e.stdout, rows)
	}
	return writeTable(e.stdout, rows)
}

// fingerprintRow returns a TLS/QUIC flow's row (fingerprintKeys order), nil for other flows.
func fingerprintRow(r *data.Record) []string {
	if r.SNI == "" && r.JA3 == "" && r.JA3S == "" && r.JA4 == "" && r.JA4S == "" && !r.QUIC {
		return nil
	}
	proto := "tls"
	if r.QUIC {
		proto = "quic"
	}
	return []string{r.Capture, proto, r.SrcIP, strconv.Itoa(int(r.SrcPort)), r.DstIP, strconv.Itoa(int(r.DstPort)),
		r.SNI, r.ALPN, r.TLSVersion, r.JA3, r.JA3Full, r.JA3S, r.JA3SFull, r.JA4, r.JA4R, r.JA4S}
}

func writeJSONRows(w io.Writer, rows [][]string) error {
	enc := json.NewEncoder(w)
	for _, row := range rows {
		m := make(map[string]string, len(row))
		for i, k := range fingerprintKeys {
			m[k] = row[i]
		}
		if err := enc.Encode(m); err != nil {
			return err
		}
	}
	return nil
}

func writeTable(w io.Writer, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for i, k := range fingerprintKeys {
		if i > 0 {
			fmt.Fprint(tw, "\t")
		}
		fmt.Fprint(tw, k)
	}
	fmt.Fprintln(tw)
	for _, row := range rows {
		for i, v := range row {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			if v == "" {
				v = "-"
			}
			fmt.Fprint(tw, v)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}
