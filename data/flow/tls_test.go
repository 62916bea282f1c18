package flow

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etchlab/etch/data"
)

// TestTLSAgainstTshark runs the whole pipeline (reader, table, tlsfp tracker) over captures with
// a tshark baseline and checks that every ClientHello tshark saw (SNI, JA3) is in a flow record.
func TestTLSAgainstTshark(t *testing.T) {
	needShared(t)
	for _, c := range []string{"ja4/pcap/tls-alpn-h2.pcap", "ja4/pcap/tls12.pcap", "ja4/pcap/tls3.pcapng",
		"ja4/pcap/quic-tls-handshake.pcapng", "matousp-ja3s/pcap/ma4/KBKlic1.pcapng", "matousp-ja3s/pcap/ma1/xz1_slack.pcap"} {
		t.Run(filepath.Base(c), func(t *testing.T) {
			base := filepath.Join(sharedData, "tshark-ja3-baseline", strings.ReplaceAll(c, "/", "_")+".tsv")
			want := tsharkHellos(t, base)
			got := map[string]bool{}
			_, err := Extract(context.Background(), []string{filepath.Join(sharedData, c)}, Config{}, func(r *data.Record) error {
				if r.JA3 != "" {
					got[r.SNI+" "+r.JA3] = true
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(want) == 0 {
				t.Fatalf("no ClientHello in %s", base)
			}
			for k := range want {
				if !got[k] {
					t.Errorf("tshark's ClientHello %q not in any flow (got %v)", k, got)
				}
			}
		})
	}
}

// tsharkHellos reads "sni ja3" of each ClientHello row of a baseline file.
func tsharkHellos(t *testing.T, path string) map[string]bool {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var cols map[string]int
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if cols == nil {
			cols = map[string]int{}
			for i, n := range fields {
				cols[n] = i
			}
			continue
		}
		if j := cols["ja3"]; j < len(fields) && fields[j] != "" {
			out[fields[cols["sni"]]+" "+fields[j]] = true
		}
	}
	return out
}
