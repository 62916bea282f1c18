//go:build cuda

package runner

import (
	"github.com/etchlab/etch/kernels"
	"github.com/etchlab/etch/kernels/cuda"
)

// deviceOpeners returns the device backends of the CUDA build (bin/etch-cuda): the first GPU.
func deviceOpeners() []kernels.Opener { return []kernels.Opener{cuda.Opener{}} }
