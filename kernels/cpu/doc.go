// Package cpu is the always-built CPU implementation of kernels.Backend, including the optional
// fused kernels (LSTM and GRU cells, Adam, strided batched GEMM).
//
// Buffers are Go slices; every kernel splits its work across Options.Threads goroutines when the
// problem is large enough to pay for it. SGEMM is a blocked, packed, cache-aware implementation
// with an assembly micro-kernel (AVX-512 or AVX2+FMA, chosen at run time with golang.org/x/sys/cpu)
// and a pure-Go twin used on other CPUs and when built with the `purego` tag.
//
// It is hand-written rather than delegated to a BLAS: the default etch binary is cgo-free, Go has
// no maintained fast float32 GEMM, and the fused recurrent kernels exist in no Go library.
package cpu
