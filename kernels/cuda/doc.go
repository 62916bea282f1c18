//go:build cuda || cudaemu

// Package cuda is etch's GPU backend: a kernels.Backend on an NVIDIA GPU through the CUDA driver
// API (gorgonia.org/cu). Device memory is allocated with cuMemAlloc; GEMMs run in cuBLAS
// (gorgonia.org/cu/blas; row-major calls are mapped onto cuBLAS's column-major ones by swapping
// the operands); every other kernel is CUDA C in kernels/cuda/cusrc, compiled by NVRTC at first
// use for the device's architecture (at most compute_90, what CUDA 11.8's NVRTC knows; the driver
// JIT-compiles the PTX for newer GPUs) and loaded as modules.
//
// The package is only built with the `cuda` build tag, because gorgonia.org/cu's package
// initialiser calls cuInit and exits the process when the driver or a device is missing, and a
// binary linked with -lcuda does not start at all without libcuda.so.1. The default etch binary
// therefore never links it; `make cuda` builds bin/etch-cuda, which the default binary probes in a
// subprocess (`etch-cuda devices --json`) and runs GPU trials in (see harness/runner).
//
// All work is queued on the context's default stream, so kernels, cuBLAS calls and copies run in
// call order; Download and the reductions synchronise. A Backend may be used from several
// goroutines: each call locks the OS thread, makes the context current and holds the backend's
// mutex while it enqueues. Launch and copy errors are kept and returned by Sync (the first one);
// after an error every later call is a no-op, as in cuBLAS.
//
// The Backend talks to the device through a small driver interface. With the build tag cudaemu
// (tests only, no GPU, no CUDA libraries) the driver is a host emulator that runs the same .cu
// kernels compiled as C++ with CUDA's thread model emulated and checks SGEMM arguments as cuBLAS
// does: `make cuda-check` runs the GPU test suite on it, so everything but the real device and its
// compiler is tested on any machine.
//
// Kernels are hand-written (see package cusrc) because etch's channels-last layout, fused cell
// layouts and bit-reproducible dropout generator are its own; GEMM, where a library is far
// better, is cuBLAS.
package cuda
