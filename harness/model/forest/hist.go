package forest

import "math"

// The histogram path of the Gini split search, for large nodes whose example weights are whole
// numbers (bootstrap counts times whole class weights, the usual case): one pass adds each
// example's weight to its (bin, class) cell of an integer histogram, then a sweep over the bins
// keeps the left class totals and scores the boundary after every present bin. It replaces the
// counting sort and the sweep per example, whose cost grows with the node, by a sweep whose cost
// grows with bins × classes; sweepHist is AVX-512 assembly where the CPU has it (hist_amd64.s).
//
// With whole weights every sum is an integer below 2^53, so the histogram sweep computes exactly
// the numbers the sweep per example computes and finds the same split: the forest does not depend
// on which path a node took.

// histMaxWeight bounds the total weight of the examples for the histogram path: totals stay exact
// in int32 cells and their squares in float64.
const histMaxWeight = 1 << 24

// histMinAsm and histMinGo are the least numbers of examples for which a Gini node takes the
// histogram path with the assembly sweep and with the Go one: below them the counting sort and
// the sweep per example cost less than a sweep over every bin (measured with BenchmarkForestFit;
// 256 to 512 were within noise of each other with the assembly).
const (
	histMinAsm = 384
	histMinGo  = 1024
)

// histStride returns the row length of a histogram of k classes: a multiple of 16 int32s.
func histStride(k int) int { return (k + 15) &^ 15 }

// wholeWeights says whether every example weight cw[c] × bootstrap count is a whole number and the
// total weight of n examples stays below histMaxWeight.
func wholeWeights(cw []float64, n int) bool {
	for _, w := range cw {
		if w != math.Trunc(w) || w*float64(n) >= histMaxWeight {
			return false
		}
	}
	return true
}

// histScratch is the histogram path's scratch memory; hist and nw are all zero between uses.
type histScratch struct {
	stride int
	hist   []int32   // bin × stride: the weight of each class in each bin
	nw     []int64   // per bin: the number of examples (kept when min_samples_leaf > 1)
	tot    []float64 // the node's class totals, padded to stride with zeros
	left   []int32   // stride: running left totals (zero between uses)
}

func newHistScratch(k int) *histScratch {
	s := histStride(k)
	return &histScratch{stride: s, hist: make([]int32, 256*s), nw: make([]int64, 256),
		tot: make([]float64, s), left: make([]int32, s)}
}

// evalHist is evalFeature's histogram path for the node's positions idx (weights cws) on column
// col of nb bins; tot (in hs.tot) sums to w. Counts per bin are kept only when min_samples_leaf
// is above 1: otherwise a boundary qualifies when both sides have weight, and every example
// weighs at least 1.
func (bd *builder) evalHist(col []uint8, idx []int32, cws []classWeight, nb int, w float64) (uint8, float64, bool) {
	hs := bd.hs
	stride := hs.stride
	hist := hs.hist[:nb*stride]
	var nw []int64
	if bd.cfg.minLeaf > 1 {
		nw = hs.nw[:nb]
		for p, i := range idx {
			b := col[i]
			e := cws[p]
			hist[int(b)*stride+int(e.c)] += int32(e.w)
			nw[b]++
		}
	} else {
		for p, i := range idx {
			e := cws[p]
			hist[int(col[i])*stride+int(e.c)] += int32(e.w)
		}
	}
	bin, best, groups := sweepHist(hist, nw, stride, hs.tot, hs.left, w, int32(bd.cfg.minLeaf), int32(len(idx)))
	clear(hs.left)
	if groups <= 1 {
		return 0, 0, true
	}
	return uint8(bin), best, false
}

// sweepHistGo is sweepHist in Go. It sweeps the bins of hist (rows of stride class weights) in
// order, keeping the left totals in left, and returns the bin after which the split scores best
// (sl/wl + sr/wr of the sums of squared class totals), its score (-Inf when no boundary
// qualifies) and the number of bins present. A boundary qualifies when min_samples_leaf examples
// lie on either side by the counts per bin nw, or, when nw is nil, when either side has weight.
// It leaves hist and nw all zero; left ends as the node's totals.
func sweepHistGo(hist []int32, nw []int64, stride int, tot []float64, left []int32, w float64, minLeaf, nn int32) (int, float64, int) {
	best, bestBin, groups := math.Inf(-1), 0, 0
	var nl int32
	var wl int64
	tot = tot[:stride]
	left = left[:stride]
	for b := range len(hist) / stride {
		row := hist[b*stride : (b+1)*stride]
		var sl, sr float64
		var wb int64
		for c, h := range row {
			a := left[c] + h
			left[c] = a
			row[c] = 0
			wb += int64(a)
			fa := float64(a)
			r := tot[c] - fa
			sl += fa * fa
			sr += r * r
		}
		if wb == wl {
			continue
		}
		wl = wb
		groups++
		if nw != nil {
			nl += int32(nw[b])
			nw[b] = 0
			if nl < minLeaf || nn-nl < minLeaf {
				continue
			}
		} else if float64(wl) >= w {
			continue
		}
		fwl := float64(wl)
		wr := w - fwl
		if num, den := sl*wr+sr*fwl, fwl*wr; num > best*den {
			best, bestBin = num/den, b
		}
	}
	return bestBin, best, groups
}
