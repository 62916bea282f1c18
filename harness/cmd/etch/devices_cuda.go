//go:build cuda

package main

import (
	"errors"

	"github.com/etchlab/etch/kernels/cuda"
	"github.com/etchlab/etch/kernels/probe"
)

// errNoCUDABuild is never returned by the CUDA build (it enumerates GPUs itself).
var errNoCUDABuild = errors.New("this build has no CUDA backend")

// localGPUs enumerates the GPUs through the CUDA driver (this process started, so cuInit worked).
func localGPUs() (*probe.Report, error) { return cuda.Devices() }
