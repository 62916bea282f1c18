package synth

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etchlab/etch/data"
	"github.com/etchlab/etch/data/flow"
	"github.com/gopacket/gopacket/layers"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// TestFingerprintsGolden pins what each service's handshakes look like to the extractor: TLS
// version, ALPN, JA4, JA4S and the sizes of the handshake flights, for the full and the resumed
// handshake of every SNI. JA3 is left out (it keeps crypto/tls's suite order, which depends on
// the CPU's AES-GCM support); JA4S pins the suite the server chose, which depends on it too, so
// on a machine without AES-GCM hardware this test fails for that reason alone. Run with -update
// after deliberate changes.
func TestFingerprintsGolden(t *testing.T) {
	l, err := NewLab(context.Background(), Config{Classes: len(catalog), Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintln(&b, "# service variant sni | version alpn | ja4 | ja4s | handshake writes (+client/-server bytes)")
	g := &flowGen{reuse: true}
	dec := flow.NewDecoder()
	var p flow.Packet
	var got []data.Record
	table := flow.NewTable(flow.Config{}, func(r *data.Record) error {
		got = append(got, cloneRecord(r))
		return nil
	})
	for i := range l.svcs {
		for v, hv := range l.hs[i] {
			for _, resumed := range []bool{false, true} {
				tr := hv.full
				if resumed {
					if tr = hv.resumed; tr == nil {
						continue
					}
				}
				sp := flowSpec{index: i, svc: i, variant: v, resumed: resumed, startUS: DefaultStart.UnixMicro(),
					client: netip.AddrFrom4([4]byte{10, 1, 1, 1}), cport: 40000, server: l.srvIP[i], seed: 1}
				f := l.build(g, sp)
				got = got[:0]
				for _, pk := range f.pkts {
					if !dec.Decode(layers.LinkTypeEthernet, pk.frame, &p) {
						t.Fatal("frame does not decode")
					}
					if err := table.AddUS(pk.ts, &p); err != nil {
						t.Fatal(err)
					}
				}
				if err := table.Flush(); err != nil || len(got) != 1 {
					t.Fatalf("%s: %d records, %v", l.svcs[i].Name, len(got), err)
				}
				r := got[0]
				var writes []string
				if tr.quic != nil {
					q := tr.quic
					writes = append(writes, fmt.Sprintf("quic +%d -%d -%d +%d", len(q.clientInitial), len(q.serverInitial), len(q.serverHandshake), len(q.clientHandshake)))
				}
				for _, c := range tr.chunks {
					sign := "+"
					if c.fromServer {
						sign = "-"
					}
					writes = append(writes, fmt.Sprintf("%s%d", sign, len(c.data)))
				}
				kind := "full"
				if resumed {
					kind = "resumed"
				}
				fmt.Fprintf(&b, "%s %s %q | %s %q | %s | %s | %s\n", l.svcs[i].Name, kind, hv.sni,
					r.TLSVersion, r.ALPN, r.JA4, r.JA4S, strings.Join(writes, " "))
			}
		}
	}
	path := filepath.Join("testdata", "fingerprints.golden")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestFingerprintsGolden -update)", err)
	}
	if string(want) != b.String() {
		t.Fatalf("fingerprints changed; diff testdata/fingerprints.golden against:\n%s", b.String())
	}
}
