package forest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/etchlab/etch/harness/model"
)

// PermutationImportance measures how much m's accuracy on x falls when one feature's values are
// shuffled across examples: for every feature (tabular, then flattened sequence values), the mean
// and standard deviation of the drop over repeats shuffles. It works for any model; seed makes the
// shuffles reproducible.
func PermutationImportance(ctx context.Context, m model.Model, x *model.Data, repeats int, seed uint64) (mean, std []float64, err error) {
	if err := x.Validate(); err != nil {
		return nil, nil, err
	}
	if x.Y == nil || x.N == 0 {
		return nil, nil, fmt.Errorf("%w: permutation importance needs labelled examples", model.ErrShape)
	}
	if repeats < 1 {
		return nil, nil, fmt.Errorf("permutation importance: repeats %d < 1", repeats)
	}
	k := m.Classes()
	probs := make([]float32, x.N*k)
	score := func(d *model.Data) (float64, error) {
		if err := m.PredictProba(ctx, d, probs); err != nil {
			return 0, err
		}
		ok := 0
		for i := range d.N {
			row := probs[i*k : (i+1)*k]
			best := 0
			for c, p := range row {
				if p > row[best] {
					best = c
				}
			}
			if int32(best) == d.Y[i] {
				ok++
			}
		}
		return float64(ok) / float64(d.N), nil
	}
	base, err := score(x)
	if err != nil {
		return nil, nil, err
	}
	// Work on a copy whose column j is shuffled, then restored.
	d := *x
	d.Tab = append([]float32(nil), x.Tab...)
	d.Seq = append([]float32(nil), x.Seq...)
	td, sd := x.TabDim(), x.SeqDim()
	f := td + sd
	mean, std = make([]float64, f), make([]float64, f)
	rng := rand.New(rand.NewPCG(seed, 0x7065726d))
	col := make([]float32, x.N)
	drops := make([]float64, repeats)
	for j := range f {
		vals, stride, off := d.Tab, td, j
		if j >= td {
			vals, stride, off = d.Seq, sd, j-td
		}
		for i := range x.N {
			col[i] = vals[i*stride+off]
		}
		for r := range repeats {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
			perm := rng.Perm(x.N)
			for i, p := range perm {
				vals[i*stride+off] = col[p]
			}
			s, err := score(&d)
			if err != nil {
				return nil, nil, err
			}
			drops[r] = base - s
		}
		for i := range x.N {
			vals[i*stride+off] = col[i]
		}
		var sum, sq float64
		for _, v := range drops {
			sum += v
		}
		mean[j] = sum / float64(repeats)
		for _, v := range drops {
			sq += (v - mean[j]) * (v - mean[j])
		}
		std[j] = math.Sqrt(sq / float64(repeats))
	}
	return mean, std, nil
}
