package kerneltest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/etchlab/etch/kernels"
)

// Tolerances (see the package documentation).
const (
	gemmRel  = 1e-5
	gemmAbs  = 1e-6
	transTol = 2e-5
	sumRel   = 1e-5
)

// Run runs the conformance suite against b as subtests of t.
func Run(t *testing.T, b kernels.Backend) {
	t.Helper()
	h := &harness{b: b, rng: rand.New(rand.NewPCG(1, 2))}
	tests := []struct {
		name string
		fn   func(t *testing.T, h *harness)
	}{
		{"Memory", testMemory},
		{"Gemm", testGemm},
		{"GemmStridedBatched", testGemmBatched},
		{"Strided2D", testStrided2D},
		{"Im2Col1D", testIm2Col},
		{"MaxPool1D", testMaxPool},
		{"AddBiasSumRows", testBiasSumRows},
		{"Act", testAct},
		{"Elementwise", testElementwise},
		{"Softmax", testSoftmax},
		{"SoftmaxXent", testSoftmaxXent},
		{"DropoutMask", testDropout},
		{"BatchNorm", testBatchNorm},
		{"SumSquares", testSumSquares},
		{"LSTMCell", testLSTM},
		{"GRUCell", testGRU},
		{"Adam", testAdam},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, h) })
	}
}

type harness struct {
	b   kernels.Backend
	rng *rand.Rand
}

// rand returns n uniform values in [lo, hi).
func (h *harness) rand(n int, lo, hi float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = lo + (hi-lo)*h.rng.Float32()
	}
	return s
}

// up allocates a device buffer holding s.
func (h *harness) up(s []float32) kernels.Buffer {
	buf := h.b.Alloc(len(s))
	h.b.Upload(buf, s)
	return buf
}

// down downloads the first n elements of buf.
func (h *harness) down(buf kernels.Buffer, n int) []float32 {
	s := make([]float32, n)
	h.b.Download(s, buf)
	return s
}

func f64(s []float32) []float64 {
	d := make([]float64, len(s))
	for i, v := range s {
		d[i] = float64(v)
	}
	return d
}

// near reports whether got is within atol + rtol*|want| of want (NaN never is).
func near(got float32, want, atol, rtol float64) bool {
	d := math.Abs(float64(got) - want)
	return d <= atol+rtol*math.Abs(want)
}

// checkClose fails t at the first element outside tol*(1+|want|).
func checkClose(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if !near(got[i], want[i], tol, tol) {
			t.Fatalf("%s[%d] = %v, want %v (tolerance %g·(1+|want|))", what, i, got[i], want[i], tol)
		}
	}
}

// checkExact fails t at the first element that differs from want.
func checkExact(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] && !(math.IsNaN(float64(got[i])) && math.IsNaN(float64(want[i]))) {
			t.Fatalf("%s[%d] = %v, want %v (exact)", what, i, got[i], want[i])
		}
	}
}

func testMemory(t *testing.T, h *harness) {
	b := h.b
	buf := b.Alloc(10)
	if buf.Len() != 10 {
		t.Fatalf("Alloc(10).Len() = %d", buf.Len())
	}
	checkExact(t, "Alloc zeroed", h.down(buf, 10), make([]float32, 10))
	src := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	b.Upload(buf, src)
	checkExact(t, "Upload/Download", h.down(buf, 10), src)
	v := b.View(buf, 3, 4)
	if v.Len() != 4 {
		t.Fatalf("View len = %d", v.Len())
	}
	checkExact(t, "View", h.down(v, 4), src[3:7])
	b.Fill(v, -1)
	checkExact(t, "Fill through View", h.down(buf, 10), []float32{1, 2, 3, -1, -1, -1, -1, 8, 9, 10})
	dst := b.Alloc(4)
	b.Copy(dst, b.View(buf, 0, 4))
	checkExact(t, "Copy", h.down(dst, 4), []float32{1, 2, 3, -1})
	b.Upload(b.View(buf, 8, 2), []float32{42, 43})
	checkExact(t, "Upload into View", h.down(buf, 10)[8:], []float32{42, 43})
	big := b.Alloc(200003)
	b.Fill(big, 2.5)
	got := h.down(big, 200003)
	for i, x := range got {
		if x != 2.5 {
			t.Fatalf("Fill(large)[%d] = %v", i, x)
		}
	}
	if err := b.Sync(); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	b.Free(big)
	b.Free(dst)
	b.Free(nil)
}

// refGemm computes alpha*op(A)*op(B) + beta*C in float64 and the error bound per element.
func refGemm(transA, transB bool, m, n, k int, alpha float64, a []float32, lda int, bm []float32, ldb int, beta float64, c []float32, ldc int) (want, bound []float64) {
	want = make([]float64, m*n)
	bound = make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, sa float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = bm[j*ldb+p]
				} else {
					bv = bm[p*ldb+j]
				}
				s += float64(av) * float64(bv)
				sa += math.Abs(float64(av) * float64(bv))
			}
			w, bd := alpha*s, gemmRel*math.Abs(alpha)*sa+gemmAbs
			if beta != 0 {
				w += beta * float64(c[i*ldc+j])
				bd += gemmRel * math.Abs(beta*float64(c[i*ldc+j]))
			}
			want[i*n+j] = w
			bound[i*n+j] = bd
		}
	}
	return want, bound
}

type gemmCase struct {
	m, n, k     int
	pad         int // extra leading-dimension padding
	alpha, beta float32
}

func gemmCases() []gemmCase {
	return []gemmCase{
		{1, 1, 1, 0, 1, 0},
		{3, 5, 7, 0, 1, 0},
		{16, 16, 16, 0, 1, 1},
		{17, 33, 9, 3, 0.5, -2},
		{64, 1, 100, 0, 1, 0},
		{1, 64, 100, 1, 2, 0.5},
		{100, 70, 1, 0, 1, 1},
		{5, 6, 0, 0, 1, 0.5},
		{0, 4, 4, 0, 1, 0},
		{31, 47, 129, 2, -1, 0},
		{130, 257, 300, 0, 1, 0.25},
		{300, 130, 67, 5, 1, 0},
		{9, 520, 40, 0, 0, 2},
		{13, 3100, 20, 1, 1, 0.5},
	}
}

func testGemm(t *testing.T, h *harness) {
	for _, tc := range gemmCases() {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			name := fmt.Sprintf("m%d_n%d_k%d_tA%v_tB%v_a%v_b%v", tc.m, tc.n, tc.k, tr[0], tr[1], tc.alpha, tc.beta)
			t.Run(name, func(t *testing.T) { h.gemmOnce(t, tr[0], tr[1], tc) })
		}
	}
}

func (h *harness) gemmOnce(t *testing.T, transA, transB bool, tc gemmCase) {
	m, n, k := tc.m, tc.n, tc.k
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	lda, ldb, ldc := ac+tc.pad, bc+tc.pad, n+tc.pad
	lda, ldb, ldc = max(lda, 1), max(ldb, 1), max(ldc, 1)
	a := h.rand(max(ar*lda, 1), -1, 1)
	bm := h.rand(max(br*ldb, 1), -1, 1)
	c := h.rand(max(m*ldc, 1), -1, 1)
	if tc.beta == 0 {
		for i := range c {
			c[i] = float32(math.NaN()) // beta == 0 must overwrite, not multiply
		}
	}
	want, bound := refGemm(transA, transB, m, n, k, float64(tc.alpha), a, lda, bm, ldb, float64(tc.beta), c, ldc)
	ab, bb, cb := h.up(a), h.up(bm), h.up(c)
	h.b.Gemm(transA, transB, m, n, k, tc.alpha, ab, lda, bb, ldb, tc.beta, cb, ldc)
	got := h.down(cb, len(c))
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			g, w := got[i*ldc+j], want[i*n+j]
			if !near(g, w, bound[i*n+j], 0) {
				t.Fatalf("C[%d][%d] = %v, want %v ± %g", i, j, g, w, bound[i*n+j])
			}
		}
		for j := n; j < ldc && i*ldc+j < len(c); j++ {
			if got[i*ldc+j] != c[i*ldc+j] && !math.IsNaN(float64(c[i*ldc+j])) {
				t.Fatalf("C padding [%d][%d] changed: %v -> %v", i, j, c[i*ldc+j], got[i*ldc+j])
			}
		}
	}
}

func testGemmBatched(t *testing.T, h *harness) {
	bg, ok := h.b.(kernels.BatchedGemmer)
	if !ok {
		t.Skip("backend has no BatchedGemmer")
	}
	const batch, m, n, k = 3, 7, 5, 11
	for _, tr := range [][2]bool{{false, false}, {true, true}} {
		a := h.rand(batch*m*k+3, -1, 1)
		bm := h.rand(batch*k*n, -1, 1)
		c := h.rand(batch*m*n, -1, 1)
		ab, bb, cb := h.up(a), h.up(bm), h.up(c)
		lda, ldb := k, n
		if tr[0] {
			lda = m
		}
		if tr[1] {
			ldb = k
		}
		bg.GemmStridedBatched(tr[0], tr[1], m, n, k, 1.5, ab, lda, m*k+1, bb, ldb, k*n, 0.5, cb, n, m*n, batch)
		got := h.down(cb, len(c))
		for i := 0; i < batch; i++ {
			want, bound := refGemm(tr[0], tr[1], m, n, k, 1.5, a[i*(m*k+1):], lda, bm[i*k*n:], ldb, 0.5, c[i*m*n:], n)
			for j, w := range want {
				if !near(got[i*m*n+j], w, bound[j], 0) {
					t.Fatalf("batch %d C[%d] = %v, want %v", i, j, got[i*m*n+j], w)
				}
			}
		}
	}
}

func testStrided2D(t *testing.T, h *harness) {
	const rows, cols, lds, ldd = 13, 7, 20, 9
	src := h.rand(rows*lds, -1, 1)
	dst := h.rand(rows*ldd, -1, 1)
	sb, db := h.up(src), h.up(dst)
	h.b.Copy2D(rows, cols, sb, lds, db, ldd)
	want := append([]float32(nil), dst...)
	for r := 0; r < rows; r++ {
		copy(want[r*ldd:r*ldd+cols], src[r*lds:r*lds+cols])
	}
	checkExact(t, "Copy2D", h.down(db, len(dst)), want)

	h.b.Axpy2D(rows, cols, -0.5, sb, lds, db, ldd)
	w64 := f64(want)
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			w64[r*ldd+c] += -0.5 * float64(src[r*lds+c])
		}
	}
	checkClose(t, "Axpy2D", h.down(db, len(dst)), w64, 1e-6)
}

func testIm2Col(t *testing.T, h *harness) {
	for _, g := range []struct{ batch, length, cin, k, pad, stride int }{
		{2, 10, 3, 3, 0, 1},
		{3, 9, 4, 3, 1, 1},
		{2, 11, 2, 5, 2, 2},
		{1, 4, 1, 4, 0, 1},
		{40, 100, 16, 3, 1, 1},
	} {
		t.Run(fmt.Sprintf("%+v", g), func(t *testing.T) {
			out := (g.length+2*g.pad-g.k)/g.stride + 1
			w := g.k * g.cin
			x := h.rand(g.batch*g.length*g.cin, -1, 1)
			want := make([]float32, g.batch*out*w)
			for b := 0; b < g.batch; b++ {
				for o := 0; o < out; o++ {
					for j := 0; j < g.k; j++ {
						pos := o*g.stride + j - g.pad
						for c := 0; c < g.cin; c++ {
							if pos >= 0 && pos < g.length {
								want[(b*out+o)*w+j*g.cin+c] = x[(b*g.length+pos)*g.cin+c]
							}
						}
					}
				}
			}
			xb := h.up(x)
			cols := h.up(h.rand(len(want), 5, 6)) // garbage: Im2Col1D must overwrite
			h.b.Im2Col1D(xb, g.batch, g.length, g.cin, g.k, g.pad, g.stride, cols)
			checkExact(t, "Im2Col1D", h.down(cols, len(want)), want)

			// Col2Im1D is the adjoint and accumulates: dx0 + Σ over occurrences.
			dc := h.rand(len(want), -1, 1)
			dx0 := h.rand(len(x), -1, 1)
			wantDx := f64(dx0)
			for b := 0; b < g.batch; b++ {
				for o := 0; o < out; o++ {
					for j := 0; j < g.k; j++ {
						pos := o*g.stride + j - g.pad
						for c := 0; c < g.cin; c++ {
							if pos >= 0 && pos < g.length {
								wantDx[(b*g.length+pos)*g.cin+c] += float64(dc[(b*out+o)*w+j*g.cin+c])
							}
						}
					}
				}
			}
			dxb := h.up(dx0)
			h.b.Col2Im1D(h.up(dc), g.batch, g.length, g.cin, g.k, g.pad, g.stride, dxb)
			checkClose(t, "Col2Im1D", h.down(dxb, len(x)), wantDx, 1e-6)
		})
	}
}

func testMaxPool(t *testing.T, h *harness) {
	for _, g := range []struct{ batch, length, c, size int }{
		{2, 8, 3, 2}, {3, 9, 5, 2}, {1, 7, 1, 3}, {3, 10, 20, 3}, {64, 98, 64, 2},
	} {
		t.Run(fmt.Sprintf("%+v", g), func(t *testing.T) {
			out := g.length / g.size
			x := h.rand(g.batch*g.length*g.c, -1, 1)
			if len(x) > 4 {
				x[g.c] = x[0] // a tie: the first index must win
			}
			wantY := make([]float32, g.batch*out*g.c)
			wantA := make([]float32, len(wantY))
			for b := 0; b < g.batch; b++ {
				for o := 0; o < out; o++ {
					for c := 0; c < g.c; c++ {
						best := -1
						for j := 0; j < g.size; j++ {
							idx := (b*g.length+o*g.size+j)*g.c + c
							if best < 0 || x[idx] > x[best] {
								best = idx
							}
						}
						wantY[(b*out+o)*g.c+c] = x[best]
						wantA[(b*out+o)*g.c+c] = float32(best)
					}
				}
			}
			y, am := h.b.Alloc(len(wantY)), h.b.Alloc(len(wantY))
			h.b.MaxPool1D(h.up(x), g.batch, g.length, g.c, g.size, y, am)
			checkExact(t, "MaxPool1D y", h.down(y, len(wantY)), wantY)
			checkExact(t, "MaxPool1D argmax", h.down(am, len(wantA)), wantA)

			dy := h.rand(len(wantY), -1, 1)
			wantDx := make([]float32, len(x))
			for i, a := range wantA {
				wantDx[int(a)] += dy[i]
			}
			dx := h.up(h.rand(len(x), 3, 4)) // garbage: must be zeroed
			h.b.MaxPool1DBackward(h.up(dy), am, g.batch, g.length, g.c, g.size, dx)
			checkExact(t, "MaxPool1DBackward", h.down(dx, len(x)), wantDx)
		})
	}
}

func testBiasSumRows(t *testing.T, h *harness) {
	for _, g := range []struct{ rows, cols int }{{1, 1}, {5, 3}, {300, 257}, {4096, 20}} {
		t.Run(fmt.Sprintf("%dx%d", g.rows, g.cols), func(t *testing.T) {
			x := h.rand(g.rows*g.cols, -1, 1)
			bias := h.rand(g.cols, -1, 1)
			want := make([]float32, len(x))
			for r := 0; r < g.rows; r++ {
				for c := 0; c < g.cols; c++ {
					want[r*g.cols+c] = x[r*g.cols+c] + bias[c]
				}
			}
			xb := h.up(x)
			h.b.AddBias(xb, g.rows, g.cols, h.up(bias))
			checkExact(t, "AddBias", h.down(xb, len(x)), want)

			for _, beta := range []float32{0, 1, 0.5} {
				dst := h.rand(g.cols, -1, 1)
				ref := make([]float64, g.cols)
				for c := range ref {
					ref[c] = float64(beta) * float64(dst[c])
					for r := 0; r < g.rows; r++ {
						ref[c] += float64(x[r*g.cols+c])
					}
				}
				db := h.up(dst)
				h.b.SumRows(h.up(x), g.rows, g.cols, db, beta)
				got := h.down(db, g.cols)
				for c := range ref {
					if !near(got[c], ref[c], 1e-6*float64(g.rows), sumRel) {
						t.Fatalf("SumRows beta=%v [%d] = %v, want %v", beta, c, got[c], ref[c])
					}
				}
			}
		})
	}
}

func actRef(kind kernels.Activation, x float64) float64 {
	switch kind {
	case kernels.ReLU:
		return math.Max(x, 0)
	case kernels.Sigmoid:
		return 1 / (1 + math.Exp(-x))
	case kernels.Tanh:
		return math.Tanh(x)
	}
	return x
}

func testAct(t *testing.T, h *harness) {
	for _, kind := range []kernels.Activation{kernels.Identity, kernels.ReLU, kernels.Sigmoid, kernels.Tanh} {
		for _, n := range []int{1, 17, 100003} {
			t.Run(fmt.Sprintf("%v_%d", kind, n), func(t *testing.T) {
				x := h.rand(n, -12, 12)
				x[0] = 0
				want := make([]float64, n)
				for i, v := range x {
					want[i] = actRef(kind, float64(v))
				}
				xb, yb := h.up(x), h.b.Alloc(n)
				h.b.Act(kind, xb, yb, n)
				y := h.down(yb, n)
				checkClose(t, "Act", y, want, transTol)
				// In place.
				h.b.Act(kind, xb, xb, n)
				checkClose(t, "Act in place", h.down(xb, n), want, transTol)

				dy := h.rand(n, -1, 1)
				wantDx := make([]float64, n)
				for i, v := range y {
					d := 1.0
					switch kind {
					case kernels.ReLU:
						if v <= 0 {
							d = 0
						}
					case kernels.Sigmoid:
						d = float64(v) * (1 - float64(v))
					case kernels.Tanh:
						d = 1 - float64(v)*float64(v)
					}
					wantDx[i] = float64(dy[i]) * d
				}
				dyb := h.up(dy)
				dxb := h.b.Alloc(n)
				h.b.ActBackward(kind, yb, dyb, dxb, n)
				checkClose(t, "ActBackward", h.down(dxb, n), wantDx, 1e-6)
				h.b.ActBackward(kind, yb, dyb, dyb, n)
				checkClose(t, "ActBackward in place", h.down(dyb, n), wantDx, 1e-6)
				if kind == kernels.ReLU { // zeros of either sign and negatives block the gradient
					ys := []float32{0, float32(math.Copysign(0, -1)), -1, 1e-30, 2}
					yb2, dyb2, dxb2 := h.up(ys), h.up([]float32{1, 1, 1, 1, 1}), h.b.Alloc(5)
					h.b.ActBackward(kind, yb2, dyb2, dxb2, 5)
					checkExact(t, "ReLU backward at 0, -0, -1, 1e-30, 2", h.down(dxb2, 5), []float32{0, 0, 0, 1, 1})
				}
			})
		}
	}
}

func testElementwise(t *testing.T, h *harness) {
	for _, n := range []int{0, 1, 31, 100003} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			x, y := h.rand(n, -1, 1), h.rand(n, -1, 1)
			xb, yb := h.up(append(x, 7)), h.up(append(y, 7)) // one extra element that must not change
			h.b.Axpy(n, 0.75, xb, yb)
			want := make([]float64, n+1)
			for i := range x {
				want[i] = float64(y[i]) + 0.75*float64(x[i])
			}
			want[n] = 7
			checkClose(t, "Axpy", h.down(yb, n+1), want, 1e-6)

			h.b.Scale(n, -3, xb)
			for i := range x {
				want[i] = -3 * float64(x[i])
			}
			checkClose(t, "Scale", h.down(xb, n+1), want, 1e-6)

			a, bv := h.rand(n, -2, 2), h.rand(n, -2, 2)
			ab := h.up(a)
			dst := h.b.Alloc(n + 1)
			h.b.Mul(n, ab, h.up(bv), dst)
			wm := make([]float32, n+1)
			for i := range a {
				wm[i] = a[i] * bv[i]
			}
			checkExact(t, "Mul", h.down(dst, n+1), wm)
			h.b.Mul(n, ab, ab, ab)
			for i := range a {
				wm[i] = a[i] * a[i]
			}
			checkExact(t, "Mul in place", h.down(ab, n), wm[:n])
		})
	}
}

// refSoftmax returns the float64 softmax of each row and log-sum-exp.
func refSoftmax(l []float32, rows, classes int) (p []float64, lse []float64) {
	p = make([]float64, rows*classes)
	lse = make([]float64, rows)
	for r := 0; r < rows; r++ {
		mx := math.Inf(-1)
		for c := 0; c < classes; c++ {
			mx = math.Max(mx, float64(l[r*classes+c]))
		}
		var s float64
		for c := 0; c < classes; c++ {
			e := math.Exp(float64(l[r*classes+c]) - mx)
			p[r*classes+c] = e
			s += e
		}
		for c := 0; c < classes; c++ {
			p[r*classes+c] /= s
		}
		lse[r] = mx + math.Log(s)
	}
	return p, lse
}

func testSoftmax(t *testing.T, h *harness) {
	for _, g := range []struct{ rows, classes int }{{1, 1}, {3, 4}, {257, 25}, {5000, 10}} {
		l := h.rand(g.rows*g.classes, -30, 30)
		want, _ := refSoftmax(l, g.rows, g.classes)
		lb := h.up(l)
		pb := h.b.Alloc(len(l))
		h.b.Softmax(lb, g.rows, g.classes, pb)
		checkClose(t, "Softmax", h.down(pb, len(l)), want, transTol)
		h.b.Softmax(lb, g.rows, g.classes, lb)
		checkClose(t, "Softmax in place", h.down(lb, len(l)), want, transTol)
	}
}

func testSoftmaxXent(t *testing.T, h *harness) {
	for _, g := range []struct {
		rows, classes int
		weighted      bool
	}{{1, 2, false}, {7, 5, true}, {128, 25, false}, {3000, 25, true}} {
		t.Run(fmt.Sprintf("%+v", g), func(t *testing.T) {
			l := h.rand(g.rows*g.classes, -8, 8)
			labels := make([]float32, g.rows)
			w := make([]float64, g.rows)
			wf := make([]float32, g.rows)
			var sumW float64
			for r := range labels {
				labels[r] = float32(h.rng.IntN(g.classes))
				w[r] = 1
				if g.weighted {
					wf[r] = 0.1 + 2*h.rng.Float32()
					w[r] = float64(wf[r])
				}
				sumW += w[r]
			}
			p, lse := refSoftmax(l, g.rows, g.classes)
			var loss float64
			grad := make([]float64, len(p))
			for r := 0; r < g.rows; r++ {
				y := int(labels[r])
				loss += w[r] * (lse[r] - float64(l[r*g.classes+y]))
				for c := 0; c < g.classes; c++ {
					oh := 0.0
					if c == y {
						oh = 1
					}
					grad[r*g.classes+c] = w[r] * (p[r*g.classes+c] - oh) / sumW
				}
			}
			loss /= sumW
			var wb kernels.Buffer
			if g.weighted {
				wb = h.up(wf)
			}
			pb, db := h.b.Alloc(len(l)), h.b.Alloc(len(l))
			got := h.b.SoftmaxXent(h.up(l), g.rows, g.classes, h.up(labels), wb, pb, db)
			if !near(got, loss, 1e-6, sumRel) {
				t.Fatalf("loss = %v, want %v", got, loss)
			}
			checkClose(t, "probs", h.down(pb, len(l)), p, transTol)
			checkClose(t, "dlogits", h.down(db, len(l)), grad, transTol/float64(g.rows))
		})
	}
}

func testDropout(t *testing.T, h *harness) {
	for _, g := range []struct {
		n          int
		p          float32
		seed, step uint64
	}{{10, 0.5, 1, 0}, {100003, 0.3, 42, 7}, {1000, 0, 3, 3}} {
		mb := h.b.Alloc(g.n)
		h.b.DropoutMask(g.n, g.p, g.seed, g.step, mb)
		got := h.down(mb, g.n)
		want := make([]float32, g.n)
		kept := 0
		for i := range want {
			if kernels.DropoutUniform(g.seed, g.step, uint64(i)) >= g.p {
				want[i] = 1 / (1 - g.p)
				kept++
			}
		}
		checkExact(t, fmt.Sprintf("DropoutMask%+v", g), got, want)
		if g.n >= 1000 {
			frac := float64(g.n-kept) / float64(g.n)
			if math.Abs(frac-float64(g.p)) > 5*math.Sqrt(float64(g.p*(1-g.p))/float64(g.n))+1e-9 {
				t.Fatalf("dropped fraction %.4f, want about %v", frac, g.p)
			}
		}
	}
	// Different steps give different masks.
	a, b := h.b.Alloc(64), h.b.Alloc(64)
	h.b.DropoutMask(64, 0.5, 9, 1, a)
	h.b.DropoutMask(64, 0.5, 9, 2, b)
	ga, gb := h.down(a, 64), h.down(b, 64)
	same := true
	for i := range ga {
		same = same && ga[i] == gb[i]
	}
	if same {
		t.Fatal("DropoutMask: steps 1 and 2 gave the same mask")
	}
}

func testBatchNorm(t *testing.T, h *harness) {
	for _, g := range []struct{ rows, cols int }{{2, 1}, {16, 3}, {500, 200}, {64, 70}} {
		t.Run(fmt.Sprintf("%dx%d", g.rows, g.cols), func(t *testing.T) {
			rows, cols := g.rows, g.cols
			x := h.rand(rows*cols, -2, 3)
			gamma, beta := h.rand(cols, 0.5, 1.5), h.rand(cols, -0.5, 0.5)
			rm0, rv0 := h.rand(cols, -0.1, 0.1), h.rand(cols, 0.5, 1.5)
			const eps, mom = 1e-5, 0.1
			mean, vr := make([]float64, cols), make([]float64, cols)
			for c := 0; c < cols; c++ {
				for r := 0; r < rows; r++ {
					mean[c] += float64(x[r*cols+c])
				}
				mean[c] /= float64(rows)
				for r := 0; r < rows; r++ {
					d := float64(x[r*cols+c]) - mean[c]
					vr[c] += d * d
				}
				vr[c] /= float64(rows)
			}
			wantY := make([]float64, rows*cols)
			xhat := make([]float64, rows*cols)
			for r := 0; r < rows; r++ {
				for c := 0; c < cols; c++ {
					xh := (float64(x[r*cols+c]) - mean[c]) / math.Sqrt(vr[c]+eps)
					xhat[r*cols+c] = xh
					wantY[r*cols+c] = float64(gamma[c])*xh + float64(beta[c])
				}
			}
			wantRM, wantRV := make([]float64, cols), make([]float64, cols)
			for c := 0; c < cols; c++ {
				wantRM[c] = (1-mom)*float64(rm0[c]) + mom*mean[c]
				wantRV[c] = (1-mom)*float64(rv0[c]) + mom*vr[c]*float64(rows)/float64(rows-1)
			}
			xb, gb, bb := h.up(x), h.up(gamma), h.up(beta)
			rmb, rvb := h.up(rm0), h.up(rv0)
			yb, smb, sib := h.b.Alloc(rows*cols), h.b.Alloc(cols), h.b.Alloc(cols)
			h.b.BatchNormForward(xb, rows, cols, gb, bb, eps, true, mom, rmb, rvb, yb, smb, sib)
			checkClose(t, "BatchNorm y", h.down(yb, rows*cols), wantY, transTol*10)
			checkClose(t, "BatchNorm runMean", h.down(rmb, cols), wantRM, transTol)
			checkClose(t, "BatchNorm runVar", h.down(rvb, cols), wantRV, transTol)

			// Backward: dx = gamma*invstd/N * (N*dy - Σdy - xhat*Σ(dy*xhat)).
			dy := h.rand(rows*cols, -1, 1)
			sdy, sdyx := make([]float64, cols), make([]float64, cols)
			for r := 0; r < rows; r++ {
				for c := 0; c < cols; c++ {
					sdy[c] += float64(dy[r*cols+c])
					sdyx[c] += float64(dy[r*cols+c]) * xhat[r*cols+c]
				}
			}
			wantDx := make([]float64, rows*cols)
			n := float64(rows)
			for r := 0; r < rows; r++ {
				for c := 0; c < cols; c++ {
					wantDx[r*cols+c] = float64(gamma[c]) / math.Sqrt(vr[c]+eps) / n *
						(n*float64(dy[r*cols+c]) - sdy[c] - xhat[r*cols+c]*sdyx[c])
				}
			}
			dxb, dgb, dbb := h.b.Alloc(rows*cols), h.b.Alloc(cols), h.b.Alloc(cols)
			h.b.BatchNormBackward(xb, h.up(dy), rows, cols, gb, smb, sib, dxb, dgb, dbb)
			checkClose(t, "BatchNorm dx", h.down(dxb, rows*cols), wantDx, transTol*10)
			checkClose(t, "BatchNorm dgamma", h.down(dgb, cols), sdyx, transTol*10)
			checkClose(t, "BatchNorm dbeta", h.down(dbb, cols), sdy, transTol*10)

			// Inference mode uses the running statistics.
			rm, rv := h.down(rmb, cols), h.down(rvb, cols)
			wantInf := make([]float64, rows*cols)
			for r := 0; r < rows; r++ {
				for c := 0; c < cols; c++ {
					wantInf[r*cols+c] = float64(gamma[c])*(float64(x[r*cols+c])-float64(rm[c]))/math.Sqrt(float64(rv[c])+eps) + float64(beta[c])
				}
			}
			h.b.BatchNormForward(xb, rows, cols, gb, bb, eps, false, mom, rmb, rvb, yb, nil, nil)
			checkClose(t, "BatchNorm inference y", h.down(yb, rows*cols), wantInf, transTol*10)
			checkClose(t, "BatchNorm inference keeps runMean", h.down(rmb, cols), f64(rm), 0)
		})
	}
}

func testSumSquares(t *testing.T, h *harness) {
	for _, n := range []int{0, 1, 1000, 1 << 20} {
		x := h.rand(n+1, -1, 1)
		var want float64
		for _, v := range x[:n] {
			want += float64(v) * float64(v)
		}
		got := h.b.SumSquares(h.up(x), n)
		if !near(got, want, 1e-7, sumRel) {
			t.Fatalf("SumSquares(%d) = %v, want %v", n, got, want)
		}
	}
}

func sig(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// lstmRef is the float64 reference LSTM cell: pre [4H] (i,f,g,o), cPrev [H] → c, h, activations.
func lstmRef(H int, pre, cPrev []float64) (act, c, h []float64) {
	act = make([]float64, 4*H)
	c, h = make([]float64, H), make([]float64, H)
	for j := 0; j < H; j++ {
		i, f, g, o := sig(pre[j]), sig(pre[H+j]), math.Tanh(pre[2*H+j]), sig(pre[3*H+j])
		act[j], act[H+j], act[2*H+j], act[3*H+j] = i, f, g, o
		c[j] = f*cPrev[j] + i*g
		h[j] = o * math.Tanh(c[j])
	}
	return act, c, h
}

// lstmRefBack is the float64 reference backward pass for one row.
func lstmRefBack(H int, act, cPrev, c, dh, dc []float64) (dPre, dcPrev []float64) {
	dPre, dcPrev = make([]float64, 4*H), make([]float64, H)
	for j := 0; j < H; j++ {
		i, f, g, o := act[j], act[H+j], act[2*H+j], act[3*H+j]
		tc := math.Tanh(c[j])
		dct := dh[j]*o*(1-tc*tc) + dc[j]
		dPre[j] = dct * g * i * (1 - i)
		dPre[H+j] = dct * cPrev[j] * f * (1 - f)
		dPre[2*H+j] = dct * i * (1 - g*g)
		dPre[3*H+j] = dh[j] * tc * o * (1 - o)
		dcPrev[j] = dct * f
	}
	return dPre, dcPrev
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// fdCheck compares analytic gradient grad of f at x with central differences.
func fdCheck(t *testing.T, what string, f func() float64, x []float64, grad []float64) {
	t.Helper()
	const step = 1e-6
	for i := range x {
		old := x[i]
		x[i] = old + step
		up := f()
		x[i] = old - step
		dn := f()
		x[i] = old
		num := (up - dn) / (2 * step)
		if math.Abs(num-grad[i]) > 1e-6*(1+math.Abs(num)) {
			t.Fatalf("%s: reference gradient [%d] = %v, finite difference %v", what, i, grad[i], num)
		}
	}
}

func testLSTM(t *testing.T, h *harness) {
	lc, ok := h.b.(kernels.LSTMCeller)
	if !ok {
		t.Skip("backend has no LSTMCeller")
	}
	// First validate the float64 reference backward against finite differences.
	{
		const H = 3
		pre, cPrev := f64(h.rand(4*H, -2, 2)), f64(h.rand(H, -1, 1))
		wh, wc := f64(h.rand(H, -1, 1)), f64(h.rand(H, -1, 1))
		loss := func() float64 { _, c, hh := lstmRef(H, pre, cPrev); return dot(wh, hh) + dot(wc, c) }
		act, c, _ := lstmRef(H, pre, cPrev)
		dPre, dcPrev := lstmRefBack(H, act, cPrev, c, wh, wc)
		fdCheck(t, "LSTM dPre", loss, pre, dPre)
		fdCheck(t, "LSTM dcPrev", loss, cPrev, dcPrev)
	}
	for _, g := range []struct {
		batch, hidden int
		nilDC         bool
	}{{1, 1, false}, {3, 5, true}, {4, 48, true}, {128, 64, false}, {64, 200, false}} {
		t.Run(fmt.Sprintf("%+v", g), func(t *testing.T) {
			B, H := g.batch, g.hidden
			pre, cPrev := h.rand(B*4*H, -3, 3), h.rand(B*H, -1, 1)
			dh, dc := h.rand(B*H, -1, 1), h.rand(B*H, -1, 1)
			if g.nilDC {
				clear(dc)
			}
			wantAct, wantC, wantH := make([]float64, B*4*H), make([]float64, B*H), make([]float64, B*H)
			wantDPre, wantDC := make([]float64, B*4*H), make([]float64, B*H)
			for b := 0; b < B; b++ {
				act, c, hh := lstmRef(H, f64(pre[b*4*H:(b+1)*4*H]), f64(cPrev[b*H:(b+1)*H]))
				copy(wantAct[b*4*H:], act)
				copy(wantC[b*H:], c)
				copy(wantH[b*H:], hh)
			}
			gb, cpb := h.up(pre), h.up(cPrev)
			cb, hb := h.b.Alloc(B*H), h.b.Alloc(B*H)
			lc.LSTMCellForward(B, H, gb, cpb, cb, hb)
			gotAct, gotC := h.down(gb, B*4*H), h.down(cb, B*H)
			checkClose(t, "LSTM gates", gotAct, wantAct, transTol)
			checkClose(t, "LSTM c", gotC, wantC, transTol)
			checkClose(t, "LSTM h", h.down(hb, B*H), wantH, transTol)
			// Backward from the backend's own forward values, so only the backward is under test.
			for b := 0; b < B; b++ {
				dp, dcp := lstmRefBack(H, f64(gotAct[b*4*H:(b+1)*4*H]), f64(cPrev[b*H:(b+1)*H]), f64(gotC[b*H:(b+1)*H]),
					f64(dh[b*H:(b+1)*H]), f64(dc[b*H:(b+1)*H]))
				copy(wantDPre[b*4*H:], dp)
				copy(wantDC[b*H:], dcp)
			}
			var dcb kernels.Buffer
			if !g.nilDC {
				dcb = h.up(dc)
			}
			dgb, dcpb := h.b.Alloc(B*4*H), h.b.Alloc(B*H)
			lc.LSTMCellBackward(B, H, gb, cpb, cb, h.up(dh), dcb, dgb, dcpb)
			checkClose(t, "LSTM dGates", h.down(dgb, B*4*H), wantDPre, transTol)
			checkClose(t, "LSTM dcPrev", h.down(dcpb, B*H), wantDC, transTol)
			if dcb != nil { // dcPrev aliasing dc
				lc.LSTMCellBackward(B, H, gb, cpb, cb, h.up(dh), dcb, dgb, dcb)
				checkClose(t, "LSTM dcPrev aliasing dc", h.down(dcb, B*H), wantDC, transTol)
			}
		})
	}
}

// gruRef is the float64 reference GRU cell for one row.
func gruRef(H int, gx, gh, hPrev []float64) (act, h []float64) {
	act, h = make([]float64, 3*H), make([]float64, H)
	for j := 0; j < H; j++ {
		r := sig(gx[j] + gh[j])
		z := sig(gx[H+j] + gh[H+j])
		n := math.Tanh(gx[2*H+j] + r*gh[2*H+j])
		act[j], act[H+j], act[2*H+j] = r, z, n
		h[j] = (1-z)*n + z*hPrev[j]
	}
	return act, h
}

func gruRefBack(H int, act, gh, hPrev, dh []float64) (dgx, dgh, dhPrev []float64) {
	dgx, dgh, dhPrev = make([]float64, 3*H), make([]float64, 3*H), make([]float64, H)
	for j := 0; j < H; j++ {
		r, z, n := act[j], act[H+j], act[2*H+j]
		dn := dh[j] * (1 - z) * (1 - n*n)
		dz := dh[j] * (hPrev[j] - n) * z * (1 - z)
		dr := dn * gh[2*H+j] * r * (1 - r)
		dgx[j], dgx[H+j], dgx[2*H+j] = dr, dz, dn
		dgh[j], dgh[H+j], dgh[2*H+j] = dr, dz, dn*r
		dhPrev[j] = dh[j] * z
	}
	return dgx, dgh, dhPrev
}

func testGRU(t *testing.T, h *harness) {
	gc, ok := h.b.(kernels.GRUCeller)
	if !ok {
		t.Skip("backend has no GRUCeller")
	}
	{
		const H = 3
		gx, gh, hp := f64(h.rand(3*H, -2, 2)), f64(h.rand(3*H, -2, 2)), f64(h.rand(H, -1, 1))
		wh := f64(h.rand(H, -1, 1))
		loss := func() float64 { _, hh := gruRef(H, gx, gh, hp); return dot(wh, hh) }
		act, _ := gruRef(H, gx, gh, hp)
		dgx, dgh, dhp := gruRefBack(H, act, gh, hp, wh)
		fdCheck(t, "GRU dgx", loss, gx, dgx)
		fdCheck(t, "GRU dgh", loss, gh, dgh)
		fdCheck(t, "GRU dhPrev (direct)", loss, hp, dhp)
	}
	for _, g := range []struct{ batch, hidden int }{{1, 1}, {3, 5}, {128, 100}, {64, 200}} {
		t.Run(fmt.Sprintf("%+v", g), func(t *testing.T) {
			B, H := g.batch, g.hidden
			gx, gh, hp, dh := h.rand(B*3*H, -3, 3), h.rand(B*3*H, -3, 3), h.rand(B*H, -1, 1), h.rand(B*H, -1, 1)
			wantAct, wantH := make([]float64, B*3*H), make([]float64, B*H)
			for b := 0; b < B; b++ {
				act, hh := gruRef(H, f64(gx[b*3*H:(b+1)*3*H]), f64(gh[b*3*H:(b+1)*3*H]), f64(hp[b*H:(b+1)*H]))
				copy(wantAct[b*3*H:], act)
				copy(wantH[b*H:], hh)
			}
			gxb, ghb, hpb, hb := h.up(gx), h.up(gh), h.up(hp), h.b.Alloc(B*H)
			gc.GRUCellForward(B, H, gxb, ghb, hpb, hb)
			gotAct := h.down(gxb, B*3*H)
			checkClose(t, "GRU gates", gotAct, wantAct, transTol)
			checkExact(t, "GRU gh unchanged", h.down(ghb, B*3*H), gh)
			checkClose(t, "GRU h", h.down(hb, B*H), wantH, transTol)

			wantDgx, wantDgh, wantDhp := make([]float64, B*3*H), make([]float64, B*3*H), make([]float64, B*H)
			for b := 0; b < B; b++ {
				a, c, d := gruRefBack(H, f64(gotAct[b*3*H:(b+1)*3*H]), f64(gh[b*3*H:(b+1)*3*H]), f64(hp[b*H:(b+1)*H]), f64(dh[b*H:(b+1)*H]))
				copy(wantDgx[b*3*H:], a)
				copy(wantDgh[b*3*H:], c)
				copy(wantDhp[b*H:], d)
			}
			dgxb, dghb, dhpb := h.b.Alloc(B*3*H), h.b.Alloc(B*3*H), h.b.Alloc(B*H)
			gc.GRUCellBackward(B, H, gxb, ghb, hpb, h.up(dh), dgxb, dghb, dhpb)
			checkClose(t, "GRU dgx", h.down(dgxb, B*3*H), wantDgx, transTol)
			checkClose(t, "GRU dgh", h.down(dghb, B*3*H), wantDgh, transTol)
			checkClose(t, "GRU dhPrev", h.down(dhpb, B*H), wantDhp, transTol)
		})
	}
}

func testAdam(t *testing.T, h *harness) {
	as, ok := h.b.(kernels.AdamStepper)
	if !ok {
		t.Skip("backend has no AdamStepper")
	}
	for _, n := range []int{1, 1000, 100003} {
		p, m, v := h.rand(n, -1, 1), h.rand(n, -0.1, 0.1), h.rand(n, 0, 0.01)
		pb, mb, vb := h.up(p), h.up(m), h.up(v)
		const lr, b1, b2, eps, wd = 1e-3, 0.9, 0.999, 1e-8, 1e-2
		wp, wm, wv := f64(p), f64(m), f64(v)
		for step := 1; step <= 3; step++ {
			g := h.rand(n, -1, 1)
			for i := range wp {
				gi := float64(g[i]) + wd*wp[i]
				wm[i] = b1*wm[i] + (1-b1)*gi
				wv[i] = b2*wv[i] + (1-b2)*gi*gi
				mh := wm[i] / (1 - math.Pow(b1, float64(step)))
				vh := wv[i] / (1 - math.Pow(b2, float64(step)))
				wp[i] -= lr * mh / (math.Sqrt(vh) + eps)
			}
			as.AdamStep(n, pb, h.up(g), mb, vb, lr, b1, b2, eps, wd, step)
		}
		checkClose(t, "Adam param", h.down(pb, n), wp, transTol)
		checkClose(t, "Adam m", h.down(mb, n), wm, transTol)
		checkClose(t, "Adam v", h.down(vb, n), wv, transTol)
	}
}
