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
