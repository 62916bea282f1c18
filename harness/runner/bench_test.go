package runner

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/etchlab/etch/harness/config"
	"github.com/etchlab/etch/harness/runner/runnertest"
)

// BenchmarkWorkerRun measures the harness's own cost per trial — loading (cached after the
// first), scaling, splitting, evaluation with 1000 bootstrap resamples, McNemar — around a
// nearest-centroid model that costs almost nothing, on 20 000 flows.
func BenchmarkWorkerRun(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "flows.parquet")
	if err := runnertest.WriteDataset(path, runnertest.Options{Flows: 20000, Seed: 1, SeqLen: 20}); err != nil {
		b.Fatal(err)
	}
	exp, err := config.Parse("bench.yaml", []byte(`name: bench
data: {path: flows.parquet, features: [stats, seq_size, seq_dir]}
models: [{name: a, type: centroid}, {name: b, type: centroid}]
`))
	if err != nil {
		b.Fatal(err)
	}
	specs, err := Plan(exp, Options{Version: "bench", WorkDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	w := &Worker{Registry: testRegistry(&atomic.Int64{})}
	w.Expect(specs[:1])
	w.Expect(specs[:1]) // keep the dataset loaded across iterations
	b.ResetTimer()
	for b.Loop() {
		w.Expect(specs[:1])
		r, err := w.Run(context.Background(), specs[0])
		if err != nil || r.Failed() {
			b.Fatal(err, r.Trial.Error)
		}
	}
}
