package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etchlab/etch/data"
)

const sharedData = "../../../../shared/data"

func needShared(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(sharedData); err != nil {
		t.Skipf("no %s (shared test captures): %v", sharedData, err)
	}
}

// TestExtractEndToEnd runs etch extract with labels and both privacy options and reads the
// Parquet file back.
func TestExtractEndToEnd(t *testing.T) {
	needShared(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	os.WriteFile(key, []byte("an end-to-end test key, 32 bytes"), 0o600)
	in1 := filepath.Join(sharedData, "ja4/pcap/tls-alpn-h2.pcap")
	in2 := filepath.Join(sharedData, "matousp-ja3s/pcap/ma4/KBKlic1.pcapng")
	out := filepath.Join(dir, "flows.parquet")
	code, _, errs := runCLI(t, "extract", in1, in2, "-o", out, "--label-rules", "../../../data/rules/example-rules.yaml",
		"--label", "service", "--pseudonymize-ips", key, "--hash-sni", key, "--seq-len", "50")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	recs, meta, err := data.ReadAll(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) < 10 || meta.SeqLen != 50 || meta.Source != "extract" || meta.Version != "test" ||
		!strings.Contains(meta.Privacy, "ips=pseudonymized") || !strings.Contains(meta.Privacy, "sni=hmac") {
		t.Fatalf("%d records, meta %+v", len(recs), meta)
	}
	if len(meta.Inputs) != 2 || meta.Inputs[0].Name != "tls-alpn-h2.pcap" || meta.Inputs[0].SHA256 != sha(t, in1) || meta.Inputs[1].SHA256 != sha(t, in2) {
		t.Errorf("inputs %+v", meta.Inputs)
	}
	services := map[string]bool{}
	for _, r := range recs {
		if len(r.SeqSize) != 50 {
			t.Fatalf("seq_size has %d values", len(r.SeqSize))
		}
		if r.SrcIP == "" || strings.HasPrefix(r.SrcIP, "192.168.") || strings.HasPrefix(r.SrcIP, "2001:4998:") {
			t.Errorf("address %q not pseudonymized", r.SrcIP)
		}
		if strings.Contains(r.SNI, ".") {
			t.Errorf("SNI %q in clear", r.SNI)
		}
		if r.Label != r.Service {
			t.Errorf("label %q, service %q", r.Label, r.Service)
		}
		services[r.Service] = true
	}
	if !services["Cloudflare"] || !services["unknown"] {
		t.Errorf("services %v", services)
	}
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("output mode %v, %v", st.Mode(), err)
	}
}

func sha(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestExtractFirstPackets checks --first-packets: no record holds more than K packets, the flows
// that reached K say so (end_reason early), the footer records K, and no flow is lost.
func TestExtractFirstPackets(t *testing.T) {
	needShared(t)
	dir := t.TempDir()
	in := filepath.Join(sharedData, "matousp-ja3s/pcap/ma4/KBKlic1.pcapng")
	whole, cut := filepath.Join(dir, "whole.parquet"), filepath.Join(dir, "cut.parquet")
	for _, args := range [][]string{{"extract", in, "-o", whole}, {"extract", in, "-o", cut, "--first-packets", "6"}} {
		if code, _, errs := runCLI(t, args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
	}
	all, _, err := data.ReadAll(whole)
	if err != nil {
		t.Fatal(err)
	}
	recs, meta, err := data.ReadAll(cut)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(all) || meta.Params["first_packets"] != "6" {
		t.Fatalf("%d records (whole flows: %d), params %v", len(recs), len(all), meta.Params)
	}
	early := 0
	for _, r := range recs {
		n := r.PktsFwd + r.PktsBwd
		if n > 6 || (n == 6) != (r.EndReason == "early") {
			t.Fatalf("record with %d packets, end_reason %q", n, r.EndReason)
		}
		if n == 6 {
			early++
		}
	}
	if early == 0 {
		t.Fatal("no flow reached 6 packets")
	}
	if code, _, _ := runCLI(t, "extract", in, "-o", cut, "--first-packets", "-1"); code != 2 {
		t.Errorf("--first-packets -1: exit %d, want 2", code)
	}
}

func TestFingerprint(t *testing.T) {
	needShared(t)
	in := filepath.Join(sharedData, "ja4/pcap/tls-alpn-h2.pcap")
	code, out, errs := runCLI(t, "fingerprint", "--json", in)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var row map[string]string
	if err := json.Unmarshal([]byte(strings.Split(out, "\n")[0]), &row); err != nil {
		t.Fatal(err)
	}
	for _, k := range fingerprintKeys {
		if _, ok := row[k]; !ok {
			t.Errorf("key %s missing", k)
		}
	}
	if row["sni"] != "www.cloudflare.com" || row["proto"] != "tls" || row["dport"] != "443" || row["ja4"] == "" || row["ja3"] == "" {
		t.Errorf("row %v", row)
	}
	code, out, _ = runCLI(t, "fingerprint", in)
	if code != 0 || !strings.Contains(out, "ja4_r") || !strings.Contains(out, "www.cloudflare.com") {
		t.Errorf("table: exit %d\n%s", code, out)
	}
}

func TestExtractErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pcap")
	os.WriteFile(garbage, []byte("this is not a packet capture, just text"), 0o644)
	out := filepath.Join(dir, "out.parquet")
	for _, tc := range []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"extract", garbage}, 2, "need inputs and -o"},
		{[]string{"extract", garbage, "-o", filepath.Join(dir, "x.txt")}, 2, "unknown output format"},
		{[]string{"extract", garbage, "-o", out, "--label", "service"}, 2, "needs -label-rules"},
		{[]string{"extract", garbage, "-o", out}, 1, "garbage.pcap: offset 0"},
		{[]string{"fingerprint"}, 2, "need capture files"},
	} {
		code, _, errs := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.err) {
			t.Errorf("etch %v: exit %d, stderr %q; want %d, %q", tc.args, code, errs, tc.code, tc.err)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("failed extract left %s", out)
	}
}
