package cpu

import (
	"fmt"

	"github.com/etchlab/etch/kernels"
)

// checkGemm validates Gemm arguments and returns the backing slices.
func checkGemm(op string, transA, transB bool, m, n, k int, a kernels.Buffer, lda int, b kernels.Buffer, ldb int, c kernels.Buffer, ldc int) (ad, bd, cd []float32) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernels/cpu: %s: negative size m=%d n=%d k=%d", op, m, n, k))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	if lda < max(ac, 1) || ldb < max(bc, 1) || ldc < max(n, 1) {
		panic(fmt.Sprintf("kernels/cpu: %s: leading dimensions lda=%d ldb=%d ldc=%d too small for %dx%d, %dx%d, %dx%d", op, lda, ldb, ldc, ar, ac, br, bc, m, n))
	}
	ad = need(op, "a", a, span(ar, ac, lda))
	bd = need(op, "b", b, span(br, bc, ldb))
	cd = need(op, "c", c, span(m, n, ldc))
	return ad, bd, cd
}

// span is the number of elements a rows×cols matrix with row stride ld occupies.
func span(rows, cols, ld int) int {
	if rows == 0 || cols == 0 {
		return 0
	}
	return (rows-1)*ld + cols
}

// Gemm computes C = alpha*op(A)*op(B) + beta*C (see kernels.Backend).
func (be *Backend) Gemm(transA, transB bool, m, n, k int, alpha float32, a kernels.Buffer, lda int, b kernels.Buffer, ldb int, beta float32, c kernels.Buffer, ldc int) {
	ad, bd, cd := checkGemm("Gemm", transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	be.sgemm(transA, transB, m, n, k, alpha, ad, lda, bd, ldb, beta, cd, ldc)
}

// GemmStridedBatched runs batch independent Gemms at fixed element strides.
func (be *Backend) GemmStridedBatched(transA, transB bool, m, n, k int, alpha float32, a kernels.Buffer, lda, strideA int,
	b kernels.Buffer, ldb, strideB int, beta float32, c kernels.Buffer, ldc, strideC int, batch int) {
	if batch < 0 || strideA < 0 || strideB < 0 || strideC < 0 {
		panic(fmt.Sprintf("kernels/cpu: GemmStridedBatched: negative batch %d or stride", batch))
	}
	for i := 0; i < batch; i++ {
		ai := be.View(a, i*strideA, a.Len()-i*strideA)
		bi := be.View(b, i*strideB, b.Len()-i*strideB)
		ci := be.View(c, i*strideC, c.Len()-i*strideC)
		be.Gemm(transA, transB, m, n, k, alpha, ai, lda, bi, ldb, beta, ci, ldc)
	}
}

// scaleC applies C = beta*C (beta == 0 writes zeros).
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// sgemmSmall is the straightforward implementation used for tiny products, where packing would
// cost more than it saves: an i-k-j loop order so the inner loop streams rows of B and C.
func sgemmSmall(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	scaleC(m, n, beta, c, ldc)
	if alpha == 0 || k == 0 {
		return
	}
	for i := 0; i < m; i++ {
		crow := c[i*ldc : i*ldc+n]
		for p := 0; p < k; p++ {
			var av float32
			if transA {
				av = a[p*lda+i]
			} else {
				av = a[i*lda+p]
			}
			av *= alpha
			if transB {
				for j := range crow {
					crow[j] += av * b[j*ldb+p]
				}
			} else {
				brow := b[p*ldb : p*ldb+n]
				for j, bv := range brow {
					crow[j] += av * bv
				}
			}
		}
	}
}
