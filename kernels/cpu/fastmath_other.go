//go:build !amd64 || purego

package cpu

// vecRatio computes dst[i] = a/(1+e^(s·src[i])) + b with SIMD for a prefix of src and returns
// its length; without assembly the prefix is empty.
func vecRatio(dst, src []float32, s, a, b float32) int { return 0 }

// vecExp computes dst[i] = e^src[i] with SIMD for a prefix of src and returns its length.
func vecExp(dst, src []float32) int { return 0 }
