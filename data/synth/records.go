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
	Flows     int   // flows generated
	Packets   int64 // frames generated
	Records   int64 // records emitted
	Unlabeled int64 // records whose flow the lab could not identify (should be 0)
}

type portPair struct{ client, server uint16 }

// Records generates the lab's traffic and runs every frame through the same flow extractor as
// real captures (flow.Table with its TLS/QUIC fingerprinting), then labels each record with the
// ground truth: Service and Category always, Label from fcfg.Labeler.From ("service" by
// default in etch data synth; "sni" and "category" work as for captures). Capture is "synth".
func Records(ctx context.Context, cfg Config, fcfg flow.Config, emit func(*data.Record) error) (Summary, error) {
	var sum Summary
	l, err := NewLab(ctx, cfg)
	if err != nil {
		return sum, err
	}
	fcfg.Capture = "synth"
	from := flow.LabelService
	if fcfg.Labeler != nil && fcfg.Labeler.From != "" {
		from = fcfg.Labeler.From
	}
	// Flows are identified by their ports: client ports are unique among open flows.
	truth := map[portPair]FlowInfo{}
	inner := cfg.OnFlow
	l.cfg.OnFlow = func(fi FlowInfo) error {
		truth[portPair{fi.Client.Port(), fi.Server.Port()}] = fi
		sum.Flows++
		if inner != nil {
			return inner(fi)
		}
		return nil
	}
	table := flow.NewTable(fcfg, func(r *data.Record) error {
		fi, ok := truth[portPair{uint16(r.SrcPort), uint16(r.DstPort)}]
		if ok && r.StartUS >= fi.Start.UnixMicro() {
			r.Service, r.Category = fi.Service, fi.Category
			switch from {
			case flow.LabelSNI:
				r.Label = r.SNI
			case flow.LabelCategory:
				r.Label = fi.Category
			default:
				r.Label = fi.Service
			}
		} else {
			sum.Unlabeled++
			r.Service, r.Category, r.Label = flow.Unknown, flow.Unknown, flow.Unknown
		}
		sum.Records++
		return emit(r)
	})
	dec := flow.NewDecoder()
	var p flow.Packet
	err = l.Generate(ctx, func(ts time.Time, frame []byte) error {
		sum.Packets++
		if !dec.Decode(layers.LinkTypeEthernet, frame, &p) {
			return fmt.Errorf("synth: frame %d does not decode", sum.Packets)
		}
		return table.AddUS(ts.UnixMicro(), &p)
	})
	if err == nil {
		err = table.Flush()
	}
	return sum, err
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
