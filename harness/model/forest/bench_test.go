package forest

import (
	"context"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/etchlab/etch/harness/model"
)

// Benchmarks on the yardstick dataset (testdata/sklearn_yardstick.py runs scikit-learn on the
// same data): 18k training flows, 100 trees, 2 threads; predict over all 20k flows.
var benchOnce = sync.OnceValues(func() (*model.Data, *model.Data) {
	d := benchData()
	train, _ := split(d, 18000)
	return d, train
})

func BenchmarkForestFit(b *testing.B) {
	_, train := benchOnce()
	c0 := cpuTime()
	for b.Loop() {
		fit(b, Params{Trees: 100}, model.Env{Seed: 1, Threads: 2}, train)
	}
	b.ReportMetric((cpuTime()-c0).Seconds()*1e3/float64(b.N), "cpu-ms/op")
}

func BenchmarkForestPredict(b *testing.B) {
	all, train := benchOnce()
	m := fit(b, Params{Trees: 100}, model.Env{Seed: 1, Threads: 2}, train)
	_, test := split(all, 18000)
	b.Logf("test accuracy %.4f, %d nodes", accuracy(b, m, test), m.Nodes())
	dst := make([]float32, all.N*m.Classes())
	b.ResetTimer()
	for b.Loop() {
		if err := m.PredictProba(context.Background(), all, dst); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(all.N)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
