package eval

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// ClassMetrics are one class's scores.
type ClassMetrics struct {
	Label     string  `json:"label"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"`
}

// Interval is a two-sided confidence interval.
type Interval struct {
	Lo float64 `json:"lo"`
	Hi float64 `json:"hi"`
}

// Metrics are the scores of one model's predictions on one test set.
type Metrics struct {
	Accuracy          float64 `json:"accuracy"`
	MacroPrecision    float64 `json:"macro_precision"`
	MacroRecall       float64 `json:"macro_recall"`
	MacroF1           float64 `json:"macro_f1"`
	WeightedPrecision float64 `json:"weighted_precision"`
	WeightedRecall    float64 `json:"weighted_recall"`
	WeightedF1        float64 `json:"weighted_f1"`
	// TopK maps k (as "top2", "top3", "top5") to top-k accuracy, for k < number of classes.
	TopK map[string]float64 `json:"top_k,omitempty"`
	// LogLoss is the mean negative log-likelihood of the true class (probabilities clipped to
	// [1e-15, 1]).
	LogLoss  float64        `json:"log_loss"`
	PerClass []ClassMetrics `json:"per_class"`
	// Confusion[i][j] counts examples of true class i predicted as class j.
	Confusion [][]int `json:"confusion"`
	// CI holds bootstrap 95% intervals for accuracy and macro_f1 (percentile method).
	CI map[string]Interval `json:"ci,omitempty"`
	N  int                 `json:"n"`
}

// Options tune Evaluate.
type Options struct {
	// Bootstrap is the number of bootstrap resamples for the intervals (0: no intervals).
	Bootstrap int
	// Seed seeds the bootstrap.
	Seed uint64
}

// Predict returns the argmax class of each row of proba (n×k); ties go to the lower class.
func Predict(proba []float32, k int) []int32 {
	n := len(proba) / k
	out := make([]int32, n)
	for i := range n {
		row := proba[i*k : (i+1)*k]
		best := 0
		for j := 1; j < k; j++ {
			if row[j] > row[best] {
				best = j
			}
		}
		out[i] = int32(best)
	}
	return out
}

// Evaluate scores probabilities proba (row-major len(yTrue)×len(classes)) against yTrue.
// Precision, recall and F1 of a class with no predicted (or no true) examples are 0, as
// scikit-learn's zero_division=0; macro averages run over all classes, weighted ones by support.
func Evaluate(yTrue []int32, proba []float32, classes []string, opt Options) (*Metrics, error) {
	k := len(classes)
	if k == 0 || len(proba) != len(yTrue)*k {
		return nil, fmt.Errorf("evaluate: %d probabilities for %d examples × %d classes", len(proba), len(yTrue), k)
	}
	for i, y := range yTrue {
		if y < 0 || int(y) >= k {
			return nil, fmt.Errorf("evaluate: label %d of example %d outside [0,%d)", y, i, k)
		}
	}
	pred := Predict(proba, k)
	m := &Metrics{N: len(yTrue), Confusion: Confusion(yTrue, pred, k)}
	m.fromConfusion(classes)
	m.LogLoss = logLoss(yTrue, proba, k)
	for _, t := range []int{2, 3, 5} {
		if t < k {
			if m.TopK == nil {
				m.TopK = map[string]float64{}
			}
			m.TopK[fmt.Sprintf("top%d", t)] = topK(yTrue, proba, k, t)
		}
	}
	if opt.Bootstrap > 0 && len(yTrue) > 0 {
		m.CI = bootstrap(yTrue, pred, k, opt)
	}
	return m, nil
}

// Confusion counts (true, predicted) pairs into a k×k matrix.
func Confusion(yTrue, pred []int32, k int) [][]int {
	c := make([][]int, k)
	for i := range c {
		c[i] = make([]int, k)
	}
	for i, y := range yTrue {
		c[y][pred[i]]++
	}
	return c
}

func (m *Metrics) fromConfusion(classes []string) {
	k := len(classes)
	m.PerClass = make([]ClassMetrics, k)
	colSum := make([]int, k)
	total, correct := 0, 0
	for i := range k {
		for j := range k {
			colSum[j] += m.Confusion[i][j]
			total += m.Confusion[i][j]
		}
		correct += m.Confusion[i][i]
	}
	for i := range k {
		support := 0
		for j := range k {
			support += m.Confusion[i][j]
		}
		tp := float64(m.Confusion[i][i])
		cm := ClassMetrics{Label: classes[i], Support: support}
		if colSum[i] > 0 {
			cm.Precision = tp / float64(colSum[i])
		}
		if support > 0 {
			cm.Recall = tp / float64(support)
		}
		if cm.Precision+cm.Recall > 0 {
			cm.F1 = 2 * cm.Precision * cm.Recall / (cm.Precision + cm.Recall)
		}
		m.PerClass[i] = cm
		m.MacroPrecision += cm.Precision / float64(k)
		m.MacroRecall += cm.Recall / float64(k)
		m.MacroF1 += cm.F1 / float64(k)
		if total > 0 {
			w := float64(support) / float64(total)
			m.WeightedPrecision += w * cm.Precision
			m.WeightedRecall += w * cm.Recall
			m.WeightedF1 += w * cm.F1
		}
	}
	if total > 0 {
		m.Accuracy = float64(correct) / float64(total)
	}
}

func logLoss(yTrue []int32, proba []float32, k int) float64 {
	if len(yTrue) == 0 {
		return 0
	}
	s := 0.0
	for i, y := range yTrue {
		p := float64(proba[i*k+int(y)])
		s -= math.Log(math.Min(math.Max(p, 1e-15), 1))
	}
	return s / float64(len(yTrue))
}

// topK is the share of examples whose true class is among the t most probable ones (ties in
// favour of the true class do not count: a class ranks above the true one when its probability
// is strictly greater).
func topK(yTrue []int32, proba []float32, k, t int) float64 {
	if len(yTrue) == 0 {
		return 0
	}
	hit := 0
	for i, y := range yTrue {
		row := proba[i*k : (i+1)*k]
		p := row[y]
		above := 0
		for _, q := range row {
			if q > p {
				above++
			}
		}
		if above < t {
			hit++
		}
	}
	return float64(hit) / float64(len(yTrue))
}

// bootstrap resamples the test set with replacement and returns 95% percentile intervals of
// accuracy and macro F1.
func bootstrap(yTrue, pred []int32, k int, opt Options) map[string]Interval {
	rng := rand.New(rand.NewPCG(opt.Seed, 0xb007))
	n := len(yTrue)
	accs := make([]float64, opt.Bootstrap)
	f1s := make([]float64, opt.Bootstrap)
	conf := make([]int, k*k)
	rowSum := make([]int, k)
	colSum := make([]int, k)
	for b := range opt.Bootstrap {
		clear(conf)
		for range n {
			i := rng.IntN(n)
			conf[int(yTrue[i])*k+int(pred[i])]++
		}
		clear(rowSum)
		clear(colSum)
		correct := 0
		for i := range k {
			for j := range k {
				rowSum[i] += conf[i*k+j]
				colSum[j] += conf[i*k+j]
			}
			correct += conf[i*k+i]
		}
		f1 := 0.0
		for i := range k {
			tp := float64(conf[i*k+i])
			var p, r float64
			if colSum[i] > 0 {
				p = tp / float64(colSum[i])
			}
			if rowSum[i] > 0 {
				r = tp / float64(rowSum[i])
			}
			if p+r > 0 {
				f1 += 2 * p * r / (p + r)
			}
		}
		accs[b] = float64(correct) / float64(n)
		f1s[b] = f1 / float64(k)
	}
	return map[string]Interval{"accuracy": percentile95(accs), "macro_f1": percentile95(f1s)}
}

func percentile95(xs []float64) Interval {
	sort.Float64s(xs)
	return Interval{Lo: quantile(xs, 0.025), Hi: quantile(xs, 0.975)}
}

// quantile of sorted xs with linear interpolation between closest ranks.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	pos := q * float64(len(xs)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(xs)-1)
	return xs[lo] + (pos-float64(lo))*(xs[hi]-xs[lo])
}
