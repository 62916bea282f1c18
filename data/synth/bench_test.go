package synth

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/etchlab/etch/data"
	"github.com/etchlab/etch/data/flow"
)

// cpuTime returns the CPU time (user + system) the process has used. The benchmarks report
// rates per CPU second next to wall-clock rates: on a shared machine the latter say more about
// the neighbours than about the code.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func report(b *testing.B, flows int, pkts int64, cpu0 time.Duration) {
	s := b.Elapsed().Seconds()
	cpu := (cpuTime() - cpu0).Seconds()
	b.ReportMetric(float64(flows)/s, "flows/s")
	b.ReportMetric(float64(flows)/cpu, "flows/cpu-s")
	b.ReportMetric(float64(pkts)/s, "pkts/s")
	b.ReportMetric(float64(pkts)/float64(flows), "pkts/flow")
}

// BenchmarkGenerate measures frame generation alone (no flow extraction), merged in capture
// time order as for a pcap; the lab (handshakes) is built once outside the timer.
func BenchmarkGenerate(b *testing.B) {
	ctx := context.Background()
	cfg := Config{Classes: 30, Flows: 5000, Seed: 1}
	l, err := NewLab(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	var pkts int64
	for i := 0; i < b.N; i++ {
		if err := l.Generate(ctx, func(ts time.Time, frame []byte) error {
			pkts++
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
	report(b, cfg.Flows*b.N, pkts, cpu0)
}

// BenchmarkRecords measures the whole path of etch data synth short of writing the file: lab
// (certificates, recorded handshakes), frames, flow table with TLS/QUIC fingerprinting, labels.
// Its flows/s is the figure the ≥ 20k flows/s target refers to.
func BenchmarkRecords(b *testing.B) {
	ctx := context.Background()
	cfg := Config{Classes: 30, Flows: 20000, Seed: 1}
	cpu0 := cpuTime()
	var pkts int64
	for i := 0; i < b.N; i++ {
		sum, err := Records(ctx, cfg, flow.Config{}, func(*data.Record) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		pkts += sum.Packets
	}
	report(b, cfg.Flows*b.N, pkts, cpu0)
}

// BenchmarkNewLab measures building a lab: certificate chains and the recorded handshakes.
func BenchmarkNewLab(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := NewLab(context.Background(), Config{Classes: 30, Seed: uint64(i)}); err != nil {
			b.Fatal(err)
		}
	}
}
