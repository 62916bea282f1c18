//go:build cuda

// Package cusrc holds the CUDA C sources of etch's GPU kernels (.cu files embedded in the binary)
// and compiles them to PTX with NVRTC (gorgonia.org/cu/nvrtc). It deliberately does not import
// gorgonia.org/cu, whose package initialiser exits the process when no GPU is usable: a compile
// check (cmd/nvrtc-check, `make cuda-check`) runs on machines without a GPU.
//
// The kernels are hand-written because no library covers them (cuDNN has no channels-last
// Conv1D im2col in etch's layout, no fused cells with etch's gate layout, and the dropout mask
// must reproduce the CPU backend's counter-based generator bit for bit).
package cusrc
