//go:build cudaemu && !cuda

package runner

import (
	"github.com/etchlab/etch/kernels"
	"github.com/etchlab/etch/kernels/cuda"
)

// deviceOpeners returns, in the test-only cudaemu build, the host emulator of the CUDA kernels
// under the name "cuda" (its device description says "CUDA emulator").
func deviceOpeners() []kernels.Opener { return []kernels.Opener{cuda.EmulatorOpener{}} }
