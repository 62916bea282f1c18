// Package cpu is the always-built CPU implementation of kernels.Backend, including the optional
// fused kernels (LSTM and GRU cells, Adam, strided batched GEMM).
//
// Buffers are Go slices. Kernels split large problems across a pool of Options.Threads
// goroutines (helpers poll briefly between kernels, then park; they exit when the Backend is
// garbage-collected). Reductions use fixed blocks, so results do not depend on the thread count.
//
// SGEMM is blocked and packed after Goto/BLIS (blocked.go) around an assembly micro-kernel,
// AVX-512 12×32 or AVX2+FMA 6×16, chosen at run time with golang.org/x/sys/cpu. Other hot loops
// have AVX-512 versions too: panel packing, float32 exp/sigmoid/tanh (fastmath.go), the dropout
// generator, axpy/mul/fma, ReLU backward, MaxPool1D rows and the LSTM/GRU backward rows. Every
// assembly routine has a pure-Go twin, used on CPUs without the instructions, on other
// architectures, and for everything when built with the `purego` tag (`make test` runs the
// suite both ways).
//
// It is hand-written rather than delegated to a BLAS: the default etch binary is cgo-free, Go has
// no maintained fast float32 GEMM (gonum's is pure Go and several times slower than OpenBLAS), and
// the fused recurrent kernels and counter-based dropout exist in no Go library. OpenBLAS is linked
// only as a benchmark yardstick (internal/openblas, `make bench-blas`).
package cpu
