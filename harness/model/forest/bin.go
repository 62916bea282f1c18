package forest

import (
	"math"
	"math/rand/v2"
	"slices"
)

// maxBinSample is how many values of a feature at most are sorted to find its bin edges.
const maxBinSample = 200_000

// binEdges returns the upper edges of at most maxBins bins for the values col (NaNs ignored):
// value x falls in bin i, the first i with x <= edges[i], or len(edges) when there is none. With
// few distinct values each gets its own bin (edges halfway between neighbours); otherwise edges
// sit at quantiles. rng subsamples long columns.
func binEdges(col []float32, maxBins int, rng *rand.Rand, scratch []float32) ([]float32, []float32) {
	vals := scratch[:0]
	if len(col) > maxBinSample {
		for range maxBinSample {
			v := col[rng.IntN(len(col))]
			if v == v {
				vals = append(vals, v)
			}
		}
	} else {
		for _, v := range col {
			if v == v {
				vals = append(vals, v)
			}
		}
	}
	if len(vals) == 0 {
		return nil, vals
	}
	slices.Sort(vals)
	distinct := 1
	for i := 1; i < len(vals); i++ {
		if vals[i] != vals[i-1] {
			distinct++
		}
	}
	var edges []float32
	if distinct <= maxBins {
		edges = make([]float32, 0, distinct-1)
		for i := 1; i < len(vals); i++ {
			if vals[i] != vals[i-1] {
				edges = append(edges, midpoint(vals[i-1], vals[i]))
			}
		}
		return edges, vals
	}
	edges = make([]float32, 0, maxBins-1)
	for k := 1; k < maxBins; k++ {
		p := k * len(vals) / maxBins
		v := vals[p]
		// the next distinct value above v
		j, _ := slices.BinarySearchFunc(vals[p:], v, func(a, b float32) int {
			if a <= b {
				return -1
			}
			return 1
		})
		if p+j >= len(vals) {
			break
		}
		e := midpoint(v, vals[p+j])
		if len(edges) == 0 || e > edges[len(edges)-1] {
			edges = append(edges, e)
		}
	}
	return edges, vals
}

// midpoint returns a float32 e with a <= e < b, halfway where float32 allows.
func midpoint(a, b float32) float32 {
	m := float32((float64(a) + float64(b)) / 2)
	if m >= b || math.IsInf(float64(m), 0) {
		return a
	}
	return m
}

// binOf returns the bin of x: the first i with x <= edges[i], else len(edges) (also for NaN).
func binOf(edges []float32, x float32) uint8 {
	lo, hi := 0, len(edges)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if edges[m] >= x {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return uint8(lo)
}
