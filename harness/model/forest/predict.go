package forest

import (
	"context"
	"errors"
	"fmt"
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
	blocks := (x.N + predictBlock - 1) / predictBlock
	workers := min(m.threads(), blocks)
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Bool
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]float32, predictBlock*m.features)
			leaves := make([]int32, predictBlock)
			for {
				bi := int(next.Add(1) - 1)
				if bi >= blocks {
					return
				}
				if ctx.Err() != nil {
					failed.Store(true)
					return
				}
				r0 := bi * predictBlock
				r1 := min(r0+predictBlock, x.N)
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

// gather copies rows r0..r1 of x into buf, features in forest order.
func gather(x *model.Data, r0, r1 int, buf []float32) {
	td, sd := x.TabDim(), x.SeqDim()
	f := td + sd
	for i := r0; i < r1; i++ {
		row := buf[(i-r0)*f : (i-r0+1)*f]
		copy(row[:td], x.Tab[i*td:(i+1)*td])
		copy(row[td:], x.Seq[i*sd:(i+1)*sd])
	}
}

func (m *Model) predictBlock(x *model.Data, r0, r1 int, buf []float32, leaves []int32, out []float32) {
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

// walk sends every row of rows (f features each) down the tree rooted at root and writes the
// leaf index each reaches. Four rows go down together so their memory loads overlap.
func (m *Model) walk(root int32, rows []float32, f int, leaves []int32) {
	nodes := m.nodes
	nr := len(leaves)
	r := 0
	for ; r+4 <= nr; r += 4 {
		x0 := rows[r*f : (r+1)*f]
		x1 := rows[(r+1)*f : (r+2)*f]
		x2 := rows[(r+2)*f : (r+3)*f]
		x3 := rows[(r+3)*f : (r+4)*f]
		n0, n1, n2, n3 := root, root, root, root
		for {
			d0, d1, d2, d3 := nodes[n0], nodes[n1], nodes[n2], nodes[n3]
			live := false
			if d0.feat >= 0 {
				live = true
				if x0[d0.feat] <= d0.thr {
					n0++
				} else {
					n0 = d0.right
				}
			}
			if d1.feat >= 0 {
				live = true
				if x1[d1.feat] <= d1.thr {
					n1++
				} else {
					n1 = d1.right
				}
			}
			if d2.feat >= 0 {
				live = true
				if x2[d2.feat] <= d2.thr {
					n2++
				} else {
					n2 = d2.right
				}
			}
			if d3.feat >= 0 {
				live = true
				if x3[d3.feat] <= d3.thr {
					n3++
				} else {
					n3 = d3.right
				}
			}
			if !live {
				break
			}
		}
		leaves[r], leaves[r+1], leaves[r+2], leaves[r+3] = nodes[n0].right, nodes[n1].right, nodes[n2].right, nodes[n3].right
	}
	for ; r < nr; r++ {
		x0 := rows[r*f : (r+1)*f]
		n0 := root
		for {
			d := nodes[n0]
			if d.feat < 0 {
				break
			}
			if x0[d.feat] <= d.thr {
				n0++
			} else {
				n0 = d.right
			}
		}
		leaves[r] = nodes[n0].right
	}
}
