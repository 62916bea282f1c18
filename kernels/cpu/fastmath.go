package cpu

import "math"

// Float32 exponential after Cephes' expf (S. L. Moshier): x = n·ln2 + r with |r| ≤ ln2/2
// (ln2 split in two constants so n·ln2 is exact), exp(r) by a degree-7 polynomial, then a
// scaling by 2^n. Maximum error is about 2 ulp on the clamped range, far inside kerneltest's
// tolerance, and 3–5× faster than float64 math.Exp. The AVX-512 kernels in
// fastmath_amd64.s evaluate the very same polynomial 16 lanes at a time.
const (
	expHi = 88.0
	expLo = -87.33654
	log2e = 1.44269504088896341
	expC1 = 0.693359375
	expC2 = -2.12194440e-4
	expP0 = 1.9875691500e-4
	expP1 = 1.3981999507e-3
	expP2 = 8.3334519073e-3
	expP3 = 4.1665795894e-2
	expP4 = 1.6666665459e-1
	expP5 = 5.0000001201e-1
)

// expf returns e^x for x clamped to [expLo, expHi] (so never Inf; 0 is reached only below).
func expf(x float32) float32 {
	x = min(max(x, expLo), expHi)
	fn := x * log2e
	var n int32
	if fn >= 0 {
		n = int32(fn + 0.5)
	} else {
		n = int32(fn - 0.5)
	}
	fnr := float32(n)
	r := x - fnr*expC1 - fnr*expC2
	p := ((((expP0*r+expP1)*r+expP2)*r+expP3)*r+expP4)*r + expP5
	p = p*r*r + r + 1
	return p * math.Float32frombits(uint32(n+127)<<23)
}

// sigmoidGo is 1/(1+e^-x).
func sigmoidGo(x float32) float32 { return 1 / (1 + expf(-x)) }

// tanhGo is 2σ(2x) − 1 (absolute error ~1e-7 near 0, where tanh x ≈ x).
func tanhGo(x float32) float32 { return 2/(1+expf(-2*x)) - 1 }

// sigmoidSlice writes σ(src[i]) into dst[i] (dst may alias src).
func sigmoidSlice(dst, src []float32) {
	dst = dst[:len(src)]
	i := vecRatio(dst, src, -1, 1, 0)
	for ; i < len(src); i++ {
		dst[i] = sigmoidGo(src[i])
	}
}

// tanhSlice writes tanh(src[i]) into dst[i] (dst may alias src).
func tanhSlice(dst, src []float32) {
	dst = dst[:len(src)]
	i := vecRatio(dst, src, -2, 2, -1)
	for ; i < len(src); i++ {
		dst[i] = tanhGo(src[i])
	}
}

// expSlice writes e^src[i] into dst[i] (dst may alias src).
func expSlice(dst, src []float32) {
	dst = dst[:len(src)]
	i := vecExp(dst, src)
	for ; i < len(src); i++ {
		dst[i] = expf(src[i])
	}
}
