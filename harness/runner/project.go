package runner

import (
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

// project wraps m so that it sees only the selected features, chosen by name (model.Projected,
// which saves with the model).
func (s *selection) project(m model.Model, ds *data.Dataset) *model.Projected {
	p := &model.Projected{Model: m}
	for _, j := range s.tab {
		p.Tab = append(p.Tab, ds.TabNames[j])
	}
	for _, c := range s.ch {
		p.Channels = append(p.Channels, ds.SeqChannels[c])
	}
	return p
}
