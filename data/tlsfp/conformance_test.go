package tlsfp

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/etchlab/etch/data/tlsfp/internal/pcaptest"
)

const sharedData = "../../../shared/data"

// flowResult is one flow's fingerprints, as the conformance tests compare them.
type flowResult struct {
	f   *pcaptest.Flow
	res Result
	err error
}

// track runs a Tracker over every flow of a capture.
func track(t testing.TB, path string) ([]flowResult, error) {
	t.Helper()
	flows, err := pcaptest.Read(path)
	out := make([]flowResult, 0, len(flows))
	for _, f := range flows {
		tr := NewTracker(TCP)
		if f.UDP {
			tr = NewTracker(UDP)
		}
		for _, p := range f.Packets {
			if tr.Done() {
				break
			}
			tr.Packet(p.FromClient, p.Seq, p.Payload)
		}
		out = append(out, flowResult{f: f, res: tr.Result(), err: tr.Err()})
	}
	return out, err
}

func needData(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(sharedData); err != nil {
		t.Skipf("shared data not found at %s: %v", sharedData, err)
	}
}

// snapshotEntries reads the JA4/JA4S lines of a FoxIO Rust insta snapshot as
// "transport src:port dst:port sni ja4 ja4s" strings.
func snapshotEntries(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	var cur map[string]string
	flush := func() {
		if cur != nil && (cur["ja4"] != "" || cur["ja4s"] != "") {
			out = append(out, fmt.Sprintf("%s %s:%s %s:%s sni=%s ja4=%s ja4s=%s", cur["transport"],
				cur["src"], cur["src_port"], cur["dst"], cur["dst_port"], cur["tls_server_name"], cur["ja4"], cur["ja4s"]))
		}
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "- stream:"):
			flush()
			cur = map[string]string{}
		case strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   ") && cur != nil:
			k, v, ok := strings.Cut(strings.TrimSpace(line), ": ")
			if ok {
				cur[k] = v
			}
		}
	}
	flush()
	slices.Sort(out)
	return out
}

func ourEntries(rs []flowResult) []string {
	var out []string
	for _, r := range rs {
		if r.res.JA4 == "" && r.res.JA4S == "" {
			continue
		}
		tr := "tcp"
		if r.f.UDP {
			tr = "udp"
		}
		out = append(out, fmt.Sprintf("%s %s:%d %s:%d sni=%s ja4=%s ja4s=%s", tr, r.f.Client, r.f.ClientPort,
			r.f.Server, r.f.SrvPort, r.res.SNI, r.res.JA4, r.res.JA4S))
	}
	slices.Sort(out)
	return out
}

// foxioDiff is a deliberate difference from a FoxIO Rust snapshot: entries etch reports on
// top of the snapshot's, and why.
type foxioDiff struct {
	extra []string
	why   string
}

// foxioDiffs lists every deliberate difference from the FoxIO Rust snapshots, by capture.
var foxioDiffs = map[string]foxioDiff{
	"socks4-https.pcap": {
		extra: []string{"tcp 10.0.0.1:50606 10.0.0.2:9901 sni= ja4= ja4s=t120200_c027_fee41c0d62a8"},
		why: "the capture misses the client's TLS segment after the SOCKS4 request; tshark (under the Rust " +
			"tool) then never dissects the server's side as TLS, etch still reads the ServerHello and reports its JA4S",
	},
}

func TestJA4FoxIO(t *testing.T) {
	needData(t)
	snaps, err := filepath.Glob(filepath.Join(sharedData, "ja4/rust/ja4/src/snapshots/*.snap"))
	if err != nil || len(snaps) == 0 {
		t.Fatalf("no snapshots: %v", err)
	}
	pass, total := 0, 0
	for _, snap := range snaps {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(snap), "ja4__insta@"), ".snap")
		pcap := filepath.Join(sharedData, "ja4/pcap", name)
		if _, err := os.Stat(pcap); err != nil {
			continue // gtp-iphone.pcap is not shipped
		}
		total++
		t.Run(name, func(t *testing.T) {
			want := snapshotEntries(t, snap)
			rs, err := track(t, pcap)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			got := ourEntries(rs)
			identical := true
			if d, ok := foxioDiffs[name]; ok {
				t.Logf("deliberate difference: %s", d.why)
				want = append(want, d.extra...)
				slices.Sort(want)
				identical = false
			}
			if !slices.Equal(got, want) {
				for _, w := range want {
					if !slices.Contains(got, w) {
						t.Errorf("missing: %s", w)
					}
				}
				for _, g := range got {
					if !slices.Contains(want, g) {
						t.Errorf("extra:   %s", g)
					}
				}
				return
			}
			if identical {
				pass++
			}
		})
	}
	t.Logf("FoxIO JA4/JA4S: %d/%d captures identical", pass, total)
}
