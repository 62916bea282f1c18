package report

import (
	"fmt"
	"io"

	"github.com/etchlab/etch/harness/eval"
)

// Compare writes a Markdown table of metric deltas (B − A) for every setting and model the two
// runs share, averaging over repeats; settings or models only one run has are listed as such.
func Compare(w io.Writer, a, b *Results) error {
	p := &printer{w: w}
	p.f("# %s (%s) → %s (%s)\n\n", a.Experiment, a.RunID, b.Experiment, b.RunID)
	if a.ConfigHash == b.ConfigHash {
		p.f("Same experiment hash `%s`.\n\n", a.ConfigHash)
	}
	ga, gb := groupIndex(a), groupIndex(b)
	metrics := []string{"accuracy", "macro_f1", "weighted_f1", "log_loss"}
	header := []string{"setting", "model"}
	for _, m := range metrics {
		header = append(header, m+" A", m+" B", "Δ "+m)
	}
	var rows [][]string
	var only []string
	for _, g := range groups(a) {
		gbTrials, ok := gb[g.params]
		if !ok {
			only = append(only, fmt.Sprintf("setting %s only in A", g.params))
			continue
		}
		for _, ms := range a.Models {
			xa, okA := mean(g.trials, ms.Name, metrics)
			xb, okB := mean(gbTrials, ms.Name, metrics)
			if !okA || !okB {
				if okA {
					only = append(only, fmt.Sprintf("model %s at %s only in A", ms.Name, g.params))
				}
				continue
			}
			row := []string{g.params, ms.Name}
			for i := range metrics {
				row = append(row, f3(xa[i]), f3(xb[i]), fmt.Sprintf("%+.3f", xb[i]-xa[i]))
			}
			rows = append(rows, row)
		}
	}
	for _, g := range groups(b) {
		if _, ok := ga[g.params]; !ok {
			only = append(only, fmt.Sprintf("setting %s only in B", g.params))
		}
	}
	p.table(header, rows)
	for _, o := range only {
		p.f("- %s\n", o)
	}
	return p.err
}

func groupIndex(r *Results) map[string][]*Trial {
	m := map[string][]*Trial{}
	for _, g := range groups(r) {
		m[g.params] = g.trials
	}
	return m
}

func mean(trials []*Trial, model string, metrics []string) ([]float64, bool) {
	out := make([]float64, len(metrics))
	for i, name := range metrics {
		var xs []float64
		for _, t := range trials {
			if m := t.Models[model]; m != nil {
				if v, ok := metricValue(m, name); ok {
					xs = append(xs, v)
				}
			}
		}
		if len(xs) == 0 {
			return nil, false
		}
		out[i], _ = eval.MeanCI(xs)
	}
	return out, true
}
