//go:build cuda

package cuda_test

import (
	"github.com/etchlab/etch/kernels"
	"github.com/etchlab/etch/kernels/cuda"
)

// openTestBackend opens the first GPU.
func openTestBackend() (*cuda.Backend, error) { return cuda.New(0, kernels.Options{}) }
