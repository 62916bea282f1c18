package flow

import (
	"bufio"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// TestGolden extracts shared captures to JSON lines and compares them with testdata/golden.
// TLS fingerprints are left out (NoTLS): data/tlsfp has its own conformance tests, and these
// files pin down the flow features. Regenerate with go test -run TestGolden -update.
func TestGolden(t *testing.T) {
	needShared(t)
	for _, tc := range []struct{ name, capture string }{
		{"tls-alpn-h2", "ja4/pcap/tls-alpn-h2.pcap"},
		{"http1-with-cookies", "ja4/pcap/http1-with-cookies.pcapng"},
		{"ipv6", "ja4/pcap/ipv6.pcapng"},
		{"quic-tls-handshake", "ja4/pcap/quic-tls-handshake.pcapng"},
		{"xz1_telegram_filtered", "matousp-ja3s/pcap/ma1/xz1_telegram_filtered.pcap"},
		{"single-packets", "ja4/pcap/single-packets.pcap"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), tc.name+".jsonl")
			cfg := Config{NoTLS: true, SeqLen: 20, Privacy: &Privacy{KeepIPs: true}}
			if _, err := ExtractToFile(context.Background(), []string{filepath.Join(sharedData, tc.capture)}, out, cfg); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "golden", tc.name+".jsonl")
			if *update {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if string(got) != string(want) {
				g, w := lines(string(got)), lines(string(want))
				for i := 0; i < max(len(g), len(w)); i++ {
					var gl, wl string
					if i < len(g) {
						gl = g[i]
					}
					if i < len(w) {
						wl = w[i]
					}
					if gl != wl {
						t.Fatalf("line %d differs:\n got %s\nwant %s", i+1, gl, wl)
					}
				}
			}
		})
	}
}

func lines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}
