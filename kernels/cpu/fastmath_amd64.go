//go:build amd64 && !purego

package cpu

// expRatioAVX512 computes dst[i] = a/(1+e^(s·src[i])) + b for i < n (n a multiple of 16).
//
//go:noescape
func expRatioAVX512(dst, src *float32, n int, s, a, b float32)

// expAVX512 computes dst[i] = e^src[i] for i < n (n a multiple of 16).
//
//go:noescape
func expAVX512(dst, src *float32, n int)

var haveAVX512 = hasAVX512()

// vecRatio computes dst[i] = a/(1+e^(s·src[i])) + b for the longest prefix of src the AVX-512
// kernel handles (a multiple of 16 elements) and returns its length.
func vecRatio(dst, src []float32, s, a, b float32) int {
	n := len(src) &^ 15
	if !haveAVX512 || n == 0 {
		return 0
	}
	_ = dst[n-1]
	expRatioAVX512(&dst[0], &src[0], n, s, a, b)
	return n
}

// vecExp computes dst[i] = e^src[i] for the longest prefix of src the AVX-512 kernel handles.
func vecExp(dst, src []float32) int {
	n := len(src) &^ 15
	if !haveAVX512 || n == 0 {
		return 0
	}
	_ = dst[n-1]
	expAVX512(&dst[0], &src[0], n)
	return n
}
