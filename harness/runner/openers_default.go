//go:build !cuda && !cudaemu

package runner

import "github.com/etchlab/etch/kernels"

// deviceOpeners returns the device backends of a default build: none (the CUDA backend needs the
// cuda build tag, and a default binary must never link libcuda).
func deviceOpeners() []kernels.Opener { return nil }
