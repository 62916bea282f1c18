package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etchlab/etch/data"
)

func TestDataSynth(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"parquet", []string{"-o", filepath.Join(dir, "a.parquet"), "--classes", "8", "--flows", "120", "--seed", "3"}, 0, ""},
		{"jsonl keep-ips", []string{"-o", filepath.Join(dir, "a.jsonl"), "--classes", "5", "--flows", "30", "--keep-ips"}, 0, ""},
		{"pcap", []string{"-o", filepath.Join(dir, "a.pcap"), "--classes", "5", "--flows", "30", "--rules-out", filepath.Join(dir, "a.yaml")}, 0, ""},
		{"no output", []string{"--flows", "3"}, 2, "need -o"},
		{"bad extension", []string{"-o", filepath.Join(dir, "a.txt")}, 2, "unknown output format"},
		{"bad classes", []string{"-o", filepath.Join(dir, "b.parquet"), "--classes", "0"}, 2, "classes"},
		{"bad label", []string{"-o", filepath.Join(dir, "c.parquet"), "--label", "nope"}, 2, "-label"},
		{"bad ipv6 share", []string{"-o", filepath.Join(dir, "d.parquet"), "--flows", "5", "--ipv6", "2"}, 1, "IPv6 share"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runCLI(t, append([]string{"data", "synth"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errs, tc.err) {
				t.Fatalf("code %d, stderr %q; want %d and %q", code, errs, tc.code, tc.err)
			}
		})
	}
	recs, meta, err := data.ReadAll(filepath.Join(dir, "a.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 120 || meta.Source != "synth" || meta.Params["seed"] != "3" {
		t.Fatalf("%d records, meta %+v", len(recs), meta)
	}
	classes := map[string]bool{}
	v6 := 0
	for _, r := range recs {
		if r.IPVersion == 6 {
			v6++
		}
		classes[r.Label] = true
		if r.SrcIP != "" {
			t.Fatalf("addresses kept without --keep-ips: %q", r.SrcIP)
		}
	}
	if v6 == 0 || v6 == len(recs) {
		t.Fatalf("%d of %d flows over IPv6, want some", v6, len(recs))
	}
	if len(classes) < 4 || classes["unknown"] {
		t.Fatalf("labels %v", classes)
	}
	b, err := os.ReadFile(filepath.Join(dir, "a.jsonl"))
	if err != nil || !strings.Contains(string(b), `"src_ip":"10.`) {
		t.Fatalf("jsonl with --keep-ips lacks addresses (err %v)", err)
	}
	if st, err := os.Stat(filepath.Join(dir, "a.pcap")); err != nil || st.Size() < 10000 {
		t.Fatalf("pcap: %v", err)
	}
	// The pcap extracts with the written rules into service labels.
	out := filepath.Join(dir, "x.jsonl")
	if code, _, errs := runCLI(t, "extract", filepath.Join(dir, "a.pcap"), "-o", out, "--label-rules", filepath.Join(dir, "a.yaml"), "--label", "service"); code != 0 {
		t.Fatalf("extract: %s", errs)
	}
	if b, err := os.ReadFile(out); err != nil || strings.Contains(string(b), `"label":"unknown"`) || !strings.Contains(string(b), `"label":"searchly"`) {
		t.Fatalf("extracted labels: %v\n%.400s", err, b)
	}
}
