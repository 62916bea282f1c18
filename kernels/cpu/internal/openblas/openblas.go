//go:build openblas && cgo

package openblas

/*
#cgo LDFLAGS: -lopenblas
#include <cblas.h>
*/
import "C"

import "fmt"

// SetThreads sets OpenBLAS's thread count.
func SetThreads(n int) { C.openblas_set_num_threads(C.int(n)) }

// Config describes the linked OpenBLAS build (version, core, threading).
func Config() string {
	return C.GoString(C.openblas_get_config()) + " core=" + C.GoString(C.openblas_get_corename())
}

// Sgemm computes C = alpha*A*B + beta*C for row-major, untransposed, contiguous A (m×k),
// B (k×n) and C (m×n).
func Sgemm(m, n, k int, alpha float32, a, b []float32, beta float32, c []float32) {
	if len(a) < m*k || len(b) < k*n || len(c) < m*n || m < 1 || n < 1 || k < 1 {
		panic(fmt.Sprintf("openblas: Sgemm: bad sizes m=%d n=%d k=%d", m, n, k))
	}
	C.cblas_sgemm(C.CblasRowMajor, C.CblasNoTrans, C.CblasNoTrans, C.blasint(m), C.blasint(n), C.blasint(k),
		C.float(alpha), (*C.float)(&a[0]), C.blasint(k), (*C.float)(&b[0]), C.blasint(n),
		C.float(beta), (*C.float)(&c[0]), C.blasint(n))
}
