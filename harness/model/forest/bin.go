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
	return edgesOf(vals, maxBins), vals
}

// edgesOf returns the bin edges (see binEdges) of the sorted values vals (no NaN, at least one).
func edgesOf(vals []float32, maxBins int) []float32 {
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
		return edges
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
	return edges
}

// binScratch is one binning worker's memory.
type binScratch struct {
	col       []float32
	keys, tmp []uint64
	vals      []float32
}

// binColumn writes the bin of every value of col into dst and returns the bin edges, as binEdges
// and binOf would. Columns up to maxBinSample values are sorted whole, by a radix sort of their
// order keys, and binned by one pass over the sorted order; longer ones go through binEdges on
// a sample of rng and binOf.
func binColumn(col []float32, maxBins int, rng *rand.Rand, s *binScratch, dst []uint8) []float32 {
	if len(col) > maxBinSample {
		var e []float32
		e, s.vals = binEdges(col, maxBins, rng, s.vals)
		for i, v := range col {
			dst[i] = binOf(e, v)
		}
		return e
	}
	keys := s.keys[:0]
	for i, v := range col {
		keys = append(keys, uint64(orderKey(v))<<32|uint64(i))
	}
	s.keys = keys
	if cap(s.tmp) < len(keys) {
		s.tmp = make([]uint64, len(keys))
	}
	keys = radixSort(keys, s.tmp[:len(keys)])
	vals := s.vals[:0]
	for _, k := range keys {
		kk := uint32(k >> 32)
		if kk == math.MaxUint32 { // NaN, sorted last
			break
		}
		if kk>>31 != 0 {
			kk &^= 1 << 31
		} else {
			kk = ^kk
		}
		vals = append(vals, math.Float32frombits(kk))
	}
	s.vals = vals
	var edges []float32
	if len(vals) > 0 {
		edges = edgesOf(vals, maxBins)
	}
	e := 0
	for t, k := range keys {
		if t < len(vals) {
			for e < len(edges) && vals[t] > edges[e] {
				e++
			}
		} else {
			e = len(edges)
		}
		dst[uint32(k)] = uint8(e)
	}
	return edges
}

// radixSort sorts a by its upper 32 bits (stable, least significant byte first), using tmp (as
// long as a); it returns the sorted slice, a or tmp.
func radixSort(a, tmp []uint64) []uint64 {
	for shift := 32; shift < 64; shift += 8 {
		var cnt [256]int
		for _, v := range a {
			cnt[(v>>shift)&255]++
		}
		if cnt[(a[0]>>shift)&255] == len(a) {
			continue
		}
		n := 0
		for i, c := range cnt {
			cnt[i] = n
			n += c
		}
		for _, v := range a {
			b := (v >> shift) & 255
			tmp[cnt[b]] = v
			cnt[b]++
		}
		a, tmp = tmp, a
	}
	return a
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
