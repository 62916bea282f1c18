package synth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/etchlab/etch/data"
	"github.com/etchlab/etch/data/flow"
	"github.com/gopacket/gopacket/layers"
)

func collect(t *testing.T, cfg Config) ([]data.Record, Summary) {
	t.Helper()
	var recs []data.Record
	b := flow.NewBatcher(1, 100, func(r []data.Record) error {
		c := r[0]
		c.SeqSize = append([]int32(nil), c.SeqSize...)
		c.SeqPayload = append([]int32(nil), c.SeqPayload...)
		c.SeqIATUS = append([]int32(nil), c.SeqIATUS...)
		c.SeqDir = append([]int32(nil), c.SeqDir...)
		recs = append(recs, c)
		return nil
	})
	sum, err := Records(context.Background(), cfg, flow.Config{}, b.Add)
	if err != nil {
		t.Fatal(err)
	}
	return recs, sum
}

func TestRecordsThroughFlowTable(t *testing.T) {
	cfg := Config{Classes: 32, Flows: 800, Seed: 21, IPv6: 0.2}
	recs, sum := collect(t, cfg)
	if sum.Flows != cfg.Flows || sum.Records != int64(cfg.Flows) || sum.Split != 0 {
		t.Fatalf("summary %+v: want %d flows, one record each", sum, cfg.Flows)
	}
	byName := map[string]Service{}
	for _, s := range catalog {
		byName[s.Name] = s
	}
	for i, r := range recs {
		s, ok := byName[r.Label]
		if !ok || r.Service != r.Label || r.Category != s.Category {
			t.Fatalf("record %d: label %q service %q category %q", i, r.Label, r.Service, r.Category)
		}
		if r.JA4 == "" || (len(s.SNIs) > 0 && r.SNI == "") || r.TLSVersion == "" {
			t.Errorf("record %d (%s): fingerprints missing: sni %q ja4 %q version %q", i, r.Label, r.SNI, r.JA4, r.TLSVersion)
		}
		if r.QUIC != s.QUIC {
			t.Errorf("record %d (%s): quic %v", i, r.Label, r.QUIC)
		}
		if want := s.QUIC; (r.EndReason == flow.EndIdle) != want && r.EndReason != flow.EndRST {
			t.Errorf("record %d (%s): end reason %q", i, r.Label, r.EndReason)
		}
	}
}

// TestHardClassesShareProfiles checks that services of one CDN group with the same client family
// are indistinguishable by fingerprint and close in size, while services of different families
// differ in JA4.
func TestHardClassesShareProfiles(t *testing.T) {
	recs, _ := collect(t, Config{Classes: 32, Flows: 1500, Seed: 4})
	type agg struct {
		ja4, ja3s map[string]bool
		bytes     float64
		n         int
	}
	per := map[string]*agg{}
	for _, r := range recs {
		a := per[r.Label]
		if a == nil {
			a = &agg{ja4: map[string]bool{}, ja3s: map[string]bool{}}
			per[r.Label] = a
		}
		a.ja4[r.JA4] = true
		a.ja3s[r.JA3S] = true
		a.bytes += math.Log(float64(r.BytesBwd))
		a.n++
	}
	pairs := 0
	for _, x := range catalog {
		for _, y := range catalog {
			if x.Name >= y.Name || x.Group == "" || x.Group != y.Group || x.Family != y.Family || x.QUIC || y.QUIC {
				continue
			}
			ax, ay := per[x.Name], per[y.Name]
			if ax == nil || ay == nil || ax.n < 20 || ay.n < 20 {
				continue
			}
			pairs++
			if fmt.Sprint(ax.ja4) != fmt.Sprint(ay.ja4) || fmt.Sprint(ax.ja3s) != fmt.Sprint(ay.ja3s) {
				t.Errorf("%s and %s (group %s) differ in fingerprints: %v/%v vs %v/%v", x.Name, y.Name, x.Group, ax.ja4, ax.ja3s, ay.ja4, ay.ja3s)
			}
			if d := math.Abs(ax.bytes/float64(ax.n) - ay.bytes/float64(ay.n)); d > 0.5 {
				t.Errorf("%s and %s (group %s): mean log bytes differ by %.2f", x.Name, y.Name, x.Group, d)
			}
		}
	}
	if pairs == 0 {
		t.Fatal("no hard pair observed")
	}
	if fmt.Sprint(per["searchly"].ja4) == fmt.Sprint(per["photogram"].ja4) {
		t.Error("chrome and okhttp families share a JA4")
	}
}

// recordsHash hashes every decoded column of a dataset file.
func recordsHash(t *testing.T, path string) string {
	recs, _, err := data.ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	enc := json.NewEncoder(h)
	for i := range recs {
		if err := enc.Encode(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	return fmt.Sprintf("%d:%x", len(recs), h.Sum(nil))
}

func TestDatasetDeterministic(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Classes: 32, Flows: 400, Seed: 9, IPv6: 0.2}
	var hashes []string
	for i, workers := range []int{2, 1} {
		cfg.Workers = workers
		path := filepath.Join(dir, fmt.Sprintf("d%d.parquet", i))
		if _, err := WriteFile(context.Background(), cfg, flow.Config{}, path); err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, recordsHash(t, path))
	}
	if hashes[0] != hashes[1] {
		t.Fatalf("same seed, different datasets: %s vs %s", hashes[0], hashes[1])
	}
	f, err := data.Open(filepath.Join(dir, "d0.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Meta.Source != "synth" || f.Meta.Params["seed"] != "9" || f.Rows != 400 {
		t.Fatalf("footer %+v, rows %d", f.Meta, f.Rows)
	}
}

// TestPerFlowExtractionMatchesGlobalTable checks Records' shortcut: one table per flow gives the
// same records as one table over the whole time-ordered capture (end reasons of flows without
// FIN/RST aside: idle versus eof at the end of the capture).
func TestPerFlowExtractionMatchesGlobalTable(t *testing.T) {
	cfg := Config{Classes: 32, Flows: 500, Seed: 33, IPv6: 0.2}
	perFlow, _ := collect(t, cfg)
	type key struct {
		start      int64
		sport, dpt int32
	}
	truth := map[key]FlowInfo{}
	gcfg := cfg
	gcfg.OnFlow = func(fi FlowInfo) error {
		truth[key{fi.Start.UnixMicro(), int32(fi.Client.Port()), int32(fi.Server.Port())}] = fi
		return nil
	}
	global := map[key]data.Record{}
	table := flow.NewTable(flow.Config{Capture: "synth"}, func(r *data.Record) error {
		c := cloneRecord(r)
		k := key{r.StartUS, r.SrcPort, r.DstPort}
		fi, ok := truth[k]
		if !ok {
			return fmt.Errorf("record at %d: no such flow", r.StartUS)
		}
		c.Label, c.Service, c.Category = fi.Service, fi.Service, fi.Category
		if c.EndReason == flow.EndEOF {
			c.EndReason = flow.EndIdle
		}
		global[k] = c
		return nil
	})
	dec := flow.NewDecoder()
	var p flow.Packet
	err := Generate(context.Background(), gcfg, func(ts time.Time, frame []byte) error {
		if !dec.Decode(layers.LinkTypeEthernet, frame, &p) {
			return fmt.Errorf("frame does not decode")
		}
		return table.AddUS(ts.UnixMicro(), &p)
	})
	if err == nil {
		err = table.Flush()
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(global) != len(perFlow) {
		t.Fatalf("global table: %d records, per flow: %d", len(global), len(perFlow))
	}
	for _, r := range perFlow {
		g, ok := global[key{r.StartUS, r.SrcPort, r.DstPort}]
		if !ok {
			t.Fatalf("flow at %d missing from the global table", r.StartUS)
		}
		a, _ := json.Marshal(r)
		b, _ := json.Marshal(g)
		if string(a) != string(b) {
			t.Fatalf("records differ:\nper flow %s\nglobal   %s", a, b)
		}
	}
}

// TestPcapThenExtractWithRules checks the other path: the lab's pcap extracted by flow.Extract
// with the lab's label rules gives the ground-truth service for every flow with SNI.
func TestPcapThenExtractWithRules(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Classes: 32, Flows: 300, Seed: 8, IPv6: 0.2}
	pcap, rules := filepath.Join(dir, "lab.pcap"), filepath.Join(dir, "lab.rules.yaml")
	if err := WritePcap(context.Background(), cfg, pcap); err != nil {
		t.Fatal(err)
	}
	if err := WriteRulesFile(rules, cfg); err != nil {
		t.Fatal(err)
	}
	opts := flow.DefaultOptions()
	opts.LabelRules, opts.LabelFrom = rules, flow.LabelService
	fcfg, err := opts.Config()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := collect(t, cfg)
	byStart := map[int64]data.Record{}
	for _, r := range want {
		byStart[r.StartUS] = r
	}
	n := 0
	_, err = flow.Extract(context.Background(), []string{pcap}, fcfg, func(r *data.Record) error {
		n++
		w, ok := byStart[r.StartUS]
		if !ok {
			return fmt.Errorf("extracted flow at %d is not a lab flow", r.StartUS)
		}
		label := w.Service
		if w.SNI == "" {
			label = flow.Unknown
		}
		if r.Label != label || r.JA4 != w.JA4 || r.PktsFwd != w.PktsFwd || r.BytesBwd != w.BytesBwd {
			return fmt.Errorf("flow at %d: label %q ja4 %q pkts %d bytes %d; want %q %q %d %d",
				r.StartUS, r.Label, r.JA4, r.PktsFwd, r.BytesBwd, label, w.JA4, w.PktsFwd, w.BytesBwd)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != cfg.Flows {
		t.Fatalf("%d flows extracted from the pcap, want %d", n, cfg.Flows)
	}
}
