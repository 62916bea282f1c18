package data

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// benchRows is the size of the loading benchmark's file (ETCH_BENCH_ROWS overrides; the issue's
// figure is 1M).
func benchRows() int {
	if n, err := strconv.Atoi(os.Getenv("ETCH_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

var benchFeatures = func() []string {
	f := []string{"seq_size"}
	return append(f, StatNames[:40]...)
}()

// writeBenchFile writes n flows as the extractor would: 100-long sequences, 48 statistics,
// 30 classes. Only the columns the benchmark loads are filled (the others stay empty).
func writeBenchFile(b testing.TB, path string, n int) {
	rng := rand.New(rand.NewPCG(1, 2))
	w, err := Create(path, Meta{Source: "bench", SeqLen: 100})
	if err != nil {
		b.Fatal(err)
	}
	recs := make([]Record, 8192)
	vec := make([]float64, NumStats)
	for done := 0; done < n; {
		k := min(len(recs), n-done)
		for i := range recs[:k] {
			r := &recs[i]
			r.Label = "svc" + strconv.Itoa(int(rng.ExpFloat64()*5)%30)
			r.SeqSize = make([]int32, 100)
			for t := range r.SeqSize {
				if t < 10+rng.IntN(90) {
					s := int32(40 + rng.IntN(1460))
					if rng.IntN(2) == 0 {
						s = -s
					}
					r.SeqSize[t] = s
				}
			}
			for j := range vec {
				vec[j] = float64(rng.IntN(100000)) / 8
			}
			r.SetVector(vec)
		}
		if err := w.Write(recs[:k]); err != nil {
			b.Fatal(err)
		}
		done += k
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

var benchFile struct {
	once sync.Once
	path string
}

// benchPath returns the benchmark file, written once per process under the cache directory
// ETCH_BENCH_DIR (default: the test's temp dir, removed at the end).
func benchPath(b *testing.B) string {
	n := benchRows()
	benchFile.once.Do(func() {
		dir := os.Getenv("ETCH_BENCH_DIR")
		if dir == "" {
			var err error
			if dir, err = os.MkdirTemp("", "etch-bench"); err != nil {
				b.Fatal(err)
			}
		}
		benchFile.path = filepath.Join(dir, fmt.Sprintf("load-%d.parquet", n))
		if _, err := os.Stat(benchFile.path); err != nil {
			writeBenchFile(b, benchFile.path, n)
		}
	})
	return benchFile.path
}

// BenchmarkLoad loads 1M flows with seq_size (100) + 40 statistics. Run with -cpu 1 for the
// single-core figure. It reports flows/s, the projected float32 size and the peak heap in use
// during the load relative to that size (sampled every 2 ms; a lower bound of the peak), and
// flows per CPU second.
func BenchmarkLoad(b *testing.B) {
	path := benchPath(b)
	n := benchRows()
	projected := float64(n) * float64(100+40) * 4
	var peakRatio, cpu float64
	b.ResetTimer()
	for b.Loop() {
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		stop := make(chan struct{})
		var peak uint64
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ms runtime.MemStats
			tick := time.NewTicker(2 * time.Millisecond)
			defer tick.Stop()
			for {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
				select {
				case <-stop:
					return
				case <-tick.C:
				}
			}
		}()
		c0 := cpuSeconds()
		d, err := Load(context.Background(), path, LoadOptions{Features: benchFeatures})
		cpu += cpuSeconds() - c0
		close(stop)
		wg.Wait()
		if err != nil {
			b.Fatal(err)
		}
		if d.N != n {
			b.Fatalf("loaded %d rows", d.N)
		}
		peakRatio = max(peakRatio, float64(peak-min(peak, base.HeapInuse))/projected)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "flows/s")
	// CPU time (user+system of the process, including the sampler) gives a figure that does not
	// depend on how busy a shared machine is.
	b.ReportMetric(float64(n)*float64(b.N)/cpu, "flows/cpu-s")
	b.ReportMetric(projected/(1<<20), "projected-MiB")
	b.ReportMetric(peakRatio, "peak/projected")
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
