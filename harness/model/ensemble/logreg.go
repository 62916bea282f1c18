package ensemble

import (
	"errors"
	"fmt"
	"math"
)

// ErrDiverged reports a meta-learner whose weights became infinite or NaN.
var ErrDiverged = errors.New("non-finite weights")

// LogReg is a multinomial logistic regression: p = softmax(W x + b), W classes × dim.
type LogReg struct {
	Dim, Classes int
	// W holds the weights row-major (class, feature), then the Classes biases.
	W []float64
}

// FitLogReg fits a LogReg to rows x (n × dim, row-major) with labels y by minimising the summed
// cross-entropy plus l2/2 ‖W‖² (biases unpenalised) with L-BFGS, at most iters iterations.
func FitLogReg(x []float64, y []int32, dim, classes int, l2 float64, iters int) (*LogReg, error) {
	n := len(y)
	if n == 0 || len(x) != n*dim || classes < 1 {
		return nil, fmt.Errorf("logistic regression: %d rows, %d values, dim %d, %d classes", n, len(x), dim, classes)
	}
	np := classes*dim + classes
	lr := &LogReg{Dim: dim, Classes: classes}
	z := make([]float64, classes)
	w := lbfgs(func(w, g []float64) float64 { return logLoss(x, y, dim, classes, l2, w, g, z) }, make([]float64, np), iters)
	for _, v := range w {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("logistic regression diverged: %w", ErrDiverged)
		}
	}
	lr.W = w
	return lr, nil
}

// logLoss returns the summed cross-entropy of softmax(W x + b) on x, y plus l2/2 ‖W‖², and
// writes its gradient into grad when grad is not nil; z is scratch of length classes.
func logLoss(x []float64, y []int32, dim, classes int, l2 float64, w, grad, z []float64) float64 {
	if grad != nil {
		clear(grad)
	}
	var total float64
	for i := range y {
		row := x[i*dim : (i+1)*dim]
		mx := math.Inf(-1)
		for c := range classes {
			s := w[classes*dim+c]
			wc := w[c*dim : (c+1)*dim]
			for j, v := range row {
				s += wc[j] * v
			}
			z[c] = s
			mx = max(mx, s)
		}
		var sum float64
		for c := range classes {
			z[c] = math.Exp(z[c] - mx)
			sum += z[c]
		}
		total += math.Log(sum) - math.Log(z[y[i]])
		if grad == nil {
			continue
		}
		for c := range classes {
			g := z[c] / sum
			if int32(c) == y[i] {
				g--
			}
			gc := grad[c*dim : (c+1)*dim]
			for j, v := range row {
				gc[j] += g * v
			}
			grad[classes*dim+c] += g
		}
	}
	for j := range classes * dim {
		total += 0.5 * l2 * w[j] * w[j]
		if grad != nil {
			grad[j] += l2 * w[j]
		}
	}
	return total
}

// Predict writes the class probabilities of row x into dst.
func (lr *LogReg) Predict(x []float64, dst []float32) {
	k, d := lr.Classes, lr.Dim
	mx := math.Inf(-1)
	z := make([]float64, k)
	for c := range k {
		s := lr.W[k*d+c]
		for j, v := range x {
			s += lr.W[c*d+j] * v
		}
		z[c] = s
		mx = max(mx, s)
	}
	var sum float64
	for c := range k {
		z[c] = math.Exp(z[c] - mx)
		sum += z[c]
	}
	for c := range k {
		dst[c] = float32(z[c] / sum)
	}
}

// lbfgs minimises f (which writes its gradient into g) from x with limited-memory BFGS (10 pairs)
// and a backtracking Armijo line search, for at most iters iterations or until the gradient is
// tiny or the loss stops falling.
func lbfgs(f func(x, g []float64) float64, x []float64, iters int) []float64 {
	const mem = 10
	n := len(x)
	g := make([]float64, n)
	fx := f(x, g)
	var ss, ys [][]float64
	var rhos []float64
	d := make([]float64, n)
	alpha := make([]float64, mem)
	xn := make([]float64, n)
	gn := make([]float64, n)
	for range iters {
		// d = -H g by the two-loop recursion.
		copy(d, g)
		for i := len(ss) - 1; i >= 0; i-- {
			alpha[i] = rhos[i] * dot(ss[i], d)
			axpy(-alpha[i], ys[i], d)
		}
		if l := len(ss); l > 0 {
			scale(dot(ss[l-1], ys[l-1])/dot(ys[l-1], ys[l-1]), d)
		} else if gn := math.Sqrt(dot(g, g)); gn > 0 {
			scale(1/gn, d)
		}
		for i := range ss {
			b := rhos[i] * dot(ys[i], d)
			axpy(alpha[i]-b, ss[i], d)
		}
		scale(-1, d)
		slope := dot(g, d)
		if slope >= 0 { // not a descent direction: restart from the gradient
			ss, ys, rhos = ss[:0], ys[:0], rhos[:0]
			copy(d, g)
			scale(-1, d)
			slope = dot(g, d)
		}
		if -slope < 1e-12 {
			break
		}
		step := 1.0
		var fn float64
		for ls := 0; ; ls++ {
			copy(xn, x)
			axpy(step, d, xn)
			fn = f(xn, gn)
			if fn <= fx+1e-4*step*slope || ls == 40 {
				break
			}
			step /= 2
		}
		if !(fn < fx) {
			break
		}
		s := make([]float64, n)
		y := make([]float64, n)
		for i := range n {
			s[i] = xn[i] - x[i]
			y[i] = gn[i] - g[i]
		}
		if sy := dot(s, y); sy > 1e-12 {
			if len(ss) == mem {
				ss, ys, rhos = ss[1:], ys[1:], rhos[1:]
			}
			ss, ys, rhos = append(ss, s), append(ys, y), append(rhos, 1/sy)
		}
		rel := (fx - fn) / max(1, math.Abs(fx))
		copy(x, xn)
		copy(g, gn)
		fx = fn
		if rel < 1e-10 {
			break
		}
	}
	return x
}

func dot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

func axpy(a float64, x, y []float64) {
	for i, v := range x {
		y[i] += a * v
	}
}

func scale(a float64, x []float64) {
	for i := range x {
		x[i] *= a
	}
}
