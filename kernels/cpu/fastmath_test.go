package cpu

import (
	"math"
	"testing"
)

func TestFastMath(t *testing.T) {
	// A dense grid over the useful range plus extremes; 1003 elements so the SIMD prefix and the
	// scalar tail are both used.
	var x []float32
	for i := range 1003 {
		x = append(x, -100+200*float32(i)/1002)
	}
	x = append(x, 0, -0, 1e-8, -1e-8, 88, -87.3, 89, -89, 1e30, -1e30, float32(math.Inf(1)), float32(math.Inf(-1)))
	tests := []struct {
		name string
		fn   func(dst, src []float32)
		ref  func(float64) float64
		tol  func(want float64) float64 // allowed |got-want|
	}{
		{"exp", expSlice, func(v float64) float64 { return math.Exp(min(max(v, expLo), expHi)) },
			func(w float64) float64 { return 4e-7 * w }},
		{"sigmoid", sigmoidSlice, func(v float64) float64 { return 1 / (1 + math.Exp(-v)) },
			func(w float64) float64 { return 3e-7*w + 1e-37 }},
		{"tanh", tanhSlice, math.Tanh, func(float64) float64 { return 3e-7 }},
	}
	for _, tc := range tests {
		for _, simd := range []bool{true, false} {
			got := make([]float32, len(x))
			if simd {
				tc.fn(got, x)
			} else {
				for i, v := range x { // the scalar twins alone
					switch tc.name {
					case "exp":
						got[i] = expf(v)
					case "sigmoid":
						got[i] = sigmoidGo(v)
					case "tanh":
						got[i] = tanhGo(v)
					}
				}
			}
			for i, v := range x {
				want := tc.ref(float64(v))
				if d := math.Abs(float64(got[i]) - want); !(d <= tc.tol(want)) {
					t.Errorf("%s(simd=%v)(%v) = %v, want %v (|diff| %g > %g)", tc.name, simd, v, got[i], want, d, tc.tol(want))
					break
				}
			}
		}
	}
}

func BenchmarkFastMath(b *testing.B) {
	x := make([]float32, 4096)
	for i := range x {
		x[i] = float32(i%200)/10 - 10
	}
	y := make([]float32, len(x))
	for _, bc := range []struct {
		name string
		fn   func(dst, src []float32)
	}{
		{"sigmoid", sigmoidSlice},
		{"tanh", tanhSlice},
		{"exp", expSlice},
		{"sigmoid_float64", func(dst, src []float32) {
			for i, v := range src {
				dst[i] = float32(1 / (1 + math.Exp(-float64(v))))
			}
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				bc.fn(y, x)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/elem")
		})
	}
}
