package forest

import (
	"math"
	"math/rand/v2"
)

// binned is the training matrix after binning: column-major, one byte per value.
type binned struct {
	n, f  int
	cols  []uint8     // f columns of n bins
	edges [][]float32 // per feature, upper bin edges
}

// tree is one grown tree in pre-order: node i's left child is i+1, its right child right[i].
type tree struct {
	feat  []int32 // -1 for a leaf
	bin   []uint8 // split: bin <= bin[i] goes left
	right []int32
	leaf  []int32 // for a leaf: its index in leafOff
	// sparse class distributions of the leaves
	leafOff []int32
	leafCls []uint16
	leafP   []float32
	// importance: weighted impurity decrease per feature
	importance []float64
}

// stackEntry is a node waiting to be grown: examples pos[s:e], at depth, child of parent, with
// total weight w and impurity imp (computed by the parent for its importance).
type stackEntry struct {
	s, e, depth, parent, nConst int32
	isRight                     bool
	w, imp                      float64
}

// classWeight is an example's class and weight, packed for the sweeps.
type classWeight struct {
	c int32
	w float32
}

// builder grows trees; it owns the scratch memory of one worker.
type builder struct {
	b       *binned
	y       []int32
	k       int
	cw      []float64
	cfg     config
	mtry    int
	entropy bool

	idx   []int32       // example of each position
	cw8   []classWeight // its class and weight (bootstrap count × class weight)
	count []int32       // bootstrap counts

	hist []float64 // bin × class weights
	binW []float64
	binN []int32
	cnt  [256]int32 // counting sort, even positions: all zero between uses
	cnt2 [256]int32 // odd positions
	keys []uint64
	// sorted: the keys of a node of at most 16 examples in order
	sorted [16]uint64
	gBin   []uint8
	gEnd   []int32
	gbuf   [256]uint8
	sbin   []uint8 // the bin of each position of scw (for sweepGini)
	// perGroup: sweepGini runs when groups average fewer examples than this, and for every
	// tiny node; 0 turns it off (tests vary it).
	perGroup int
	scw      []classWeight // the node's classes and weights in bin order
	ridx     []int32       // partition scratch: the right positions' examples
	rcw      []classWeight // and their classes and weights
	bins     []uint8
	left     []float64
	tot      []float64 // class totals per stack slot
	cur      []float64
	ltot     []float64
	perm     []int32
	// constFeats[:n] are the known constant features of the node being split, in the order
	// siblings and children rely on (scikit-learn's invariant).
	constFeats []int32
	stack      []stackEntry
	// hs is the histogram path's scratch (nil when example weights are not whole numbers or
	// the criterion is entropy); Gini nodes of at least histMin examples take it.
	hs      *histScratch
	histMin int32
}

func newBuilder(b *binned, y []int32, k int, cw []float64, cfg config, mtry int) *builder {
	perm := make([]int32, b.f)
	bd := &builder{perGroup: 4, b: b, y: y, k: k, cw: cw, cfg: cfg, mtry: mtry, entropy: cfg.entropy,
		idx: make([]int32, 0, b.n), cw8: make([]classWeight, 0, b.n),
		count: make([]int32, b.n), hist: make([]float64, 256*k), binW: make([]float64, 256),
		binN: make([]int32, 257), scw: make([]classWeight, b.n),
		ridx: make([]int32, b.n), rcw: make([]classWeight, b.n), sbin: make([]uint8, b.n), bins: make([]uint8, b.n), left: make([]float64, k), cur: make([]float64, k),
		ltot: make([]float64, k), perm: perm, constFeats: make([]int32, b.f)}
	if hm := histMin(histStride(k)); !cfg.entropy && int(hm) <= b.n && wholeWeights(cw, b.n) {
		bd.hs, bd.histMin = newHistScratch(k), hm
	}
	return bd
}

// f is the per-class term of the impurity sums: c² (Gini) or c·ln c (entropy).
func (bd *builder) f(c float64) float64 {
	if bd.entropy {
		if c <= 0 {
			return 0
		}
		return c * math.Log(c)
	}
	return c * c
}

// impurity returns the node impurity from class totals and their sum w.
func (bd *builder) impurity(tot []float64, w float64) float64 {
	if w <= 0 {
		return 0
	}
	var s float64
	for _, c := range tot {
		s += bd.f(c)
	}
	if bd.entropy {
		return math.Log(w) - s/w
	}
	return 1 - s/(w*w)
}

// score is the proxy to maximise for a split with sums sl, sr of f over classes and weights wl, wr.
func (bd *builder) score(sl, wl, sr, wr float64) float64 {
	if bd.entropy {
		return sl + sr - wl*math.Log(wl) - wr*math.Log(wr)
	}
	return sl/wl + sr/wr
}

// grow builds one tree from a bootstrap sample drawn with rng.
func (bd *builder) grow(rng *rand.Rand) *tree {
	n, k := bd.b.n, bd.k
	clear(bd.count)
	if bd.cfg.bootstrap {
		for range n {
			bd.count[rng.IntN(n)]++
		}
	} else {
		for i := range bd.count {
			bd.count[i] = 1
		}
	}
	bd.idx, bd.cw8 = bd.idx[:0], bd.cw8[:0]
	for i, c := range bd.count {
		if c > 0 {
			bd.idx = append(bd.idx, int32(i))
			bd.cw8 = append(bd.cw8, classWeight{c: bd.y[i], w: float32(float64(c) * bd.cw[bd.y[i]])})
		}
	}
	for i := range bd.perm {
		bd.perm[i] = int32(i)
	}
	t := &tree{leafOff: []int32{0}, importance: make([]float64, bd.b.f)}
	bd.tot = bd.tot[:0]
	bd.tot = append(bd.tot, make([]float64, k)...)
	for _, e := range bd.cw8 {
		bd.tot[e.c] += float64(e.w)
	}
	var w0 float64
	for _, c := range bd.tot {
		w0 += c
	}
	bd.stack = append(bd.stack[:0], stackEntry{s: 0, e: int32(len(bd.idx)), parent: -1, w: w0, imp: bd.impurity(bd.tot, w0)})
	for len(bd.stack) > 0 {
		top := len(bd.stack) - 1
		en := bd.stack[top]
		bd.stack = bd.stack[:top]
		cur := bd.cur
		copy(cur, bd.tot[top*k:(top+1)*k])
		id := int32(len(t.feat))
		if en.isRight {
			t.right[en.parent] = id
		}
		w, imp := en.w, en.imp
		nn := en.e - en.s
		leaf := nn < 2*int32(bd.cfg.minLeaf) || nn < 2 || imp <= 1e-7 ||
			(bd.cfg.maxDepth > 0 && int(en.depth) >= bd.cfg.maxDepth)
		var feat int32 = -1
		var bin uint8
		nConst := en.nConst
		if !leaf {
			feat, bin, nConst = bd.split(rng, en, cur, w)
			leaf = feat < 0
		}
		if leaf {
			t.feat = append(t.feat, -1)
			t.bin = append(t.bin, 0)
			t.right = append(t.right, 0)
			t.leaf = append(t.leaf, int32(len(t.leafOff)-1))
			for c, v := range cur {
				if v > 0 {
					t.leafCls = append(t.leafCls, uint16(c))
					t.leafP = append(t.leafP, float32(v/w))
				}
			}
			t.leafOff = append(t.leafOff, int32(len(t.leafCls)))
			continue
		}
		t.feat = append(t.feat, feat)
		t.bin = append(t.bin, bin)
		t.right = append(t.right, 0)
		t.leaf = append(t.leaf, -1)
		// Partition positions [s, e) into bin <= bin (left) and the rest, without branches: a
		// left position moves down to the next left slot (never past its own), a right one to
		// scratch, which then follows the lefts; both sides keep their order.
		col := bd.b.cols[int(feat)*n : (int(feat)+1)*n]
		idx, cws := bd.idx[en.s:en.e], bd.cw8[en.s:en.e]
		ridx, rcw := bd.ridx[:len(idx)], bd.rcw[:len(idx)]
		nl, nr := 0, 0
		for p, i := range idx {
			e := cws[p]
			l := int(b2i(col[i] <= bin))
			idx[nl], cws[nl] = i, e
			ridx[nr], rcw[nr] = i, e
			nl += l
			nr += 1 - l
		}
		copy(idx[nl:], ridx[:nr])
		copy(cws[nl:], rcw[:nr])
		i := en.s + int32(nl)
		lt := bd.ltot
		clear(lt)
		for _, e := range cws[:nl] {
			lt[e.c] += float64(e.w)
		}
		var wl float64
		for _, v := range lt {
			wl += v
		}
		// Importance: weighted impurity decrease.
		var wr float64
		for c := range cur {
			cur[c] -= lt[c]
			wr += cur[c]
		}
		impL, impR := bd.impurity(lt, wl), bd.impurity(cur, wr)
		t.importance[feat] += w*imp - wl*impL - wr*impR
		// Push right then left (left is grown next: pre-order).
		need := (top + 2) * k
		if len(bd.tot) < need {
			bd.tot = append(bd.tot, make([]float64, need-len(bd.tot))...)
		}
		copy(bd.tot[top*k:(top+1)*k], cur)
		copy(bd.tot[(top+1)*k:(top+2)*k], lt)
		bd.stack = append(bd.stack,
			stackEntry{s: i, e: en.e, depth: en.depth + 1, parent: id, nConst: nConst, isRight: true, w: wr, imp: impR},
			stackEntry{s: en.s, e: i, depth: en.depth + 1, parent: id, nConst: nConst, w: wl, imp: impL})
	}
	return t
}

// split finds the best split of the node en with class totals tot (sum w): the feature, the bin
// (bin <= b goes left) and the new count of known constant features; feature -1 when no feature
// splits the node. Feature sampling follows scikit-learn: perm[:nConst] are features known to be
// constant here; drawn constants count as visited, and drawing goes on until max_features features
// were visited and at least one was not constant.
func (bd *builder) split(rng *rand.Rand, en stackEntry, tot []float64, w float64) (int32, uint8, int32) {
	f := int32(bd.b.f)
	nKnown := en.nConst
	nDrawnConst, nFoundConst := int32(0), int32(0)
	visited := 0
	fi := f
	bestFeat, bestBin, best := int32(-1), uint8(0), math.Inf(-1)
	var s0 float64
	for _, c := range tot {
		s0 += bd.f(c)
	}
	if bd.hs != nil {
		copy(bd.hs.tot, tot)
	}
	for fi > nKnown+nFoundConst && (visited < bd.mtry || visited <= int(nFoundConst+nDrawnConst)) {
		visited++
		// draw from [nDrawnConst, fi - nFoundConst)
		j := nDrawnConst + int32(rng.IntN(int(fi-nFoundConst-nDrawnConst)))
		if j < nKnown {
			bd.perm[nDrawnConst], bd.perm[j] = bd.perm[j], bd.perm[nDrawnConst]
			nDrawnConst++
			continue
		}
		j += nFoundConst
		feat := bd.perm[j]
		bin, sc, constant := bd.evalFeature(feat, en, tot, w, s0)
		if constant {
			bd.perm[nFoundConst+nKnown], bd.perm[j] = bd.perm[j], bd.perm[nFoundConst+nKnown]
			nFoundConst++
			continue
		}
		fi--
		bd.perm[fi], bd.perm[j] = bd.perm[j], bd.perm[fi]
		if sc > best {
			best, bestFeat, bestBin = sc, feat, bin
		}
	}
	// Restore the order of the known constants for siblings and children; record new ones.
	copy(bd.perm[:nKnown], bd.constFeats[:nKnown])
	copy(bd.constFeats[nKnown:nKnown+nFoundConst], bd.perm[nKnown:nKnown+nFoundConst])
	return bestFeat, bestBin, nKnown + nFoundConst
}

// evalFeature returns the best bin boundary of feature feat for the node and its score, or
// constant when the node's examples all share one bin. A boundary qualifies when both sides keep at
// least min_samples_leaf examples; score is -Inf when none does.
func (bd *builder) evalFeature(feat int32, en stackEntry, tot []float64, w, s0 float64) (uint8, float64, bool) {
	n, k := bd.b.n, bd.k
	col := bd.b.cols[int(feat)*n : (int(feat)+1)*n]
	idx, cws := bd.idx[en.s:en.e], bd.cw8[en.s:en.e]
	nn := int32(len(idx))
	minLeaf := int32(bd.cfg.minLeaf)
	nb := len(bd.b.edges[feat]) + 1
	left := bd.left
	best, bestBin := math.Inf(-1), uint8(0)
	if bd.hs != nil && nn >= bd.histMin {
		return bd.evalHist(col, idx, cws, w, s0)
	}
	sl, sr, wl := 0.0, s0, 0.0
	var nl int32
	if !bd.entropy || int(nn)*8 < nb*k {
		// Order the node's positions by bin (insertion sort when tiny, else counting sort) and
		// sweep them, example by example.
		// scw: the node's classes and weights in bin order.
		scw := bd.scw[:nn]
		// groups: the bins present, in order, and the end of each in order.
		gBin, gEnd := bd.gBin[:0], bd.gEnd[:0]
		if nn <= 32 {
			// Constant features (common deep down) are found before any sorting.
			b0, diff := col[idx[0]], false
			for _, i := range idx[1:] {
				if col[i] != b0 {
					diff = true
					break
				}
			}
			if !diff {
				return 0, 0, true
			}
			keys := bd.keys[:0]
			for p, i := range idx {
				keys = append(keys, uint64(col[i])<<32|uint64(p))
			}
			bd.keys = keys
			if len(keys) <= 16 {
				// Rank sort: each key's place is the number of smaller keys (all distinct),
				// counted without branches.
				sorted := bd.sorted[:len(keys)]
				for _, v := range keys {
					r := 0
					for _, u := range keys {
						r += int((u - v) >> 63)
					}
					sorted[r&15] = v
				}
				keys = sorted
			} else {
				for i := 1; i < len(keys); i++ {
					v := keys[i]
					j := i
					for j > 0 && keys[j-1] > v {
						keys[j] = keys[j-1]
						j--
					}
					keys[j] = v
				}
			}
			sb := bd.sbin[:nn]
			if !bd.entropy && bd.perGroup > 0 {
				// Gini: swept position by position, no groups needed.
				for q, kk := range keys {
					scw[q] = cws[uint32(kk)]
					sb[q] = uint8(kk >> 32)
				}
				clear(left)
				return bd.sweepGini(scw, sb, tot, w, s0)
			}
			for q, kk := range keys {
				p := uint32(kk)
				scw[q] = cws[p]
				sb[q] = uint8(kk >> 32)
				if q+1 == len(keys) || keys[q+1]>>32 != kk>>32 {
					gBin = append(gBin, uint8(kk>>32))
					gEnd = append(gEnd, int32(q+1))
				}
			}
		} else {
			// Counting sort over the bins present (lo..hi), even and odd positions counted
			// apart (a bin's even ones first) so that runs of one bin do not serialise on one
			// counter; cnt and cnt2 are all zero between calls.
			bins := bd.bins[:nn]
			ce, co := &bd.cnt, &bd.cnt2
			lo, hi := col[idx[0]], col[idx[0]]
			p := 0
			for ; p+1 < len(idx); p += 2 {
				b0, b1 := col[idx[p]], col[idx[p+1]]
				bins[p], bins[p+1] = b0, b1
				ce[b0]++
				co[b1]++
				lo, hi = min(lo, b0, b1), max(hi, b0, b1)
			}
			if p < len(idx) {
				b := col[idx[p]]
				bins[p] = b
				ce[b]++
				lo, hi = min(lo, b), max(hi, b)
			}
			if lo == hi {
				ce[lo], co[lo] = 0, 0
				return 0, 0, true
			}
			// Branch-free: every bin is written, only present ones advance g (a branch here
			// mispredicts on every other bin of a sparse range).
			var s int32
			gb := bd.gbuf[:]
			g := 0
			for b := int(lo); b <= int(hi); b++ {
				e, o := ce[b], co[b]
				gb[g&255] = uint8(b)
				ce[b] = s
				co[b] = s + e
				s += e + o
				v := uint32(e | o)
				g += int((v | -v) >> 31)
			}
			gBin = append(gBin, gb[:g]...)
			p = 0
			if bd.perElement(nn, len(gBin)) {
				sb := bd.sbin[:nn]
				for ; p+1 < len(bins); p += 2 {
					b0, b1 := bins[p], bins[p+1]
					q0, q1 := ce[b0], co[b1]
					scw[q0], scw[q1] = cws[p], cws[p+1]
					sb[q0], sb[q1] = b0, b1
					ce[b0], co[b1] = q0+1, q1+1
				}
			} else {
				for ; p+1 < len(bins); p += 2 {
					b0, b1 := bins[p], bins[p+1]
					q0, q1 := ce[b0], co[b1]
					scw[q0], scw[q1] = cws[p], cws[p+1]
					ce[b0], co[b1] = q0+1, q1+1
				}
			}
			if p < len(bins) {
				b := bins[p]
				q := ce[b]
				scw[q] = cws[p]
				bd.sbin[q] = b
				ce[b] = q + 1
			}
			for _, b := range gBin {
				gEnd = append(gEnd, co[b])
			}
			clear(ce[lo : int(hi)+1])
			clear(co[lo : int(hi)+1])
		}
		bd.gBin, bd.gEnd = gBin, gEnd
		clear(left)
		if bd.perElement(nn, len(gBin)) {
			return bd.sweepGini(scw, bd.sbin[:nn], tot, w, s0)
		}
		// Sweep positions in bin order; a boundary lies after each bin.
		q := 0
		for g, end := range gEnd[:len(gEnd)-1] {
			if bd.entropy {
				for ; q < int(end); q++ {
					e := scw[q]
					c, wt := e.c, float64(e.w)
					a := left[c]
					r := tot[c] - a
					sl += bd.f(a+wt) - bd.f(a)
					sr += bd.f(r-wt) - bd.f(r)
					left[c] = a + wt
					wl += wt
				}
			} else {
				for ; q < int(end); q++ {
					e := scw[q]
					c, wt := e.c, float64(e.w)
					a := left[c]
					r := tot[c] - a
					sl += (2*a + wt) * wt
					sr += (wt - 2*r) * wt
					left[c] = a + wt
					wl += wt
				}
			}
			if end < minLeaf {
				continue
			}
			if nn-end < minLeaf {
				break
			}
			if bd.entropy {
				if s := bd.score(sl, wl, sr, w-wl); s > best {
					best, bestBin = s, gBin[g]
				}
				continue
			}
			// Gini: sl/wl + sr/wr as one quotient, as every Gini sweep scores it.
			wr := w - wl
			if s := (sl*wr + sr*wl) / (wl * wr); s > best {
				best, bestBin = s, gBin[g]
			}
		}
		return bestBin, best, false
	}
	clear(left)
	hist, binW, binN := bd.hist[:nb*k], bd.binW[:nb], bd.binN[:nb]
	clear(hist)
	clear(binW)
	clear(binN)
	for p, i := range idx {
		bn := int(col[i])
		e := cws[p]
		hist[bn*k+int(e.c)] += float64(e.w)
		binW[bn] += float64(e.w)
		binN[bn]++
	}
	for _, c := range binN {
		if c == nn {
			return 0, 0, true
		}
		if c != 0 {
			break
		}
	}
	for bn := range nb - 1 {
		if binN[bn] == 0 {
			continue
		}
		h := hist[bn*k : (bn+1)*k]
		for c, v := range h {
			if v == 0 {
				continue
			}
			a := left[c]
			r := tot[c] - a
			sl += bd.f(a+v) - bd.f(a)
			sr += bd.f(r-v) - bd.f(r)
			left[c] = a + v
		}
		wl += binW[bn]
		nl += binN[bn]
		if nl < minLeaf {
			continue
		}
		if nn-nl < minLeaf || nl == nn {
			break
		}
		if s := bd.score(sl, wl, sr, w-wl); s > best {
			best, bestBin = s, uint8(bn)
		}
	}
	return bestBin, best, false
}

// perElement says whether a Gini node of nn examples in groups bins is swept by sweepGini:
// when groups are small, their ends are frequent and irregular, and a loop per group mispredicts.
func (bd *builder) perElement(nn int32, groups int) bool {
	return !bd.entropy && int(nn) < bd.perGroup*groups
}

// noBoundary is added to a candidate's score: -Inf where no bin boundary follows a position.
var noBoundary = [2]float64{math.Inf(-1), 0}

// sweepGini is the Gini sweep of evalFeature one position at a time: scw holds the node's
// classes and weights in bin order, sbin their bins. Every position between min_samples_leaf
// and nn-min_samples_leaf is scored without a branch; those not followed by another bin score
// -Inf. It finds exactly the boundary the sweep per group finds.
func (bd *builder) sweepGini(scw []classWeight, sbin []uint8, tot []float64, w, s0 float64) (uint8, float64, bool) {
	nn := len(scw)
	minLeaf := bd.cfg.minLeaf
	left := bd.left
	best, bestQ := math.Inf(-1), -1
	sl, sr, wl := 0.0, s0, 0.0
	for _, e := range scw[:min(minLeaf-1, nn)] {
		c, wt := e.c, float64(e.w)
		a := left[c]
		r := tot[c] - a
		sl += (2*a + wt) * wt
		sr += (wt - 2*r) * wt
		left[c] = a + wt
		wl += wt
	}
	for q := minLeaf - 1; q < nn-minLeaf; q++ {
		e := scw[q]
		c, wt := e.c, float64(e.w)
		a := left[c]
		r := tot[c] - a
		sl += (2*a + wt) * wt
		sr += (wt - 2*r) * wt
		left[c] = a + wt
		wl += wt
		d := uint32(sbin[q] ^ sbin[q+1])
		wr := w - wl
		if s := (sl*wr + sr*wl + noBoundary[(d|-d)>>31]) / (wl * wr); s > best {
			best, bestQ = s, q
		}
	}
	if bestQ < 0 {
		return 0, math.Inf(-1), false
	}
	return sbin[bestQ], best, false
}

// b2i is 1 for true and 0 for false, without a branch.
func b2i(v bool) int32 {
	var i int32
	if v {
		i = 1
	}
	return i
}
