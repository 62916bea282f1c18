package eval

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// McNemarResult compares two models' predictions on the same examples.
type McNemarResult struct {
	A string `json:"a"`
	B string `json:"b"`
	// OnlyA counts examples A got right and B wrong; OnlyB the reverse.
	OnlyA int `json:"only_a"`
	OnlyB int `json:"only_b"`
	// Statistic is the continuity-corrected chi-squared statistic; PValue is exact (two-sided
	// binomial) when OnlyA+OnlyB < 25, else from chi-squared with one degree of freedom.
	Statistic float64 `json:"statistic"`
	PValue    float64 `json:"p_value"`
	Exact     bool    `json:"exact"`
}

// McNemar tests whether models A and B (predictions predA, predB of yTrue) differ in error rate.
func McNemar(nameA, nameB string, yTrue, predA, predB []int32) McNemarResult {
	r := McNemarResult{A: nameA, B: nameB}
	for i, y := range yTrue {
		a, b := predA[i] == y, predB[i] == y
		switch {
		case a && !b:
			r.OnlyA++
		case b && !a:
			r.OnlyB++
		}
	}
	n := r.OnlyA + r.OnlyB
	if n == 0 {
		r.PValue, r.Exact = 1, true
		return r
	}
	d := math.Abs(float64(r.OnlyA-r.OnlyB)) - 1
	if d < 0 {
		d = 0
	}
	r.Statistic = d * d / float64(n)
	if n < 25 {
		r.Exact = true
		k := min(r.OnlyA, r.OnlyB)
		bin := distuv.Binomial{N: float64(n), P: 0.5}
		r.PValue = math.Min(1, 2*bin.CDF(float64(k)))
	} else {
		r.PValue = 1 - distuv.ChiSquared{K: 1}.CDF(r.Statistic)
	}
	return r
}

// MeanCI returns the mean of xs and the half-width of its 95% Student-t confidence interval
// (0 for fewer than two values).
func MeanCI(xs []float64) (mean, half float64) {
	n := float64(len(xs))
	if n == 0 {
		return 0, 0
	}
	for _, x := range xs {
		mean += x
	}
	mean /= n
	if n < 2 {
		return mean, 0
	}
	ss := 0.0
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	sd := math.Sqrt(ss / (n - 1))
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 1}.Quantile(0.975)
	return mean, t * sd / math.Sqrt(n)
}
