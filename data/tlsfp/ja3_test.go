package tlsfp

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/etchlab/etch/data/tlsfp/internal/pcaptest"
)

// captures maps each capture under shared data to its path, keyed by the tshark baseline's
// mangled name (path relative to data/ with '/' replaced by '_').
func captures(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(sharedData, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !isCapture(p) {
			return err
		}
		rel, _ := filepath.Rel(sharedData, p)
		out[strings.ReplaceAll(filepath.ToSlash(rel), "/", "_")] = p
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func isCapture(p string) bool {
	switch filepath.Ext(p) {
	case ".pcap", ".pcapng", ".cap":
		return true
	}
	return false
}

// unreadable are captures the test helper's pcap reader cannot read past the first record,
// and why; the robustness test checks that they end in an error naming file and offset.
var unreadable = map[string]string{
	"matousp-ja3s_pcap_ma1_xz1_slack.pcap":             "24-byte 'modified pcap' record headers under the standard magic",
	"matousp-ja3s_pcap_ma1_xz1_telegram_filtered.pcap": "24-byte 'modified pcap' record headers under the standard magic",
	"matousp-ja3s_pcap_ma1_xz1_wa_merged.pcap":         "24-byte 'modified pcap' record headers under the standard magic",
}

// ja3Diffs lists deliberate JA3/JA3S differences from tshark, by capture and flow; the
// out-of-order ServerHello case is recognised by outOfOrderServer instead.
var ja3Diffs = map[string]string{
	"matousp-ja3s_pcap_ma4_EquaBank1.pcapng tcp 10.42.0.53:45874 74.125.140.192:7275": "TLS 1.0 on port 7275, which tshark does not dissect as TLS without a heuristic",
	"matousp-ja3s_pcap_ma4_EquaBank1.pcapng tcp 10.42.0.53:45875 74.125.140.192:7275": "TLS 1.0 on port 7275, which tshark does not dissect as TLS without a heuristic",
	"matousp-ja3s_pcap_ma4_GoogleCalendarSync1.pcapng udp 10.42.0.53:49194 157.240.30.27:443": "mvfst QUIC 0xfaceb001 connection that tshark 4.0 does not report; " +
		"etch decrypts it (draft-22 Initial salt) and gets the fingerprints of the connection tshark does report (port 55412)",
	"suricata-verify_tests_tls_tls13-draft14_tls13_draft14.pcap tcp 10.0.2.15:54049 52.32.149.186:443": "draft-14 ServerHello (legacy_version 0x0304, no session ID): " +
		"tshark 4.0 reads a session ID and takes cipher 44205 from the random; etch reads the draft layout",
}

// outOfOrder reports whether a side's hello segment came out of order: its first data
// segment is not the start of its stream, or an earlier packet of that side already
// carried a higher sequence number. tshark 4.0 does not reassemble out-of-order segments
// by default and then misses the hello.
func outOfOrder(f *pcaptest.Flow, client bool) bool {
	var high uint32
	seen := false
	for _, p := range f.Packets {
		if p.FromClient != client || p.SYN {
			continue
		}
		if len(p.Payload) > 0 {
			return p.Payload[0] != 0x16 || seen && int32(p.Seq-high) < 0
		}
		if !seen || int32(p.Seq-high) > 0 {
			high, seen = p.Seq, true
		}
	}
	return false
}

type tsharkHello struct {
	sni, ja3Full, ja3, ja3sFull, ja3s string
}

// tsharkBaseline reads a baseline TSV into the first ClientHello and ServerHello per flow,
// keyed "proto client:port server:port".
func tsharkBaseline(t *testing.T, path string) map[string]*tsharkHello {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]*tsharkHello{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	first := true
	for sc.Scan() {
		if first {
			first = false
			continue
		}
		c := strings.Split(sc.Text(), "\t")
		if len(c) < 15 {
			t.Fatalf("%s: short row %q", path, sc.Text())
		}
		src, dst := c[1]+c[2], c[5]+c[6]
		proto, sp, dp := "tcp", c[3], c[7]
		if c[4] != "" {
			proto, sp, dp = "udp", c[4], c[8]
		}
		// tshark may list several values for a packet with several hellos; keep the first.
		for i := range c {
			c[i], _, _ = strings.Cut(c[i], ",0x")
		}
		if c[12] != "" {
			k := fmt.Sprintf("%s %s:%s %s:%s", proto, src, sp, dst, dp)
			h := out[k]
			if h == nil {
				h = &tsharkHello{}
				out[k] = h
			}
			if h.ja3 == "" {
				h.sni, h.ja3Full, h.ja3 = c[10], c[11], c[12]
			}
		}
		if c[14] != "" {
			k := fmt.Sprintf("%s %s:%s %s:%s", proto, dst, dp, src, sp)
			h := out[k]
			if h == nil {
				h = &tsharkHello{}
				out[k] = h
			}
			if h.ja3s == "" {
				h.ja3sFull, h.ja3s = c[13], c[14]
			}
		}
	}
	return out
}

func TestJA3Tshark(t *testing.T) {
	needData(t)
	caps := captures(t)
	tsvs, _ := filepath.Glob(filepath.Join(sharedData, "tshark-ja3-baseline/*.tsv"))
	if len(tsvs) == 0 {
		t.Fatal("no tshark baseline")
	}
	pass, withDiffs, total := 0, 0, 0
	for _, tsv := range tsvs {
		name := strings.TrimSuffix(filepath.Base(tsv), ".tsv")
		total++
		t.Run(name, func(t *testing.T) {
			if why, ok := unreadable[name]; ok {
				t.Skipf("not compared: %s", why)
			}
			pcap, ok := caps[name]
			if !ok {
				t.Fatalf("no capture for %s", name)
			}
			want := tsharkBaseline(t, tsv)
			rs, err := track(t, pcap)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			got := map[string]*tsharkHello{}
			flows := map[string]*pcaptest.Flow{}
			for _, r := range rs {
				if r.res.JA3 == "" && r.res.JA3S == "" {
					continue
				}
				proto := "tcp"
				if r.f.UDP {
					proto = "udp"
				}
				k := fmt.Sprintf("%s %s:%d %s:%d", proto, r.f.Client, r.f.ClientPort, r.f.Server, r.f.SrvPort)
				flows[k] = r.f
				got[k] = &tsharkHello{r.res.SNI, r.res.JA3Full, r.res.JA3, r.res.JA3SFull, r.res.JA3S}
			}
			keys := slices.Sorted(func(yield func(string) bool) {
				seen := map[string]bool{}
				for k := range want {
					seen[k] = true
					if !yield(k) {
						return
					}
				}
				for k := range got {
					if !seen[k] && !yield(k) {
						return
					}
				}
			})
			bad, listed := 0, 0
			for _, k := range keys {
				w, g := want[k], got[k]
				if w == nil {
					w = &tsharkHello{}
				}
				if g == nil {
					g = &tsharkHello{}
				}
				if why, ok := ja3Diffs[name+" "+k]; ok {
					t.Logf("deliberate difference in %s: %s", k, why)
					listed++
					continue
				}
				if f := flows[k]; f != nil && !f.UDP {
					srvOOO := w.ja3s == "" && g.ja3s != "" && w.ja3 == g.ja3 && outOfOrder(f, false)
					cliOOO := w.ja3 == "" && g.ja3 != "" && w.ja3s == g.ja3s && outOfOrder(f, true)
					if srvOOO || cliOOO {
						t.Logf("deliberate difference in %s: hello segment arrived out of order; etch reassembles it, tshark 4.0 does not", k)
						listed++
						continue
					}
				}
				if *w != *g {
					bad++
					t.Errorf("%s:\n got  %+v\n want %+v", k, *g, *w)
				}
			}
			switch {
			case bad == 0 && listed == 0:
				pass++
			case bad == 0:
				withDiffs++
			}
		})
	}
	t.Logf("tshark JA3/JA3S: %d/%d captures identical, %d more equal but for listed differences, %d not readable by the test helper",
		pass, total, withDiffs, len(unreadable))
}
