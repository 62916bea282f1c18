package cpu

import (
	"context"
	"errors"
	"testing"

	"github.com/etchlab/etch/kernels"
)

func TestOpen(t *testing.T) {
	ctx := context.Background()
	openers := []kernels.Opener{Opener{}}
	tests := []struct {
		name    string
		want    string
		wantErr error
	}{
		{"auto", "cpu", nil},
		{"", "cpu", nil},
		{"cpu", "cpu", nil},
		{"cuda", "", kernels.ErrNoDevice},
		{"tpu", "", kernels.ErrUnknownBackend},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, reason, err := kernels.Open(ctx, tc.name, openers, kernels.Options{Threads: 2})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Open(%q) error = %v, want %v", tc.name, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open(%q): %v", tc.name, err)
			}
			if b.Name() != tc.want || reason == "" {
				t.Fatalf("Open(%q) = %s, %q", tc.name, b.Name(), reason)
			}
		})
	}
}

func TestGemmSmall(t *testing.T) {
	be := New(kernels.Options{Threads: 2})
	a := be.Alloc(6) // 2x3
	b := be.Alloc(6) // 3x2
	c := be.Alloc(4)
	be.Upload(a, []float32{1, 2, 3, 4, 5, 6})
	be.Upload(b, []float32{7, 8, 9, 10, 11, 12})
	be.Gemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2)
	got := make([]float32, 4)
	be.Download(got, c)
	want := []float32{58, 64, 139, 154}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Gemm = %v, want %v", got, want)
		}
	}
}

// TestThreadCountInvariance checks that reductions and GEMM give bit-identical results whatever
// the number of threads, so a seeded training run does not depend on the machine's core count.
func TestThreadCountInvariance(t *testing.T) {
	const rows, cols = 5000, 37
	host := make([]float32, rows*cols)
	labels := make([]float32, rows)
	for i := range host {
		host[i] = float32(i%97)/13 - 3.5
	}
	for i := range labels {
		labels[i] = float32(i % cols)
	}
	run := func(threads int) []float32 {
		be := New(kernels.Options{Threads: threads})
		x, lb := be.Alloc(len(host)), be.Alloc(rows)
		be.Upload(x, host)
		be.Upload(lb, labels)
		var out []float32
		sum := be.Alloc(cols)
		be.SumRows(x, rows, cols, sum, 0)
		s := make([]float32, cols)
		be.Download(s, sum)
		out = append(out, s...)
		out = append(out, be.SumSquares(x, len(host)))
		p, d := be.Alloc(len(host)), be.Alloc(len(host))
		out = append(out, be.SoftmaxXent(x, rows, cols, lb, nil, p, d))
		c := be.Alloc(cols * cols)
		be.Gemm(true, false, cols, cols, rows, 1, x, cols, x, cols, 0, c, cols)
		g := make([]float32, cols*cols)
		be.Download(g, c)
		out = append(out, g...)
		// Large enough for the dynamic schedule (m·n·k ≥ defaultStaticBelow).
		const n = 390
		big := be.View(x, 0, n*n)
		cb := be.Alloc(n * n)
		be.Gemm(false, false, n, n, n, 1, big, n, big, n, 0, cb, n)
		gb := make([]float32, n*n)
		be.Download(gb, cb)
		return append(out, gb...)
	}
	want := run(1)
	for _, threads := range []int{2, 3, 8} {
		got := run(threads)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("threads=%d: value %d = %v, threads=1 gave %v", threads, i, got[i], want[i])
			}
		}
	}
}
