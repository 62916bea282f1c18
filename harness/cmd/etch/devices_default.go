//go:build !cuda

package main

import (
	"errors"

	"github.com/etchlab/etch/kernels/probe"
)

// errNoCUDABuild says that this binary has no CUDA backend: devices are probed through etch-cuda.
var errNoCUDABuild = errors.New("this build has no CUDA backend")

// localGPUs enumerates GPUs in this process: not in the default build, which must never link
// libcuda (see package kernels/cuda).
func localGPUs() (*probe.Report, error) { return nil, errNoCUDABuild }
