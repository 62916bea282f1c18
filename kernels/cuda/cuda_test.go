//go:build cuda || cudaemu

// With the cuda tag these tests need an NVIDIA GPU: gorgonia.org/cu's initialiser exits the test
// binary when the driver has no device, before any test could skip, so `make test-gpu` probes
// first and stops with the reason when there is none. With the cudaemu tag the same tests run
// the same Backend and .cu kernels on the host emulator (`make cuda-check`).

package cuda_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/etchlab/etch/kernels"
	"github.com/etchlab/etch/kernels/cpu"
	"github.com/etchlab/etch/kernels/cuda"
	"github.com/etchlab/etch/kernels/kerneltest"
)

var shared *cuda.Backend

func TestMain(m *testing.M) {
	be, err := openTestBackend()
	if err != nil {
		fmt.Fprintf(os.Stderr, "kernels/cuda tests need a usable GPU: %v\n", err)
		os.Exit(1)
	}
	shared = be
	os.Exit(m.Run())
}

// TestConformance runs the kerneltest suite (tolerances in its documentation) on the GPU.
func TestConformance(t *testing.T) {
	kerneltest.Run(t, shared)
	if err := shared.Sync(); err != nil {
		t.Fatal(err)
	}
}

func randVec(r *rand.Rand, n int, scale float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = (r.Float32()*2 - 1) * scale
	}
	return v
}

// TestMatchesCPU runs model-sized operations on both backends and compares them: GEMM shapes of
// etch's layers (|Δ| ≤ 1e-4·(1+|cpu|), cuBLAS and the CPU sum k products in different orders),
// and the exact kernels (dropout masks and pooling) bit for bit.
func TestMatchesCPU(t *testing.T) {
	c := cpu.New(kernels.Options{})
	g := shared
	r := rand.New(rand.NewPCG(3, 4))
	for _, s := range []struct{ m, n, k int }{{128, 256, 64}, {1280, 64, 96}, {128, 25, 3136}, {7, 5, 3}} {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			a, b := randVec(r, s.m*s.k, 1), randVec(r, s.k*s.n, 1)
			lda, ldb := s.k, s.n
			if tr[0] {
				lda = s.m
			}
			if tr[1] {
				ldb = s.k
			}
			got := make([]float32, s.m*s.n)
			want := make([]float32, s.m*s.n)
			for _, run := range []struct {
				be  kernels.Backend
				out []float32
			}{{c, want}, {g, got}} {
				ab, bb, cb := run.be.Alloc(len(a)), run.be.Alloc(len(b)), run.be.Alloc(s.m*s.n)
				run.be.Upload(ab, a)
				run.be.Upload(bb, b)
				run.be.Gemm(tr[0], tr[1], s.m, s.n, s.k, 1, ab, lda, bb, ldb, 0, cb, s.n)
				run.be.Download(run.out, cb)
			}
			for i := range want {
				if math.Abs(float64(got[i]-want[i])) > 1e-4*(1+math.Abs(float64(want[i]))) {
					t.Fatalf("Gemm %v tA=%v tB=%v: [%d] cuda %v, cpu %v", s, tr[0], tr[1], i, got[i], want[i])
				}
			}
		}
	}
	n := 100003
	mc, mg := c.Alloc(n), g.Alloc(n)
	c.DropoutMask(n, 0.3, 42, 7, mc)
	g.DropoutMask(n, 0.3, 42, 7, mg)
	hc, hg := make([]float32, n), make([]float32, n)
	c.Download(hc, mc)
	g.Download(hg, mg)
	for i := range hc {
		if hc[i] != hg[i] {
			t.Fatalf("DropoutMask[%d]: cuda %v, cpu %v", i, hg[i], hc[i])
		}
	}
	if err := g.Sync(); err != nil {
		t.Fatal(err)
	}
}

// fd is a central finite difference of f at x[i] (float32 forward, step eps).
func fd(x []float32, i int, eps float32, f func([]float32) float64) float64 {
	orig := x[i]
	x[i] = orig + eps
	lp := f(x)
	x[i] = orig - eps
	lm := f(x)
	x[i] = orig
	return (lp - lm) / (2 * float64(eps))
}

// TestGradients checks the GPU's backward kernels against central differences of its own
// forward kernels (L = Σ R·y for a fixed random R), with eps 1e-2 and |Δ| ≤ 2e-2·max(1, |fd|),
// the tolerance of nn's layer gradient checks.
func TestGradients(t *testing.T) {
	be := shared
	r := rand.New(rand.NewPCG(5, 6))
	up := func(s []float32) kernels.Buffer { b := be.Alloc(len(s)); be.Upload(b, s); return b }
	down := func(b kernels.Buffer, n int) []float32 { s := make([]float32, n); be.Download(s, b); return s }
	dot := func(a, b []float32) float64 {
		var s float64
		for i := range a {
			s += float64(a[i]) * float64(b[i])
		}
		return s
	}
	check := func(t *testing.T, what string, x []float32, analytic []float32, f func([]float32) float64) {
		t.Helper()
		for _, i := range r.Perm(len(x))[:min(len(x), 24)] {
			num := fd(x, i, 1e-2, f)
			if math.Abs(num-float64(analytic[i])) > 2e-2*math.Max(1, math.Abs(num)) {
				t.Errorf("%s[%d]: analytic %.5f, finite difference %.5f", what, i, analytic[i], num)
			}
		}
	}
	const B, H = 3, 4
	t.Run("LSTMCell", func(t *testing.T) {
		pre, cPrev := randVec(r, B*4*H, 1), randVec(r, B*H, 1)
		rh, rc := randVec(r, B*H, 1), randVec(r, B*H, 1)
		gates, cp, c, h := be.Alloc(B*4*H), up(cPrev), be.Alloc(B*H), be.Alloc(B*H)
		loss := func(p []float32) float64 {
			be.Upload(gates, p)
			be.LSTMCellForward(B, H, gates, cp, c, h)
			return dot(rh, down(h, B*H)) + dot(rc, down(c, B*H))
		}
		loss(pre)
		dg, dcp := be.Alloc(B*4*H), be.Alloc(B*H)
		be.LSTMCellBackward(B, H, gates, cp, c, up(rh), up(rc), dg, dcp)
		check(t, "dgates", pre, down(dg, B*4*H), loss)
		check(t, "dcPrev", cPrev, down(dcp, B*H), func(v []float32) float64 { be.Upload(cp, v); return loss(pre) })
	})
	t.Run("GRUCell", func(t *testing.T) {
		gxv, ghv, hp := randVec(r, B*3*H, 1), randVec(r, B*3*H, 1), randVec(r, B*H, 1)
		rh := randVec(r, B*H, 1)
		gx, gh, hpb, h := be.Alloc(B*3*H), up(ghv), up(hp), be.Alloc(B*H)
		loss := func(p []float32) float64 {
			be.Upload(gx, p)
			be.GRUCellForward(B, H, gx, gh, hpb, h)
			return dot(rh, down(h, B*H))
		}
		loss(gxv)
		dgx, dgh, dhp := be.Alloc(B*3*H), be.Alloc(B*3*H), be.Alloc(B*H)
		be.GRUCellBackward(B, H, gx, gh, hpb, up(rh), dgx, dgh, dhp)
		check(t, "dgx", gxv, down(dgx, B*3*H), loss)
		check(t, "dgh", ghv, down(dgh, B*3*H), func(v []float32) float64 { be.Upload(gh, v); return loss(gxv) })
	})
	t.Run("BatchNorm", func(t *testing.T) {
		const rows, cols = 9, 4
		xv, gv, bv, ry := randVec(r, rows*cols, 2), randVec(r, cols, 1), randVec(r, cols, 1), randVec(r, rows*cols, 1)
		x, gm, bt, y := be.Alloc(rows*cols), up(gv), up(bv), be.Alloc(rows*cols)
		rm, rv, sm, si := be.Alloc(cols), be.Alloc(cols), be.Alloc(cols), be.Alloc(cols)
		loss := func(p []float32) float64 {
			be.Upload(x, p)
			be.BatchNormForward(x, rows, cols, gm, bt, 1e-5, true, 0.1, rm, rv, y, sm, si)
			return dot(ry, down(y, rows*cols))
		}
		loss(xv)
		dx, dgm, dbt := be.Alloc(rows*cols), be.Alloc(cols), be.Alloc(cols)
		be.BatchNormBackward(x, up(ry), rows, cols, gm, sm, si, dx, dgm, dbt)
		check(t, "dx", xv, down(dx, rows*cols), loss)
		check(t, "dgamma", gv, down(dgm, cols), func(v []float32) float64 { be.Upload(gm, v); return loss(xv) })
	})
	t.Run("SoftmaxXent", func(t *testing.T) {
		const rows, classes = 5, 7
		lv := randVec(r, rows*classes, 3)
		labels := up([]float32{0, 6, 3, 3, 1})
		w := up([]float32{1, 0.5, 2, 1, 0})
		l, p, d := be.Alloc(rows*classes), be.Alloc(rows*classes), be.Alloc(rows*classes)
		loss := func(v []float32) float64 {
			be.Upload(l, v)
			return float64(be.SoftmaxXent(l, rows, classes, labels, w, p, d))
		}
		loss(lv)
		check(t, "dlogits", lv, down(d, rows*classes), loss)
	})
	t.Run("Conv1D", func(t *testing.T) {
		const batch, length, cin, k, pad, cout = 2, 9, 3, 3, 1, 4
		out := length + 2*pad - k + 1
		xv, wv, ry := randVec(r, batch*length*cin, 1), randVec(r, k*cin*cout, 1), randVec(r, batch*out*cout, 1)
		x, wb, cols, y := be.Alloc(len(xv)), up(wv), be.Alloc(batch*out*k*cin), be.Alloc(batch*out*cout)
		loss := func(v []float32) float64 {
			be.Upload(x, v)
			be.Im2Col1D(x, batch, length, cin, k, pad, 1, cols)
			be.Gemm(false, false, batch*out, cout, k*cin, 1, cols, k*cin, wb, cout, 0, y, cout)
			return dot(ry, down(y, len(ry)))
		}
		loss(xv)
		dcols, dx := be.Alloc(batch*out*k*cin), be.Alloc(len(xv))
		be.Gemm(false, true, batch*out, k*cin, cout, 1, up(ry), cout, wb, cout, 0, dcols, k*cin)
		be.Col2Im1D(dcols, batch, length, cin, k, pad, 1, dx)
		check(t, "dx", xv, down(dx, len(xv)), loss)
	})
	if err := be.Sync(); err != nil {
		t.Fatal(err)
	}
}

// TestDeterministic: the same work twice gives the same bits (no atomics in etch's kernels).
func TestDeterministic(t *testing.T) {
	be := shared
	r := rand.New(rand.NewPCG(7, 8))
	const rows, cols = 4096, 64
	xv := randVec(r, rows*cols, 1)
	var first []float32
	for range 2 {
		x, s := be.Alloc(rows*cols), be.Alloc(cols)
		be.Upload(x, xv)
		be.SumRows(x, rows, cols, s, 0)
		got := make([]float32, cols)
		be.Download(got, s)
		if first == nil {
			first = got
			continue
		}
		for i := range got {
			if got[i] != first[i] {
				t.Fatalf("SumRows[%d]: %v then %v", i, first[i], got[i])
			}
		}
	}
}

// BenchmarkGemm compares square SGEMM on the CPU backend and on the GPU (cuBLAS); `make
// bench-gpu` prints the speedups.
func BenchmarkGemm(b *testing.B) {
	backends := []kernels.Backend{cpu.New(kernels.Options{}), shared}
	for _, n := range []int{256, 1024, 2048} {
		for _, be := range backends {
			b.Run(fmt.Sprintf("n=%d/%s", n, be.Name()), func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 1))
				a, bm, c := be.Alloc(n*n), be.Alloc(n*n), be.Alloc(n*n)
				be.Upload(a, randVec(r, n*n, 1))
				be.Upload(bm, randVec(r, n*n, 1))
				for b.Loop() {
					be.Gemm(false, false, n, n, n, 1, a, n, bm, n, 0, c, n)
				}
				if err := be.Sync(); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
