//go:build !amd64 || purego

package cpu

// bestKernel returns the pure-Go micro-kernel (purego build or a non-amd64 architecture).
func bestKernel() *microKernel { return kernelGo }

// microKernels lists the micro-kernels usable on this CPU, best first.
func microKernels() []*microKernel { return []*microKernel{kernelGo} }

// packATFast is the AVX-512 transposed-A packer's stand-in: the caller packs in Go.
func packATFast(dst, src []float32, lda, kb, rows, mr int, alpha float32) bool { return false }

// dropoutFast is the SIMD dropout kernel's stand-in: the caller does all elements.
func dropoutFast(dst []float32, key, first uint64, p, keep float32) int { return 0 }

// axpyFast and mulFast are the SIMD loops' stand-ins: the caller does all elements.
func axpyFast(alpha float32, x, y []float32) int { return 0 }
func mulFast(a, b, dst []float32) int            { return 0 }

// packBFast is the SIMD B packer's stand-in: the caller packs in Go.
func packBFast(dst, src []float32, ldb, kb, cols, nr int) bool { return false }

// lstmBackFast is the vector LSTM backward's stand-in: the caller does all elements.
func lstmBackFast(g, d, tc, cp, dh, dc, dcp []float32, h, n int) int { return 0 }

// maxPoolFast is the vector pooling row's stand-in: the caller does all channels.
func maxPoolFast(x, y, arg []float32, c, size, base int) int { return 0 }

// fmaFast and reluBackFast are the vector loops' stand-ins: the caller does all elements.
func fmaFast(a, b, dst []float32) int      { return 0 }
func reluBackFast(y, dy, dx []float32) int { return 0 }

// gruBackFast is the vector GRU backward's stand-in: the caller does all elements.
func gruBackFast(act, gh, hp, dh, dgx, dgh, dhp []float32, h, n int) int { return 0 }
