package tlsfp

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// suricataKeys are the EVE fields of suricata-verify expectations that etch computes, and
// how to read them from a Result.
var suricataKeys = map[string]func(Result) string{
	"tls.ja3.hash":    func(r Result) string { return r.JA3 },
	"tls.ja3.string":  func(r Result) string { return r.JA3Full },
	"tls.ja3s.hash":   func(r Result) string { return r.JA3S },
	"tls.ja3s.string": func(r Result) string { return r.JA3SFull },
	"tls.ja4":         func(r Result) string { return r.JA4 },
	"quic.ja4":        func(r Result) string { return r.JA4 },
	"tls.sni":         func(r Result) string { return r.SNI },
}

// suricataDiffs are deliberate differences from suricata-verify: the expected value, the
// value etch gives instead, and why.
var suricataDiffs = map[string]struct{ etch, why string }{
	"t10i070600_c50f5591e341_ce66f3b797c1": {
		etch: "t10i070600_c50f5591e341_c39ab67fec8e",
		why: "the ClientHello has no signature_algorithms; FoxIO's JA4 text and Rust reference hash the extension " +
			"list without a trailing '_' then, Suricata hashes it with one",
	},
}

// suricataExpect reads a suricata-verify test.yaml: the capture it runs on and the
// expected values of suricataKeys.
func suricataExpect(t *testing.T, path string) (pcap string, want map[string][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dir := filepath.Dir(path)
	want = map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"`)
		if k == "pcap" {
			pcap = filepath.Join(dir, v)
			continue
		}
		if _, ok := suricataKeys[k]; ok {
			want[k] = append(want[k], v)
		}
	}
	if pcap == "" {
		m, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
		if len(m) == 1 {
			pcap = m[0]
		}
	}
	return pcap, want
}

// TestSuricataVerify checks every JA3, JA3S, JA4 and SNI value that suricata-verify's
// tests expect against the flows of the test's capture.
func TestSuricataVerify(t *testing.T) {
	needData(t)
	yamls, _ := filepath.Glob(filepath.Join(sharedData, "suricata-verify/tests/*/test.yaml"))
	more, _ := filepath.Glob(filepath.Join(sharedData, "suricata-verify/tests/*/*/test.yaml"))
	yamls = append(yamls, more...)
	checked := 0
	for _, y := range yamls {
		rel, _ := filepath.Rel(filepath.Join(sharedData, "suricata-verify/tests"), filepath.Dir(y))
		pcap, want := suricataExpect(t, y)
		if len(want) == 0 {
			continue
		}
		t.Run(rel, func(t *testing.T) {
			if pcap == "" {
				t.Fatalf("no capture for %s", y)
			}
			rs, err := track(t, pcap)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			for k, vs := range want {
				var got []string
				for _, r := range rs {
					if v := suricataKeys[k](r.res); v != "" {
						got = append(got, v)
					}
				}
				for _, v := range vs {
					checked++
					if d, ok := suricataDiffs[v]; ok {
						if !slices.Contains(got, d.etch) {
							t.Errorf("%s: listed difference %q expected; etch has %q", k, d.etch, got)
						}
						t.Logf("deliberate difference: %s = %q, etch %q: %s", k, v, d.etch, d.why)
						continue
					}
					if !slices.Contains(got, v) {
						t.Errorf("%s = %q expected; etch has %q", k, v, got)
					}
				}
			}
		})
	}
	// The JA3 of the QUIC v2 capture is checked by a Lua script upstream (ja3-lua-rules-quic).
	t.Run("quic-v2-ja3", func(t *testing.T) {
		rs, err := track(t, filepath.Join(sharedData, "suricata-verify/tests/quic-v2-ja3/input.pcap"))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range rs {
			found = found || r.res.JA3 == "ea0aece5703cb982b232a0684fc35b16" && r.res.QUIC
		}
		if !found {
			t.Error("QUIC v2 ClientHello JA3 ea0aece5703cb982b232a0684fc35b16 not found")
		}
	})
	t.Logf("suricata-verify: %d expected values checked", checked)
}
