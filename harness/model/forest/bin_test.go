package forest

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestBinColumnMatchesBinOf checks the sorted-pass binning against binEdges and binOf.
func TestBinColumnMatchesBinOf(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	negZero := float32(math.Copysign(0, -1))
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n, distinct int) []float32 {
		out := make([]float32, n)
		for i := range out {
			out[i] = float32(rng.IntN(distinct)) - float32(distinct)/3
		}
		return out
	}
	for _, tc := range []struct {
		name string
		col  []float32
		bins int
	}{
		{"one value", []float32{3}, 256},
		{"all NaN", []float32{nan, nan}, 256},
		{"specials", []float32{nan, -inf, inf, 0, negZero, 1, -1, nan, 0}, 256},
		{"few distinct", random(1000, 7), 256},
		{"many distinct", random(5000, 3000), 256},
		{"many distinct, 16 bins", random(5000, 3000), 16},
		{"floats", func() []float32 {
			c := random(4000, 1000)
			for i := range c {
				c[i] *= 1.37
				if i%97 == 0 {
					c[i] = nan
				}
			}
			return c
		}(), 64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, _ := binEdges(tc.col, tc.bins, rand.New(rand.NewPCG(1, 1)), nil)
			dst := make([]uint8, len(tc.col))
			got := binColumn(tc.col, tc.bins, rand.New(rand.NewPCG(1, 1)), &binScratch{}, dst)
			if !slices.Equal(got, want) {
				t.Fatalf("edges %v, want %v", got, want)
			}
			for i, v := range tc.col {
				if dst[i] != binOf(want, v) {
					t.Fatalf("value %d (%v): bin %d, want %d", i, v, dst[i], binOf(want, v))
				}
			}
		})
	}
}
