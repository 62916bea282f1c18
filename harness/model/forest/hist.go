package forest

import "math"

// The histogram path of the Gini split search, for nodes whose example weights are whole numbers
// (bootstrap counts times whole class weights, the usual case): one pass adds each example's
// weight to its (bin, class) cell of an integer histogram and marks its bin present, then a sweep
// over the present bins keeps the left class totals and scores the boundary after each. It
// replaces the sort by bin and the sweep per example by a sweep per present bin, sixteen classes
// at a time; sweepHist is AVX-512 assembly where the CPU has it (hist_amd64.s), which also scores
// eight bins at once.
//
// With whole weights every sum is an integer below 2^53, so the histogram sweep computes exactly
// the numbers the sweep per example computes and finds the same split: the forest does not depend
// on which path a node took.

// histMaxWeight bounds the total weight of the examples for the histogram path: totals stay exact
// in int32 cells and their squares in float64.
const histMaxWeight = 1 << 24

// histMinAsm and histMinGo are the least numbers of examples for which a Gini node takes the
// histogram path with the assembly sweep and with the Go one: below them the rank or counting
// sort and the sweep per example cost less (measured with BenchmarkForestFit: with the assembly
// 4 to 16 were within noise of each other; the Go sweep, which goes through every class of a
// bin one by one, pays off only from about 1024). histMinAsmPerClass and histMinGoPerClass set
// histMin for rows of more than 32 classes (20-tree fits on 50 to 1,000 classes: fastest from 4
// and from 32 to 128 respectively; taken from 8 examples, the histogram path was up to 1.6×
// slower than none at 1,000 classes).
const (
	histMinAsm         = 8
	histMinGo          = 1024
	histMinAsmPerClass = 4
	histMinGoPerClass  = 64
)

// histMin returns the least number of examples for which a Gini node with rows of stride
// classes takes the histogram path. A present bin costs its whole row, so with many classes only
// nodes much larger than their number of bins gain: from 32 classes on, at least perClass
// examples per class of the row.
func histMin(stride int) int32 {
	base, perClass := histMinBase()
	if stride <= 32 {
		return base
	}
	return max(base, int32(min(int64(perClass)*int64(stride), math.MaxInt32)))
}

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

// histScratch is the histogram path's scratch memory; hist, nw and pres are all zero between uses.
type histScratch struct {
	stride int
	hist   []int32   // 256 × stride: the weight of each class in each bin
	nw     []int64   // per bin: the number of examples (kept when min_samples_leaf > 1)
	pres   []uint8   // per bin: 1 when an example lies in it
	tot    []float64 // the node's class totals, padded to stride with zeros
	left   []int32   // stride: running left totals (zero between uses)
	// scratch is the assembly sweep's: eight rows' partial sums, left counts and bins.
	scratch []float64
}

// histScratchLen is the length of histScratch.scratch.
const histScratchLen = 208

func newHistScratch(k int) *histScratch {
	s := histStride(k)
	return &histScratch{stride: s, hist: make([]int32, 256*s), nw: make([]int64, 256),
		pres: make([]uint8, 256), tot: make([]float64, s), left: make([]int32, s),
		scratch: make([]float64, histScratchLen)}
}

// evalHist is evalFeature's histogram path for the node's positions idx (weights cws) on column
// col; tot (in hs.tot) sums to w. It marks the bins present, so the sweep visits only those.
// Counts per bin are kept only when min_samples_leaf is above 1: otherwise a boundary qualifies
// when both sides have weight, and every example weighs at least 1.
func (bd *builder) evalHist(col []uint8, idx []int32, cws []classWeight, w, s0 float64) (uint8, float64, bool) {
	hs := bd.hs
	stride := hs.stride
	hist, pres := hs.hist[:256*stride], (*[256]uint8)(hs.pres)
	var nw []int64
	if bd.cfg.minLeaf > 1 {
		nw = hs.nw[:256]
		histAddCount(hist, pres, (*[256]int64)(nw), stride, col, idx, cws)
	} else {
		histAdd(hist, pres, stride, col, idx, cws)
	}
	bin, best, groups := sweepHist(hist, nw, pres[:], stride, hs.tot, hs.left, hs.scratch, w, s0, int32(bd.cfg.minLeaf), int32(len(idx)))
	clear(hs.left)
	if groups <= 1 {
		return 0, 0, true
	}
	return uint8(bin), best, false
}

// histAdd adds the weights of the positions idx (cws) to their cells of hist by their bins in
// col, and marks the bins present. It is a function of its own so that the compiler keeps the
// loop's values in registers.
func histAdd(hist []int32, pres *[256]uint8, stride int, col []uint8, idx []int32, cws []classWeight) {
	cws = cws[:len(idx)]
	for p, i := range idx {
		b := col[i]
		e := cws[p]
		hist[int(b)*stride+int(e.c)] += int32(e.w)
		pres[b] = 1
	}
}

// histAddCount is histAdd that also counts the examples of each bin in nw (a second pass, for
// min_samples_leaf above 1 only).
func histAddCount(hist []int32, pres *[256]uint8, nw *[256]int64, stride int, col []uint8, idx []int32, cws []classWeight) {
	histAdd(hist, pres, stride, col, idx, cws)
	for _, i := range idx {
		nw[col[i]]++
	}
}

// sweepHistGo is sweepHist in Go. It sweeps the bins marked in pres (256 of them) in order,
// adding their rows of hist (stride class weights each) to the left totals in left, and returns
// the bin after which the split scores best (sl/wl + sr/wr of the sums of squared class totals),
// its score (-Inf when no boundary qualifies) and the number of bins present; s0 is the sum of
// the squared totals, from which the right side's sum follows. A boundary
// qualifies when min_samples_leaf examples lie on either side by the counts per bin nw, or, when
// nw is nil, when either side has weight. It leaves hist, nw and pres all zero; left ends as the
// node's totals.
func sweepHistGo(hist []int32, nw []int64, pres []uint8, stride int, tot []float64, left []int32, w, s0 float64, minLeaf, nn int32) (int, float64, int) {
	best, bestBin, groups := math.Inf(-1), 0, 0
	var nl int32
	var wl int64
	tot = tot[:stride]
	left = left[:stride]
	for b, v := range pres[:256] {
		if v == 0 {
			continue
		}
		pres[b] = 0
		groups++
		row := hist[b*stride : (b+1)*stride]
		var sl, dot float64
		for c, h := range row {
			a := left[c] + h
			left[c] = a
			row[c] = 0
			wl += int64(h)
			fa := float64(a)
			sl += fa * fa
			dot += tot[c] * fa
		}
		sr := s0 - 2*dot + sl // the sum of (tot-left)²
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
		if s := (sl*wr + sr*fwl) / (fwl * wr); s > best {
			best, bestBin = s, b
		}
	}
	return bestBin, best, groups
}
