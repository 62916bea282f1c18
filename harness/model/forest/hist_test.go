package forest

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSweepHistMatchesGo checks sweepHist (the assembly where the CPU has it) against sweepHistGo
// on random histograms: strides of 16 to 48 classes, sparse and dense bins, min_samples_leaf 1
// (by weight) and 2 to 5 (by counts), and that both leave their scratch zero.
func TestSweepHistMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 400 {
		k := 1 + rng.IntN(45)
		stride := histStride(k)
		nb := 1 + rng.IntN(256)
		minLeaf := int32(1)
		if trial%2 == 1 {
			minLeaf = int32(2 + rng.IntN(4))
		}
		density := rng.Float64()
		hist := make([]int32, 256*stride)
		nw := make([]int64, 256)
		pres := make([]uint8, 256)
		tot := make([]float64, stride)
		var w float64
		var nn int32
		for b := range nb {
			if rng.Float64() > density {
				continue
			}
			for range 1 + rng.IntN(20) {
				c, wt := rng.IntN(k), int32(1+rng.IntN(7))
				hist[b*stride+c] += wt
				nw[b]++
				pres[b] = 1
				tot[c] += float64(wt)
				w += float64(wt)
				nn++
			}
		}
		hist2, nw2, pres2 := append([]int32(nil), hist...), append([]int64(nil), nw...), append([]uint8(nil), pres...)
		left, left2 := make([]int32, stride), make([]int32, stride)
		var cnt, cnt2 []int64
		if minLeaf > 1 {
			cnt, cnt2 = nw, nw2
		}
		var s0 float64
		for _, v := range tot {
			s0 += v * v
		}
		b1, s1, g1 := sweepHistGo(hist, cnt, pres, stride, tot, left, w, s0, minLeaf, nn)
		b2, s2, g2 := sweepHist(hist2, cnt2, pres2, stride, tot, left2, make([]float64, histScratchLen), w, s0, minLeaf, nn)
		if b1 != b2 || s1 != s2 || g1 != g2 {
			t.Fatalf("trial %d (k %d, %d bins, min leaf %d): Go (%d, %v, %d), sweepHist (%d, %v, %d)",
				trial, k, nb, minLeaf, b1, s1, g1, b2, s2, g2)
		}
		if g1 >= 2 && minLeaf == 1 && math.IsInf(s1, -1) {
			t.Fatalf("trial %d: %d bins present but no boundary scored", trial, g1)
		}
		for i := range hist2 {
			if hist[i] != 0 || hist2[i] != 0 {
				t.Fatalf("trial %d: histogram cell %d not cleared", trial, i)
			}
		}
		for i := range pres {
			if pres[i] != 0 || pres2[i] != 0 {
				t.Fatalf("trial %d: bin %d still marked present", trial, i)
			}
		}
		if minLeaf > 1 {
			for i := range nw2 {
				if nw[i] != 0 || nw2[i] != 0 {
					t.Fatalf("trial %d: count %d not cleared", trial, i)
				}
			}
		}
		for c := range stride {
			if float64(left[c]) != tot[c] || left2[c] != left[c] {
				t.Fatalf("trial %d: left totals %v, %v, want %v", trial, left, left2, tot)
			}
		}
	}
}

// TestSweepHistTie checks that of two boundaries with the same score the first wins, as in the
// other sweeps: bins 0..3 hold classes 0, 1, 0, 1, so the splits after bins 0 and 2 mirror each
// other.
func TestSweepHistTie(t *testing.T) {
	const stride = 16
	for _, byCount := range []bool{false, true} {
		hist := make([]int32, 256*stride)
		nw := make([]int64, 256)
		pres := make([]uint8, 256)
		for b, c := range []int{0, 1, 0, 1} {
			hist[(b+10)*stride+c] = 1
			nw[b+10] = 1
			pres[b+10] = 1
		}
		tot := make([]float64, stride)
		tot[0], tot[1] = 2, 2
		var cnt []int64
		if byCount {
			cnt = nw
		}
		bin, score, groups := sweepHist(hist, cnt, pres, stride, tot, make([]int32, stride), make([]float64, histScratchLen), 4, 8, 1, 4)
		if bin != 10 || groups != 4 || score != 1/1.0+5/3.0 {
			t.Errorf("by count %v: bin %d, score %v, %d groups; want bin 10, score %v, 4 groups", byCount, bin, score, groups, 1/1.0+5/3.0)
		}
	}
}

func TestWholeWeights(t *testing.T) {
	for _, tc := range []struct {
		cw   []float64
		n    int
		want bool
	}{
		{[]float64{1, 1}, 1000, true},
		{[]float64{1, 2.5}, 1000, false},
		{[]float64{1, 3}, histMaxWeight/3 + 1, false},
		{[]float64{1, 3}, histMaxWeight / 3, true},
	} {
		if got := wholeWeights(tc.cw, tc.n); got != tc.want {
			t.Errorf("wholeWeights(%v, %d) = %v, want %v", tc.cw, tc.n, got, tc.want)
		}
	}
}

// BenchmarkSweepHist measures one histogram sweep (25 classes, every bin present, by weight)
// with sweepHist (the assembly where the CPU has it) and with sweepHistGo.
func BenchmarkSweepHist(b *testing.B) {
	const k, nb = 25, 256
	stride := histStride(k)
	rng := rand.New(rand.NewPCG(5, 6))
	base := make([]int32, 256*stride)
	tot := make([]float64, stride)
	var w, s0 float64
	for bin := range nb {
		for range 4 {
			c, wt := rng.IntN(k), int32(1+rng.IntN(3))
			base[bin*stride+c] += wt
			tot[c] += float64(wt)
			w += float64(wt)
		}
	}
	for _, v := range tot {
		s0 += v * v
	}
	for _, tc := range []struct {
		name  string
		sweep func(hist []int32, pres []uint8, left []int32, scratch []float64)
	}{
		{"sweepHist", func(hist []int32, pres []uint8, left []int32, scratch []float64) {
			sweepHist(hist, nil, pres, stride, tot, left, scratch, w, s0, 1, 4*nb)
		}},
		{"sweepHistGo", func(hist []int32, pres []uint8, left []int32, _ []float64) {
			sweepHistGo(hist, nil, pres, stride, tot, left, w, s0, 1, 4*nb)
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			hist, pres := make([]int32, len(base)), make([]uint8, 256)
			left, scratch := make([]int32, stride), make([]float64, histScratchLen)
			for b.Loop() {
				copy(hist, base)
				for i := range nb {
					pres[i] = 1
				}
				clear(left)
				tc.sweep(hist, pres, left, scratch)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/nb, "ns/bin")
		})
	}
}
