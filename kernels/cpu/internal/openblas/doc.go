// Package openblas binds OpenBLAS's cblas_sgemm through cgo as a yardstick for the CPU backend's
// SGEMM benchmarks (make bench-blas). It is compiled only with the `openblas` build tag, so the
// default etch build stays cgo-free and never links a BLAS; nothing outside benchmarks uses it.
package openblas
