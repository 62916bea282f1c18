//go:build amd64 && !purego

package cpu

import "golang.org/x/sys/cpu"

// Assembly micro-kernels (kernel_amd64.s): C[0:mr][0:nr] += Apanel·Bpanel on packed panels.
//
//go:noescape
func sgemm12x32AVX512(k int, a, b, c *float32, ldc int)

//go:noescape
func sgemm6x16AVX2(k int, a, b, c *float32, ldc int)

// Variants reading the A panel row by row: a[i*lda+p].
//
//go:noescape
func sgemm12x32AVX512RowA(k int, a, b, c *float32, ldc, lda int)

//go:noescape
func sgemm6x16AVX2RowA(k int, a, b, c *float32, ldc, lda int)

var (
	kernelAVX512 = &microKernel{name: "avx512 12x32", mr: 12, nr: 32, fn: func(k int, a, b, c []float32, ldc int) {
		_, _, _ = a[12*k-1], b[32*k-1], c[11*ldc+31]
		sgemm12x32AVX512(k, &a[0], &b[0], &c[0], ldc)
	}, rowA: func(k int, a, b, c []float32, ldc, lda int) {
		_, _, _ = a[11*lda+k-1], b[32*k-1], c[11*ldc+31]
		sgemm12x32AVX512RowA(k, &a[0], &b[0], &c[0], ldc, lda)
	}}
	kernelAVX2 = &microKernel{name: "avx2+fma 6x16", mr: 6, nr: 16, fn: func(k int, a, b, c []float32, ldc int) {
		_, _, _ = a[6*k-1], b[16*k-1], c[5*ldc+15]
		sgemm6x16AVX2(k, &a[0], &b[0], &c[0], ldc)
	}, rowA: func(k int, a, b, c []float32, ldc, lda int) {
		_, _, _ = a[5*lda+k-1], b[16*k-1], c[5*ldc+15]
		sgemm6x16AVX2RowA(k, &a[0], &b[0], &c[0], ldc, lda)
	}}
)

func hasAVX512() bool { return cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL }
func hasAVX2() bool   { return cpu.X86.HasAVX2 && cpu.X86.HasFMA }

// bestKernel returns the fastest micro-kernel this CPU supports.
func bestKernel() *microKernel { return microKernels()[0] }

// microKernels lists the micro-kernels usable on this CPU, best first.
func microKernels() []*microKernel {
	var ks []*microKernel
	if hasAVX512() {
		ks = append(ks, kernelAVX512)
	}
	if hasAVX2() {
		ks = append(ks, kernelAVX2)
	}
	return append(ks, kernelGo)
}

// packATAVX512 packs a transposed-A panel (see kernel_amd64.s).
//
//go:noescape
func packATAVX512(dst, src *float32, lda, kb, rows, mr int, alpha float32)

// packATFast packs kb rows of a transposed-A panel, dst[p*mr+r] = alpha*src[p*lda+r] for
// r < rows and 0 up to mr, with AVX-512 masked moves; false means the caller must do it.
func packATFast(dst, src []float32, lda, kb, rows, mr int, alpha float32) bool {
	if !haveAVX512 || mr > 16 || rows < 1 || kb < 1 {
		return false
	}
	_, _ = src[(kb-1)*lda+rows-1], dst[kb*mr-1]
	packATAVX512(&dst[0], &src[0], lda, kb, rows, mr, alpha)
	return true
}

// dropoutAVX512 writes an inverted-dropout mask 8 elements at a time (see kernel_amd64.s).
//
//go:noescape
func dropoutAVX512(dst *float32, n int, key, first uint64, p, keep float32)

var haveAVX512DQ = hasAVX512() && cpu.X86.HasAVX512DQ

// dropoutFast fills the longest prefix of dst (a multiple of 8) with the mask bits for elements
// first, first+1, ... and returns its length (0 without AVX-512DQ).
func dropoutFast(dst []float32, key, first uint64, p, keep float32) int {
	n := len(dst) &^ 7
	if !haveAVX512DQ || n == 0 {
		return 0
	}
	dropoutAVX512(&dst[0], n, key, first, p, keep)
	return n
}

// axpyAVX512 and mulAVX512 are the vector loops behind axpy and mul (kernel_amd64.s).
//
//go:noescape
func axpyAVX512(alpha float32, x, y *float32, n int)

//go:noescape
func mulAVX512(a, b, dst *float32, n int)

// axpyFast does y += alpha*x on the longest 16-element-multiple prefix and returns its length.
func axpyFast(alpha float32, x, y []float32) int {
	n := len(x) &^ 15
	if !haveAVX512 || n == 0 {
		return 0
	}
	_ = y[n-1]
	axpyAVX512(alpha, &x[0], &y[0], n)
	return n
}

// mulFast does dst = a*b on the longest 16-element-multiple prefix and returns its length.
func mulFast(a, b, dst []float32) int {
	n := len(a) &^ 15
	if !haveAVX512 || n == 0 {
		return 0
	}
	_, _ = b[n-1], dst[n-1]
	mulAVX512(&a[0], &b[0], &dst[0], n)
	return n
}

// packBAVX512 packs an untransposed-B panel with masked moves (kernel_amd64.s).
//
//go:noescape
func packBAVX512(dst, src *float32, ldb, kb, nr int, m1, m2 uint64)

// packBFast packs kb rows of an untransposed-B panel, dst[p*nr+j] = src[p*ldb+j] for j < cols
// and 0 up to nr (16 or 32); false means the caller must do it.
func packBFast(dst, src []float32, ldb, kb, cols, nr int) bool {
	if !haveAVX512 || (nr != 16 && nr != 32) || cols < 1 || kb < 1 {
		return false
	}
	_, _ = src[(kb-1)*ldb+cols-1], dst[kb*nr-1]
	m1 := uint64(1)<<min(cols, 16) - 1
	m2 := uint64(1)<<max(cols-16, 0) - 1
	packBAVX512(&dst[0], &src[0], ldb, kb, nr, m1, m2)
	return true
}

// lstmBackAVX512 is the vector LSTM cell backward row kernel (kernel_amd64.s).
//
//go:noescape
func lstmBackAVX512(gates, d, tc, cp, dh, dc, dcp *float32, h, n int)

// lstmBackFast runs the LSTM backward formulas on the first n&^15 elements of one row (gates g
// and gradients d of length 4h, the other slices of length >= n; dc may be nil) and returns how
// many it did.
func lstmBackFast(g, d, tc, cp, dh, dc, dcp []float32, h, n int) int {
	n &^= 15
	if !haveAVX512 || n == 0 {
		return 0
	}
	_, _ = g[3*h+n-1], d[3*h+n-1]
	_, _, _, _ = tc[n-1], cp[n-1], dh[n-1], dcp[n-1]
	var dcp0 *float32
	if dc != nil {
		_ = dc[n-1]
		dcp0 = &dc[0]
	}
	lstmBackAVX512(&g[0], &d[0], &tc[0], &cp[0], &dh[0], dcp0, &dcp[0], h, n)
	return n
}

// maxPoolAVX512 pools one output row (kernel_amd64.s).
//
//go:noescape
func maxPoolAVX512(x, y, arg *float32, c, size, base, n int)

// maxPoolFast pools channels [0, c&^15) of one output row whose window starts at element base
// of x, and returns how many channels it did (0 without AVX-512 or past int32/float32-exact
// indices).
func maxPoolFast(x, y, arg []float32, c, size, base int) int {
	n := c &^ 15
	if !haveAVX512 || n == 0 || base+size*c > 1<<24 {
		return 0
	}
	_ = x[base+(size-1)*c+n-1]
	_, _ = y[n-1], arg[n-1]
	maxPoolAVX512(&x[base], &y[0], &arg[0], c, size, base, n)
	return n
}

// fmaAVX512 and reluBackAVX512 are vector loops (kernel_amd64.s).
//
//go:noescape
func fmaAVX512(a, b, dst *float32, n int)

//go:noescape
func reluBackAVX512(y, dy, dx *float32, n int)

// fmaFast does dst += a*b on the longest 16-element-multiple prefix and returns its length.
func fmaFast(a, b, dst []float32) int {
	n := len(a) &^ 15
	if !haveAVX512 || n == 0 {
		return 0
	}
	_, _ = b[n-1], dst[n-1]
	fmaAVX512(&a[0], &b[0], &dst[0], n)
	return n
}

// reluBackFast does dx = (y > 0) ? dy : 0 on the longest 16-element-multiple prefix and returns
// its length.
func reluBackFast(y, dy, dx []float32) int {
	n := len(y) &^ 15
	if !haveAVX512 || n == 0 {
		return 0
	}
	_, _ = dy[n-1], dx[n-1]
	reluBackAVX512(&y[0], &dy[0], &dx[0], n)
	return n
}

// gruBackAVX512 is the vector GRU cell backward row kernel (kernel_amd64.s).
//
//go:noescape
func gruBackAVX512(act, gh, hp, dh, dgx, dgh, dhp *float32, h, n int)

// gruBackFast runs the GRU backward formulas on the first n&^15 elements of one row (act, gh,
// dgx, dgh of length 3h; hp, dh, dhp of length >= n) and returns how many it did.
func gruBackFast(act, gh, hp, dh, dgx, dgh, dhp []float32, h, n int) int {
	n &^= 15
	if !haveAVX512 || n == 0 {
		return 0
	}
	_, _, _, _ = act[2*h+n-1], gh[2*h+n-1], dgx[2*h+n-1], dgh[2*h+n-1]
	_, _, _ = hp[n-1], dh[n-1], dhp[n-1]
	gruBackAVX512(&act[0], &gh[0], &hp[0], &dh[0], &dgx[0], &dgh[0], &dhp[0], h, n)
	return n
}
