package flow

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/etchlab/etch/data"
	"github.com/gopacket/gopacket/layers"
)

// TestEarlyEqualsTruncated checks Config.Early against the batch path: the snapshot of a flow
// at its K-th packet equals the record that Extract gives for a capture holding only the first K
// packets of every flow, and flows shorter than K are not snapshotted. Config.FirstPackets = K
// gives exactly the records of that cut capture, the K-packet ones marked early.
func TestEarlyEqualsTruncated(t *testing.T) {
	hellos := realHellos(t, 6)
	for _, k := range []int{1, 4, 9, 30} {
		var all, cut bytes.Buffer
		pwAll, pwCut := newPcapWriter(&all), newPcapWriter(&cut)
		seen := map[flowKey]int{}
		dec := NewDecoder()
		var frame []byte
		synthTraffic(40000, 3, hellos, func(sp *synthPkt) {
			pwAll.write(sp)
			frame = appendFrame(frame[:0], sp)
			var p Packet
			if !dec.Decode(layers.LinkTypeEthernet, frame, &p) {
				t.Fatal("synthetic frame does not decode")
			}
			key := flowKey{a: p.Src, b: p.Dst, pa: p.SrcPort, pb: p.DstPort, proto: p.Proto}
			if cmpEndpoint(&p.Src, p.SrcPort, &p.Dst, p.DstPort) > 0 {
				key = flowKey{a: p.Dst, b: p.Src, pa: p.DstPort, pb: p.SrcPort, proto: p.Proto}
			}
			if seen[key] < k { // synthTraffic never reuses a 5-tuple
				seen[key]++
				pwCut.write(sp)
			}
		})
		if err := errors.Join(pwAll.flush(), pwCut.flush()); err != nil {
			t.Fatal(err)
		}
		var early, ended, batch, first collected
		cfg := Config{Privacy: &Privacy{KeepIPs: true}}
		cfgFirst := cfg
		cfgFirst.FirstPackets = k
		if _, err := extractBytes(all.Bytes(), cfgFirst, first.emit); err != nil {
			t.Fatal(err)
		}
		cfgEarly := cfg
		cfgEarly.EarlyPackets = k
		cfgEarly.Early = early.emit
		if _, err := extractBytes(all.Bytes(), cfgEarly, ended.emit); err != nil {
			t.Fatal(err)
		}
		if _, err := extractBytes(cut.Bytes(), cfg, batch.emit); err != nil {
			t.Fatal(err)
		}
		// Expected: every truncated flow with K packets is a snapshot; the others ended short.
		var wantEarly, wantShort []data.Record
		for _, r := range batch.recs {
			if r.PktsFwd+r.PktsBwd == int64(k) {
				wantEarly = append(wantEarly, r)
			} else {
				wantShort = append(wantShort, r)
			}
		}
		var gotShort []data.Record
		for _, r := range ended.recs {
			if r.PktsFwd+r.PktsBwd < int64(k) {
				gotShort = append(gotShort, r)
			}
		}
		// FirstPackets: exactly the cut capture's flows, the K-packet ones marked early.
		var firstEarly int
		for _, r := range first.recs {
			if r.EndReason == EndEarly {
				firstEarly++
			}
		}
		if firstEarly != len(wantEarly) {
			t.Fatalf("K=%d FirstPackets: %d early records, want %d", k, firstEarly, len(wantEarly))
		}
		for _, c := range []struct {
			name      string
			got, want []data.Record
		}{{"early", early.recs, wantEarly}, {"short", gotShort, wantShort}, {"first", first.recs, batch.recs}} {
			if len(c.got) != len(c.want) || (c.name == "early" && len(c.got) == 0) {
				t.Fatalf("K=%d %s: %d records, batch path %d", k, c.name, len(c.got), len(c.want))
			}
			sortRecords(c.got)
			sortRecords(c.want)
			for i := range c.got {
				g, w := c.got[i], c.want[i]
				if c.name == "early" && g.EndReason != EndEarly {
					t.Fatalf("K=%d: snapshot end_reason %q", k, g.EndReason)
				}
				g.EndReason, w.EndReason = "", ""
				if !recordsEqual(&g, &w) {
					t.Fatalf("K=%d %s record %d differs:\n got %+v\nwant %+v", k, c.name, i, g, w)
				}
			}
		}
	}
}

// extractBytes runs the extraction pipeline on an in-memory capture.
func extractBytes(b []byte, cfg Config, emit func(*data.Record) error) (int64, error) {
	r, err := NewReaderBytes(b, "mem.pcap")
	if err != nil {
		return 0, err
	}
	defer r.Close()
	table := NewTable(cfg, emit)
	dec := NewDecoder()
	var p Packet
	for {
		frame, ts, link, err := r.Next()
		if err != nil {
			break
		}
		if dec.Decode(link, frame, &p) {
			if err := table.AddUS(ts, &p); err != nil {
				return 0, err
			}
		}
	}
	return table.Packets, table.Flush()
}

func sortRecords(rs []data.Record) {
	slices.SortFunc(rs, func(a, b data.Record) int {
		if a.StartUS != b.StartUS {
			return int(a.StartUS - b.StartUS)
		}
		return int(a.SrcPort - b.SrcPort)
	})
}

func recordsEqual(a, b *data.Record) bool {
	return slices.Equal(a.SeqSize, b.SeqSize) && slices.Equal(a.SeqPayload, b.SeqPayload) &&
		slices.Equal(a.SeqIATUS, b.SeqIATUS) && slices.Equal(a.SeqDir, b.SeqDir) &&
		withoutSeq(*a) == withoutSeq(*b)
}

func withoutSeq(r data.Record) string {
	r.SeqSize, r.SeqPayload, r.SeqIATUS, r.SeqDir, r.Extra = nil, nil, nil, nil, nil
	return fmt.Sprintf("%+v", r)
}

// TestAdvance checks that moving the clock without packets ends idle flows, and that a time
// before the clock changes nothing.
func TestAdvance(t *testing.T) {
	var got collected
	tab := NewTable(Config{IdleTimeout: time.Second, NoTLS: true}, got.emit)
	ts, p := tp(1000, true, FlagSYN, 0)
	if err := tab.AddUS(ts, &p); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at    int64
		flows int
	}{{ts - 5_000_000, 0}, {ts + 500_000, 0}, {ts + 1_000_001, 1}} {
		if err := tab.Advance(tc.at); err != nil {
			t.Fatal(err)
		}
		if len(got.recs) != tc.flows {
			t.Fatalf("advance to %d: %d flows emitted, want %d", tc.at, len(got.recs), tc.flows)
		}
	}
	if got.recs[0].EndReason != EndIdle || tab.Len() != 0 {
		t.Fatalf("end reason %q, %d open", got.recs[0].EndReason, tab.Len())
	}
}
