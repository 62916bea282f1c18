package forest

import (
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
			got := make([]int32, nr+1)
			if !walkAsm(m.pnodes, root, rows, f, got) {
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
