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

// blockRows is the most rows walked through one tree before the next tree: large enough to
// reuse the tree's nodes from cache, small enough for the rows (4 bytes a feature) to stay in L2.
const blockRows = 2048

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
	if x.N == 0 {
		return nil
	}
	// An equal number of blocks for every worker, each of at most bs rows.
	bs := blockRows
	if m.block > 0 {
		bs = m.block
	}
	workers := max(1, min(m.threads(), (x.N+63)/64))
	blocks := workers * ((x.N + workers*bs - 1) / (workers * bs))
	bs = (x.N + blocks - 1) / blocks
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Bool
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wb := newWalkBuf(bs, m.features)
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
				if r0 < r1 {
					m.predictBlock(x, r0, r1, wb, dst[r0*k:r1*k])
				}
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

// walkBuf is one prediction worker's scratch memory for a block of rows.
type walkBuf struct {
	rows   []uint32 // order keys, row-major, and one more row of zeros (see walkAsm)
	leaves []int32  // the leaf each row reached (negative, see pnode)
	logs   []int32  // walkAsm's scratch
}

func newWalkBuf(rows, f int) *walkBuf {
	return &walkBuf{rows: make([]uint32, (rows+1)*f), leaves: make([]int32, rows), logs: make([]int32, walkLogLen(rows))}
}

func (m *Model) predictBlock(x *model.Data, r0, r1 int, wb *walkBuf, out []float32) {
	gather(x, r0, r1, wb.rows)
	nr := r1 - r0
	f, k := m.features, m.classes
	clear(out)
	clear(wb.rows[nr*f : (nr+1)*f])
	leaves := wb.leaves[:nr]
	pleaf := m.pleaf
	for _, root := range m.proot {
		walk(m.pnodes, root, wb.rows[:(nr+1)*f], f, leaves, wb.logs)
		for r, l := range leaves {
			o := out[r*k : (r+1)*k]
			if v := ^l; v&pureLeaf != 0 {
				o[v&^pureLeaf]++
				continue
			}
			for e := ^l; ; e++ {
				le := pleaf[e]
				o[le.cls&^lastEntry] += le.p
				if le.cls&lastEntry != 0 {
					break
				}
			}
		}
	}
	inv := 1 / float32(len(m.proot))
	for i := range out {
		out[i] *= inv
	}
}

// walk sends the first len(leaves) rows of rows (order keys, f per row; one more row is
// scratch) down the tree rooted at root and writes the leaf each reaches (a negative child, see
// pnode) into leaves. It uses the assembly walk (with logs, walkLogLen(len(leaves)) long) where
// the CPU has one, else walkGo.
func walk(pn []pnode, root int32, rows []uint32, f int, leaves, logs []int32) {
	nr := len(leaves)
	if root < 0 {
		for r := range leaves {
			leaves[r] = root
		}
		return
	}
	if nr >= walkAsmMin && walkAsm(pn, root, rows, f, leaves, logs) {
		return
	}
	walkGo(pn, root, rows[:nr*f], f, leaves)
}

// walkGo is the pure-Go walk. Eight rows step together, their loads overlapping; a step is
// branch-free (the child is picked by indexing with the comparison's outcome), and a row that
// reached its leaf stays at its last inner node, so it keeps finding the same leaf until all
// eight are done. The lanes are spelled out so that the compiler keeps them in registers.
func walkGo(pn []pnode, root int32, rows []uint32, f int, leaves []int32) {
	nr := len(leaves)
	r := 0
	for ; r+8 <= nr; r += 8 {
		b0, b1, b2, b3, b4, b5, b6, b7 := (r+0)*f, (r+1)*f, (r+2)*f, (r+3)*f, (r+4)*f, (r+5)*f, (r+6)*f, (r+7)*f
		n0, n1, n2, n3, n4, n5, n6, n7 := root, root, root, root, root, root, root, root
		lv := leaves[r : r+8 : r+8]
		for {
			d0 := &pn[n0]
			x0 := d0.child[((uint64(d0.key)-uint64(rows[b0+int(d0.feat)]))>>63)&1]
			d1 := &pn[n1]
			x1 := d1.child[((uint64(d1.key)-uint64(rows[b1+int(d1.feat)]))>>63)&1]
			d2 := &pn[n2]
			x2 := d2.child[((uint64(d2.key)-uint64(rows[b2+int(d2.feat)]))>>63)&1]
			d3 := &pn[n3]
			x3 := d3.child[((uint64(d3.key)-uint64(rows[b3+int(d3.feat)]))>>63)&1]
			d4 := &pn[n4]
			x4 := d4.child[((uint64(d4.key)-uint64(rows[b4+int(d4.feat)]))>>63)&1]
			d5 := &pn[n5]
			x5 := d5.child[((uint64(d5.key)-uint64(rows[b5+int(d5.feat)]))>>63)&1]
			d6 := &pn[n6]
			x6 := d6.child[((uint64(d6.key)-uint64(rows[b6+int(d6.feat)]))>>63)&1]
			d7 := &pn[n7]
			x7 := d7.child[((uint64(d7.key)-uint64(rows[b7+int(d7.feat)]))>>63)&1]
			if x0&x1&x2&x3&x4&x5&x6&x7 < 0 {
				lv[0], lv[1], lv[2], lv[3], lv[4], lv[5], lv[6], lv[7] = x0, x1, x2, x3, x4, x5, x6, x7
				break
			}
			n0, n1, n2, n3 = stay(n0, x0), stay(n1, x1), stay(n2, x2), stay(n3, x3)
			n4, n5, n6, n7 = stay(n4, x4), stay(n5, x5), stay(n6, x6), stay(n7, x7)
		}
	}
	for ; r < nr; r++ {
		n, b := root, r*f
		for n >= 0 {
			d := &pn[n]
			n = d.child[((uint64(d.key)-uint64(rows[b+int(d.feat)]))>>63)&1]
		}
		leaves[r] = n
	}
}

// stay returns next when it is an inner node, else n (a row that reached a leaf stays put).
func stay(n, next int32) int32 {
	return next ^ ((next ^ n) & (next >> 31))
}
