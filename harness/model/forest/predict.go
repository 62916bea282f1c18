package forest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/etchlab/etch/harness/model"
)

// ErrNotFitted reports a forest used before Fit or Load.
var ErrNotFitted = errors.New("forest is not fitted")

// predictBlock is the number of rows walked through one tree before the next tree: large enough
// to reuse the tree's upper nodes from cache, small enough for the rows to stay in L2.
const predictBlock = 512

// PredictProba writes the mean of the trees' leaf class distributions for every example of x,
// row-major x.N × Classes, into dst.
func (m *Model) PredictProba(ctx context.Context, x *model.Data, dst []float32) error {
	if len(m.roots) < 2 {
		return ErrNotFitted
	}
	if f := x.TabDim() + x.SeqDim(); f != m.features {
		return fmt.Errorf("%w: data has %d features, forest was fitted on %d", model.ErrShape, f, m.features)
	}
	if err := x.Validate(); err != nil {
		return err
	}
	k := m.classes
	if len(dst) < x.N*k {
		return fmt.Errorf("%w: dst %d < %d×%d", model.ErrShape, len(dst), x.N, k)
	}
	bs := predictBlock
	if m.block > 0 {
		bs = m.block
	}
	blocks := (x.N + bs - 1) / bs
	workers := min(m.threads(), blocks)
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Bool
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]uint32, bs*m.features)
			leaves := make([]int32, bs)
			for {
				bi := int(next.Add(1) - 1)
				if bi >= blocks {
					return
				}
				if ctx.Err() != nil {
					failed.Store(true)
					return
				}
				r0 := bi * bs
				r1 := min(r0+bs, x.N)
				m.predictBlock(x, r0, r1, buf, leaves, dst[r0*k:r1*k])
			}
		}()
	}
	wg.Wait()
	if failed.Load() {
		return ctx.Err()
	}
	return nil
}

// orderKey maps a float32 to a uint32 with the same order (NaN above +Inf, where a x <= t test
// sends it right, as it does for floats).
func orderKey(v float32) uint32 {
	if v != v {
		return math.MaxUint32
	}
	b := math.Float32bits(v)
	if b>>31 != 0 {
		return ^b
	}
	return b | 1<<31
}

// gather writes the order keys of rows r0..r1 of x into buf, features in forest order.
func gather(x *model.Data, r0, r1 int, buf []uint32) {
	td, sd := x.TabDim(), x.SeqDim()
	f := td + sd
	for i := r0; i < r1; i++ {
		row := buf[(i-r0)*f : (i-r0+1)*f]
		for j, v := range x.Tab[i*td : (i+1)*td] {
			row[j] = orderKey(v)
		}
		for j, v := range x.Seq[i*sd : (i+1)*sd] {
			row[td+j] = orderKey(v)
		}
	}
}

func (m *Model) predictBlock(x *model.Data, r0, r1 int, buf []uint32, leaves []int32, out []float32) {
	gather(x, r0, r1, buf)
	nr := r1 - r0
	f, k := m.features, m.classes
	clear(out)
	trees := len(m.roots) - 1
	for t := range trees {
		m.walk(m.roots[t], buf[:nr*f], f, leaves[:nr])
		for r, l := range leaves[:nr] {
			o := out[r*k : (r+1)*k]
			a, b := m.leafOff[l], m.leafOff[l+1]
			cls, p := m.leafCls[a:b], m.leafP[a:b]
			for e, c := range cls {
				o[c] += p[e]
			}
		}
	}
	inv := 1 / float32(trees)
	for i := range out {
		out[i] *= inv
	}
}

// walk sends every row of rows (order keys, f per row) down the tree rooted at root and writes
// the leaf each reaches. The walk is branch-free: a leaf loops to itself (its key 0 is below
// every row key), the step is integer arithmetic (mask -1 when the row's key exceeds the node's,
// i.e. it goes right), and eight rows step together, their loads overlapping, until none moved.
// The lanes are spelled out so that the compiler keeps them in registers.
func (m *Model) walk(root int32, rows []uint32, f int, leaves []int32) {
	wn := m.wnodes
	nr := len(leaves)
	r := 0
	for ; r+8 <= nr; r += 8 {
		b0, b1, b2, b3, b4, b5, b6, b7 := (r+0)*f, (r+1)*f, (r+2)*f, (r+3)*f, (r+4)*f, (r+5)*f, (r+6)*f, (r+7)*f
		n0, n1, n2, n3, n4, n5, n6, n7 := root, root, root, root, root, root, root, root
		for {
			d0 := wn[n0]
			k0 := int32((int64(d0.key) - int64(rows[b0+int(d0.feat)])) >> 63)
			m0 := (n0 + 1) ^ (((n0 + 1) ^ d0.right) & k0)
			d1 := wn[n1]
			k1 := int32((int64(d1.key) - int64(rows[b1+int(d1.feat)])) >> 63)
			m1 := (n1 + 1) ^ (((n1 + 1) ^ d1.right) & k1)
			d2 := wn[n2]
			k2 := int32((int64(d2.key) - int64(rows[b2+int(d2.feat)])) >> 63)
			m2 := (n2 + 1) ^ (((n2 + 1) ^ d2.right) & k2)
			d3 := wn[n3]
			k3 := int32((int64(d3.key) - int64(rows[b3+int(d3.feat)])) >> 63)
			m3 := (n3 + 1) ^ (((n3 + 1) ^ d3.right) & k3)
			d4 := wn[n4]
			k4 := int32((int64(d4.key) - int64(rows[b4+int(d4.feat)])) >> 63)
			m4 := (n4 + 1) ^ (((n4 + 1) ^ d4.right) & k4)
			d5 := wn[n5]
			k5 := int32((int64(d5.key) - int64(rows[b5+int(d5.feat)])) >> 63)
			m5 := (n5 + 1) ^ (((n5 + 1) ^ d5.right) & k5)
			d6 := wn[n6]
			k6 := int32((int64(d6.key) - int64(rows[b6+int(d6.feat)])) >> 63)
			m6 := (n6 + 1) ^ (((n6 + 1) ^ d6.right) & k6)
			d7 := wn[n7]
			k7 := int32((int64(d7.key) - int64(rows[b7+int(d7.feat)])) >> 63)
			m7 := (n7 + 1) ^ (((n7 + 1) ^ d7.right) & k7)
			moved := (m0 ^ n0) | (m1 ^ n1) | (m2 ^ n2) | (m3 ^ n3) | (m4 ^ n4) | (m5 ^ n5) | (m6 ^ n6) | (m7 ^ n7)
			n0, n1, n2, n3, n4, n5, n6, n7 = m0, m1, m2, m3, m4, m5, m6, m7
			if moved == 0 {
				break
			}
		}
		leaves[r+0] = m.leafOf[n0]
		leaves[r+1] = m.leafOf[n1]
		leaves[r+2] = m.leafOf[n2]
		leaves[r+3] = m.leafOf[n3]
		leaves[r+4] = m.leafOf[n4]
		leaves[r+5] = m.leafOf[n5]
		leaves[r+6] = m.leafOf[n6]
		leaves[r+7] = m.leafOf[n7]
	}
	for ; r < nr; r++ {
		n0 := root
		b := r * f
		for {
			d := &wn[n0]
			next := d.right
			if rows[b+int(d.feat)] <= d.key {
				next = n0 + 1
			}
			if next == n0 {
				break
			}
			n0 = next
		}
		leaves[r] = m.leafOf[n0]
	}
}
