package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/etchlab/etch/kernels"
)

func benchGemm(b *testing.B, be *Backend, m, n, k int, transA, transB bool) {
	r := rand.New(rand.NewPCG(1, 1))
	fill := func(n int) kernels.Buffer {
		s := make([]float32, n)
		for i := range s {
			s[i] = r.Float32()*2 - 1
		}
		buf := be.Alloc(n)
		be.Upload(buf, s)
		return buf
	}
	a, bm, c := fill(m*k), fill(k*n), fill(m*n)
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		be.Gemm(transA, transB, m, n, k, 1, a, lda, bm, ldb, 0, c, n)
	}
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkSgemm measures square SGEMM with the default (best) micro-kernel and all threads.
func BenchmarkSgemm(b *testing.B) {
	be := New(kernels.Options{})
	for _, n := range []int{256, 1024} {
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) { benchGemm(b, be, n, n, n, false, false) })
	}
}

// BenchmarkSgemmTrans measures the transposed variants used by backward passes.
func BenchmarkSgemmTrans(b *testing.B) {
	be := New(kernels.Options{})
	for _, tr := range [][2]bool{{true, false}, {false, true}, {true, true}} {
		b.Run(fmt.Sprintf("n=512/tA=%v/tB=%v", tr[0], tr[1]), func(b *testing.B) { benchGemm(b, be, 512, 512, 512, tr[0], tr[1]) })
	}
}

// BenchmarkSgemmKernels compares the micro-kernels on one thread.
func BenchmarkSgemmKernels(b *testing.B) {
	for _, kr := range microKernels() {
		be := New(kernels.Options{Threads: 1})
		be.kern = kr
		b.Run(fmt.Sprintf("%s/n=512", kr.name), func(b *testing.B) { benchGemm(b, be, 512, 512, 512, false, false) })
	}
}

// BenchmarkSgemmShapes measures the shapes of etch's models (batch 128): an LSTM step's recurrent
// product, a Conv1D over 100 steps and a Dense layer.
func BenchmarkSgemmShapes(b *testing.B) {
	be := New(kernels.Options{})
	for _, s := range []struct {
		name    string
		m, n, k int
	}{
		{"lstm_step_128x256x64", 128, 256, 64},
		{"conv1d_12800x64x3", 12800, 64, 3},
		{"conv1d_12800x400x600", 12800, 400, 600},
		{"dense_128x64x3136", 128, 64, 3136},
	} {
		b.Run(s.name, func(b *testing.B) { benchGemm(b, be, s.m, s.n, s.k, false, false) })
	}
}

// BenchmarkMicroKernel measures each micro-kernel alone on L1-resident panels (k = gemmKC).
func BenchmarkMicroKernel(b *testing.B) {
	for _, kr := range microKernels() {
		b.Run(kr.name, func(b *testing.B) {
			k := gemmKC
			a := make([]float32, kr.mr*k)
			bp := make([]float32, kr.nr*k)
			c := make([]float32, kr.mr*kr.nr)
			for b.Loop() {
				kr.fn(k, a, bp, c, kr.nr)
			}
			b.ReportMetric(2*float64(kr.mr*kr.nr*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkCells measures the fused recurrent cells at the cnn_lstm / cnn_gru shapes
// (batch 128; hidden 64 and 200), forward plus backward.
func BenchmarkCells(b *testing.B) {
	be := New(kernels.Options{})
	for _, hidden := range []int{64, 200} {
		const batch = 128
		bh := batch * hidden
		b.Run(fmt.Sprintf("lstm/h=%d", hidden), func(b *testing.B) {
			gates, cp, c, h := be.Alloc(4*bh), be.Alloc(bh), be.Alloc(bh), be.Alloc(bh)
			dg, dcp := be.Alloc(4*bh), be.Alloc(bh)
			for b.Loop() {
				be.LSTMCellForward(batch, hidden, gates, cp, c, h)
				be.LSTMCellBackward(batch, hidden, gates, cp, c, h, c, dg, dcp)
			}
		})
		b.Run(fmt.Sprintf("gru/h=%d", hidden), func(b *testing.B) {
			gx, gh, hp, h := be.Alloc(3*bh), be.Alloc(3*bh), be.Alloc(bh), be.Alloc(bh)
			dgx, dgh, dhp := be.Alloc(3*bh), be.Alloc(3*bh), be.Alloc(bh)
			for b.Loop() {
				be.GRUCellForward(batch, hidden, gx, gh, hp, h)
				be.GRUCellBackward(batch, hidden, gx, gh, hp, h, dgx, dgh, dhp)
			}
		})
	}
}
