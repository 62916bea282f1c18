package synth

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/etchlab/etch/data"
	"github.com/etchlab/etch/data/flow"
	"github.com/gopacket/gopacket/layers"
)

// Summary counts what Records produced.
type Summary struct {
	Flows   int   // flows generated
	Packets int64 // frames generated
	Records int64 // records emitted
	// Split counts records beyond the first of a flow (a flow the extractor cut in two, for
	// example by -active-timeout); 0 with the default timeouts.
	Split int64
}

// Records generates the lab's traffic and runs every frame through the same flow extractor as
// real captures (flow.Decoder and flow.Table with its TLS/QUIC fingerprinting), then labels each
// record with the flow's ground truth: Service and Category always, Label from
// fcfg.Labeler.From ("service" when unset; "sni" and "category" work as for captures). Capture
// is "synth". Records come in flow order (by start time).
//
// Each worker runs its own Table over one flow at a time (Flush between flows): the lab's flows
// never share a 5-tuple while open, so a table sees exactly what a table over the whole,
// time-ordered capture would see of that flow, and extraction scales with the workers. The one
// difference: a flow without FIN or RST ends as "idle" (as it would after the idle timeout), not
// "eof". Frames are cut after the TCP header where they carry application data (as a capture
// with a short snap length), since nothing reads those bytes. A test checks the equivalence
// against one table over the merged, uncut capture.
func Records(ctx context.Context, cfg Config, fcfg flow.Config, emit func(*data.Record) error) (Summary, error) {
	var sum Summary
	l, err := NewLab(ctx, cfg)
	if err != nil {
		return sum, err
	}
	fcfg.Capture = "synth"
	fcfg = fcfg.Defaults()
	from := flow.LabelService
	if fcfg.Labeler != nil && fcfg.Labeler.From != "" {
		from = fcfg.Labeler.From
	}
	type flowRecords struct {
		recs []data.Record
		pkts int
	}
	newWorker := func() func(flowSpec) (flowRecords, error) {
		g := &flowGen{reuse: true, noChecksums: true, snap: true}
		dec := flow.NewDecoder()
		var p flow.Packet
		var out []data.Record
		table := flow.NewTable(fcfg, func(r *data.Record) error {
			out = append(out, cloneRecord(r))
			return nil
		})
		return func(sp flowSpec) (flowRecords, error) {
			f := l.build(g, sp)
			out = nil
			for i, pk := range f.pkts {
				if !dec.Decode(layers.LinkTypeEthernet, pk.frame, &p) {
					return flowRecords{}, fmt.Errorf("synth: flow %d frame %d does not decode", sp.index, i)
				}
				if err := table.AddUS(pk.ts, &p); err != nil {
					return flowRecords{}, err
				}
			}
			if err := table.Flush(); err != nil {
				return flowRecords{}, err
			}
			fi := l.info(&sp)
			for i := range out {
				r := &out[i]
				r.Service, r.Category = fi.Service, fi.Category
				switch from {
				case flow.LabelSNI:
					r.Label = r.SNI
				case flow.LabelCategory:
					r.Label = fi.Category
				default:
					r.Label = fi.Service
				}
				if r.EndReason == flow.EndEOF {
					r.EndReason = flow.EndIdle
				}
			}
			return flowRecords{out, len(f.pkts)}, nil
		}
	}
	err = pipeline(ctx, l, newWorker, func(sp flowSpec, fr flowRecords) error {
		sum.Flows++
		sum.Packets += int64(fr.pkts)
		if cfg.OnFlow != nil {
			if err := cfg.OnFlow(l.info(&sp)); err != nil {
				return err
			}
		}
		for i := range fr.recs {
			sum.Records++
			if i > 0 {
				sum.Split++
			}
			if err := emit(&fr.recs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	return sum, err
}

// cloneRecord copies r, sequences included (the table reuses its record).
func cloneRecord(r *data.Record) data.Record {
	c := *r
	c.SeqSize = append([]int32(nil), r.SeqSize...)
	c.SeqPayload = append([]int32(nil), r.SeqPayload...)
	c.SeqIATUS = append([]int32(nil), r.SeqIATUS...)
	c.SeqDir = append([]int32(nil), r.SeqDir...)
	c.Extra = append([]float32(nil), r.Extra...)
	return c
}

// Meta returns the footer metadata of a synthetic dataset made with cfg and fcfg.
func Meta(cfg Config, fcfg flow.Config) data.Meta {
	c, _ := cfg.withDefaults()
	m := fcfg.Meta(nil)
	m.Source = "synth"
	m.Params["seed"] = strconv.FormatUint(c.Seed, 10)
	m.Params["classes"] = strconv.Itoa(c.Classes)
	m.Params["flows"] = strconv.Itoa(c.Flows)
	m.Params["zipf"] = strconv.FormatFloat(c.Zipf, 'g', -1, 64)
	m.Params["rate"] = strconv.FormatFloat(c.Rate, 'g', -1, 64)
	m.Params["ipv6"] = strconv.FormatFloat(c.IPv6, 'g', -1, 64)
	m.Params["start"] = c.Start.Format(time.RFC3339)
	return m
}

// WriteFile generates a dataset into path (.parquet, .jsonl or .csv), atomically.
func WriteFile(ctx context.Context, cfg Config, fcfg flow.Config, path string) (Summary, error) {
	fcfg = fcfg.Defaults()
	w, err := data.Create(path, Meta(cfg, fcfg))
	if err != nil {
		return Summary{}, err
	}
	b := flow.NewBatcher(1024, fcfg.SeqLen, w.Write)
	sum, err := Records(ctx, cfg, fcfg, b.Add)
	if err == nil {
		err = b.Flush()
	}
	if err != nil {
		w.Abort()
		return sum, err
	}
	return sum, w.Close()
}
