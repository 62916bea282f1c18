//go:build !amd64 || purego

package cpu

// bestKernel returns the pure-Go micro-kernel (purego build or a non-amd64 architecture).
func bestKernel() *microKernel { return kernelGo }

// microKernels lists the micro-kernels usable on this CPU, best first.
func microKernels() []*microKernel { return []*microKernel{kernelGo} }
