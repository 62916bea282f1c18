package runner

import "math"

// scaler maps each feature column to a common range, fitted on training rows only.
type scaler struct {
	kind       string // minmax, standard, none
	shift, mul []float32
}

// fitScaler fits one (shift, mul) pair per column of a row-major matrix with dim columns
// (a tabular feature, or a sequence channel when stride > 1 values of a row belong to one
// column: rows are n×(steps×dim) and column c collects every step's value c).
func fitScaler(kind string, x []float32, rows []int, steps, dim int) *scaler {
	s := &scaler{kind: kind, shift: make([]float32, dim), mul: make([]float32, dim)}
	for c := range dim {
		s.mul[c] = 1
	}
	if kind == "none" || dim == 0 || len(rows) == 0 {
		return s
	}
	width := steps * dim
	for c := range dim {
		switch kind {
		case "minmax":
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, r := range rows {
				for t := range steps {
					v := float64(x[r*width+t*dim+c])
					lo, hi = math.Min(lo, v), math.Max(hi, v)
				}
			}
			s.shift[c] = float32(lo)
			if hi > lo {
				s.mul[c] = float32(1 / (hi - lo))
			}
		case "standard":
			var sum, sq float64
			n := float64(len(rows) * steps)
			for _, r := range rows {
				for t := range steps {
					v := float64(x[r*width+t*dim+c])
					sum += v
					sq += v * v
				}
			}
			mean := sum / n
			sd := math.Sqrt(math.Max(sq/n-mean*mean, 0))
			s.shift[c] = float32(mean)
			if sd > 0 {
				s.mul[c] = float32(1 / sd)
			}
		}
	}
	return s
}

// apply returns a scaled copy of x (n rows of steps×dim values).
func (s *scaler) apply(x []float32, steps, dim int) []float32 {
	out := make([]float32, len(x))
	if dim == 0 {
		return out
	}
	for i, v := range x {
		c := i % dim
		out[i] = (v - s.shift[c]) * s.mul[c]
	}
	return out
}
