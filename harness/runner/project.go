package runner

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/etchlab/etch/data"
	"github.com/etchlab/etch/harness/model"
)

// selection picks some tabular columns and sequence channels of the loaded features: a model's
// own `features:` (a subset of data.features), so that one experiment can train a forest on
// statistics and a CNN-GRU on packet sizes and combine them.
type selection struct {
	tab, ch []int
}

// selectFeatures resolves a model's feature list against the loaded dataset.
func selectFeatures(ds *data.Dataset, features []string) (*selection, error) {
	s := &selection{}
	for _, f := range features {
		n := len(s.tab) + len(s.ch)
		switch {
		case f == data.GroupStats:
			for j, name := range ds.TabNames {
				if slices.Contains(data.StatNames[:], name) {
					s.tab = append(s.tab, j)
				}
			}
		case f == data.GroupExtra:
			for j, name := range ds.TabNames {
				if slices.Contains(ds.Meta.ExtraNames, name) {
					s.tab = append(s.tab, j)
				}
			}
		case slices.Contains(ds.SeqChannels, f):
			s.ch = append(s.ch, slices.Index(ds.SeqChannels, f))
		default:
			if j := slices.Index(ds.TabNames, strings.TrimPrefix(f, "extra:")); j >= 0 {
				s.tab = append(s.tab, j)
			}
		}
		if len(s.tab)+len(s.ch) == n {
			return nil, fmt.Errorf("feature %q is not among the loaded data.features", f)
		}
	}
	return s, nil
}

// apply returns x restricted to the selection (copying).
func (s *selection) apply(x *model.Data) *model.Data {
	if x == nil {
		return nil
	}
	out := &model.Data{N: x.N, Y: x.Y, Classes: x.Classes, ClassNames: x.ClassNames, Weights: x.Weights}
	td := x.TabDim()
	for _, j := range s.tab {
		out.TabNames = append(out.TabNames, x.TabNames[j])
	}
	if len(s.tab) > 0 {
		out.Tab = make([]float32, x.N*len(s.tab))
		for i := range x.N {
			row := x.Tab[i*td : (i+1)*td]
			for k, j := range s.tab {
				out.Tab[i*len(s.tab)+k] = row[j]
			}
		}
	}
	if len(s.ch) > 0 {
		C, L := len(x.SeqChannels), x.SeqLen
		for _, c := range s.ch {
			out.SeqChannels = append(out.SeqChannels, x.SeqChannels[c])
		}
		out.SeqLen = L
		out.Seq = make([]float32, x.N*L*len(s.ch))
		for i := range x.N * L {
			for k, c := range s.ch {
				out.Seq[i*len(s.ch)+k] = x.Seq[i*C+c]
			}
		}
	}
	return out
}

// projected is a model that sees only its selected features: ensembles hand every member the
// full data, and the member's wrapper cuts it down.
type projected struct {
	model.Model
	sel *selection
}

func (p *projected) Fit(ctx context.Context, train, val *model.Data) error {
	return p.Model.Fit(ctx, p.sel.apply(train), p.sel.apply(val))
}

func (p *projected) PredictProba(ctx context.Context, x *model.Data, dst []float32) error {
	return p.Model.PredictProba(ctx, p.sel.apply(x), dst)
}

// History passes the wrapped model's training curve through (nil when it has none).
func (p *projected) History() []model.Epoch {
	if h, ok := p.Model.(model.Historian); ok {
		return h.History()
	}
	return nil
}
