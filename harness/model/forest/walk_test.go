package forest

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/etchlab/etch/harness/model"
)

// TestWalkAsmMatchesGo checks the assembly walk (where the CPU has one) against walkGo, leaf by
// leaf, for every tree and block sizes around the lane counts, with NaN and ±Inf in the rows.
func TestWalkAsmMatchesGo(t *testing.T) {
	d := gcseq(1200, 30, 7, 11)
	for i := 0; i < len(d.Seq); i += 37 {
		d.Seq[i] = [...]float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), -3}[i%4]
	}
	m := fit(t, Params{Trees: 6}, model.Env{Seed: 5, Threads: 2}, d)
	f := m.features
	ran := false
	for _, nr := range []int{1, 7, 31, 47, 48, 49, 63, 64, 65, 100, 513, 1200} {
		rows := make([]uint32, (nr+1)*f)
		gather(d, 0, nr, rows)
		for ti, root := range m.proot {
			want := make([]int32, nr)
			if root < 0 {
				continue
			}
			walkGo(m.pnodes, root, rows[:nr*f], f, want)
			got := make([]int32, nr)
			if !walkAsm(m.pnodes, root, rows, f, got, make([]int32, walkLogLen(nr))) {
				continue
			}
			ran = true
			if !slices.Equal(got[:nr], want) {
				t.Fatalf("%d rows, tree %d: assembly walk differs from walkGo", nr, ti)
			}
		}
	}
	if !ran {
		t.Log("no assembly walk on this CPU/build")
	}
}

// refPredict is the plain definition of PredictProba on the canonical nodes: each row walks each
// tree comparing raw values with raw thresholds; the leaves' distributions are averaged.
func refPredict(m *Model, x *model.Data) []float32 {
	k := m.classes
	out := make([]float32, x.N*k)
	td, sd := x.TabDim(), x.SeqDim()
	for r := range x.N {
		row := append(append([]float32(nil), x.Tab[r*td:(r+1)*td]...), x.Seq[r*sd:(r+1)*sd]...)
		o := out[r*k : (r+1)*k]
		for t := range m.Trees() {
			n := m.roots[t]
			for m.leafOf[n] < 0 {
				if d := m.nodes[n]; row[d.feat] <= d.thr {
					n++
				} else {
					n = d.right
				}
			}
			l := m.leafOf[n]
			for e := m.leafOff[l]; e < m.leafOff[l+1]; e++ {
				o[m.leafCls[e]] += m.leafP[e]
			}
		}
		for c := range o {
			o[c] *= 1 / float32(m.Trees())
		}
	}
	return out
}

// TestPredictMatchesReference checks PredictProba (blocks, threads, the walks, the leaf slab)
// against refPredict for row counts around the lane and block sizes, and for forests whose
// trees are single leaves.
func TestPredictMatchesReference(t *testing.T) {
	d := gcseq(1500, 25, 6, 12)
	for i := 0; i < len(d.Seq); i += 41 {
		d.Seq[i] = float32(math.NaN())
	}
	one := gcseq(300, 10, 1, 13)
	for _, tc := range []struct {
		name  string
		p     Params
		train *model.Data
	}{
		{"grown", Params{Trees: 7}, d},
		{"stumps", Params{Trees: 5, MaxDepth: 1}, d},
		{"one class: single leaves", Params{Trees: 3}, one},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := fit(t, tc.p, model.Env{Seed: 9, Threads: 3}, tc.train)
			for _, n := range []int{1, 9, 47, 48, 100, 1500} {
				n = min(n, tc.train.N)
				idx := make([]int, n)
				for i := range idx {
					idx[i] = i
				}
				x := tc.train.Slice(idx)
				want := refPredict(m, x)
				for _, block := range []int{0, 50} {
					m.block = block
					got := make([]float32, n*m.classes)
					if err := m.PredictProba(context.Background(), x, got); err != nil {
						t.Fatal(err)
					}
					for i := range got {
						if math.Abs(float64(got[i]-want[i])) > 1e-6 {
							t.Fatalf("%d rows, block %d: probability %d is %v, want %v", n, block, i, got[i], want[i])
						}
					}
				}
			}
		})
	}
}
