//go:build cuda

// Command nvrtc-check compiles every CUDA source of etch's GPU backend with NVRTC for the given
// virtual architectures and fails on any compiler diagnostic (errors and warnings alike). It
// needs only libnvrtc, no GPU and no driver (it does not import gorgonia.org/cu):
//
//	nvrtc-check compute_80 compute_90
//
// `make cuda-check` runs it.
package main
