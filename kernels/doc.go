// Package kernels is etch's device-agnostic compute layer: a Backend interface over device
// buffers with the kernels etch's neural models are built from (GEMM, Conv1D via im2col,
// pooling, activations, softmax cross-entropy, dropout masks, batch normalisation, reductions)
// and optional fused operations discovered by type assertion (LSTMCeller, GRUCeller,
// AdamStepper, BatchedGemmer).
//
// Models hold Buffers only and touch host memory only at Upload/Download boundaries, so a CUDA
// backend can run them unchanged. Backends are opened by name with Open and a caller-supplied
// list of Openers ("auto" prefers a usable device and falls back to "cpu"); there is no global
// registry. kernels/cpu is the always-built CPU backend; kernels/kerneltest is the conformance
// suite every backend must pass.
//
// Conventions: float32, row-major, explicit leading dimensions; integers (labels, argmax) as
// float32-encoded values; random numbers from the counter-based generator in rng.go
// (DropoutUniform), identical on every backend.
//
// The kernels are hand-written rather than taken from a library: Go has no maintained BLAS with
// fast float32 kernels (gonum's pure-Go SGEMM is several times slower than OpenBLAS), cgo BLAS
// bindings would make the default build depend on a C toolchain and library, and none of them
// provide the fused recurrent cells, dropout or a device-agnostic buffer model.
package kernels
