package forest

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/etchlab/etch/harness/model"
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

// TestSweepGiniMatchesGroups checks that the per-position Gini sweep and the histogram path pick
// the same boundary with the same score as the per-group sweep, on nodes of every size, with
// min_samples_leaf 1 and 3, and 6 and 40 classes (rows of 16 and 48).
func TestSweepGiniMatchesGroups(t *testing.T) {
	for _, classes := range []int{6, 40} {
		t.Run(strconv.Itoa(classes), func(t *testing.T) { sweepsAgree(t, gcseq(1500, 30, classes, 21)) })
	}
}

func sweepsAgree(t *testing.T, d *model.Data) {
	for _, minLeaf := range []int{1, 3} {
		b := &binned{n: d.N, f: d.SeqDim(), cols: make([]uint8, d.N*d.SeqDim()), edges: make([][]float32, d.SeqDim())}
		s := &binScratch{col: make([]float32, d.N)}
		for j := range b.f {
			column(d, j, s.col)
			b.edges[j] = binColumn(s.col, 256, rand.New(rand.NewPCG(1, 2)), s, b.cols[j*d.N:(j+1)*d.N])
		}
		cw := make([]float64, d.Classes)
		for i := range cw {
			cw[i] = 1
		}
		c, _ := Params{MinSamplesLeaf: minLeaf}.resolve()
		bd := newBuilder(b, d.Y, d.Classes, cw, c, 5)
		if bd.hs == nil { // no node of this data reaches histMin in this build
			bd.hs = newHistScratch(d.Classes)
		}
		rng := rand.New(rand.NewPCG(uint64(minLeaf), 9))
		for i := range d.N {
			bd.idx = append(bd.idx, int32(i))
			bd.cw8 = append(bd.cw8, classWeight{c: d.Y[i], w: float32(1 + rng.IntN(3))})
		}
		for _, nn := range []int{2, 3, 5, 17, 40, 33, 200, 1500} {
			start := rng.IntN(d.N - nn + 1)
			en := stackEntry{s: int32(start), e: int32(start + nn)}
			tot := make([]float64, d.Classes)
			var w, s0 float64
			for _, e := range bd.cw8[start : start+nn] {
				tot[e.c] += float64(e.w)
				w += float64(e.w)
			}
			for _, v := range tot {
				s0 += v * v
			}
			copy(bd.hs.tot, tot)
			for feat := range int32(b.f) {
				bd.perGroup, bd.histMin = 0, math.MaxInt32
				bin1, sc1, const1 := bd.evalFeature(feat, en, tot, w, s0)
				bd.perGroup = 1 << 30
				bin2, sc2, const2 := bd.evalFeature(feat, en, tot, w, s0)
				if bin1 != bin2 || sc1 != sc2 || const1 != const2 {
					t.Fatalf("min leaf %d, %d examples, feature %d: per group (%d, %v, %v), per position (%d, %v, %v)",
						minLeaf, nn, feat, bin1, sc1, const1, bin2, sc2, const2)
				}
				bd.histMin = 0
				bin3, sc3, const3 := bd.evalFeature(feat, en, tot, w, s0)
				if bin1 != bin3 || sc1 != sc3 || const1 != const3 {
					t.Fatalf("min leaf %d, %d examples, feature %d: per group (%d, %v, %v), histogram (%d, %v, %v)",
						minLeaf, nn, feat, bin1, sc1, const1, bin3, sc3, const3)
				}
			}
		}
	}
}
