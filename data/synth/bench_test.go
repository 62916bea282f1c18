package synth

import (
	"context"
	"github.com/etchlab/etch/data"
	"github.com/etchlab/etch/data/flow"
	"testing"
	"time"
)

// BenchmarkGenerate measures frame generation alone (no flow extraction); flows/s is reported.
func BenchmarkGenerate(b *testing.B) {
	ctx := context.Background()
	cfg := Config{Classes: 30, Flows: 2000, Seed: 1}
	l, err := NewLab(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	pkts, bytes := 0, 0
	for i := 0; i < b.N; i++ {
		if err := l.Generate(ctx, func(ts time.Time, frame []byte) error {
			pkts++
			bytes += len(frame)
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(cfg.Flows*b.N)/s, "flows/s")
	b.ReportMetric(float64(pkts)/s, "pkts/s")
	b.ReportMetric(float64(pkts)/float64(cfg.Flows*b.N), "pkts/flow")
}

// BenchmarkNewLab measures building a lab: certificate chains and the recorded handshakes.
func BenchmarkNewLab(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := NewLab(context.Background(), Config{Classes: 30, Seed: uint64(i)}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecords measures the whole path of etch data synth short of the file: lab, frames,
// flow table with TLS/QUIC fingerprinting, labels. flows/s is what the target refers to.
func BenchmarkRecords(b *testing.B) {
	ctx := context.Background()
	cfg := Config{Classes: 30, Flows: 5000, Seed: 1}
	pkts := int64(0)
	for i := 0; i < b.N; i++ {
		sum, err := Records(ctx, cfg, flow.Config{}, func(*data.Record) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		pkts += sum.Packets
	}
	s := b.Elapsed().Seconds()
	b.ReportMetric(float64(cfg.Flows*b.N)/s, "flows/s")
	b.ReportMetric(float64(pkts)/s, "pkts/s")
}
