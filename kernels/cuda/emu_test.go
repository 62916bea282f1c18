//go:build cudaemu && !cuda

package cuda_test

import (
	"github.com/etchlab/etch/kernels"
	"github.com/etchlab/etch/kernels/cuda"
)

// openTestBackend returns the host emulator (no GPU needed).
func openTestBackend() (*cuda.Backend, error) { return cuda.NewEmulator(kernels.Options{}), nil }
