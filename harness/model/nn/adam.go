package nn

import (
	"math"

	"github.com/etchlab/etch/kernels"
)

// hostAdam is the Adam update for backends without kernels.AdamStepper: it downloads the
// parameter, its gradient and moments, updates them on the host with exactly the fused kernel's
// formula and uploads them again. Correct on any backend, but slow on a device; kernels/cpu and
// CUDA backends implement the fused step.
type hostAdam struct {
	b          kernels.Backend
	p, g, m, v []float32
}

// AdamStep applies one bias-corrected Adam update with L2 weight decay (see kernels.AdamStepper).
func (h *hostAdam) AdamStep(n int, param, grad, m, v kernels.Buffer, lr, beta1, beta2, eps, weightDecay float32, t int) {
	if cap(h.p) < n {
		h.p, h.g, h.m, h.v = make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
	}
	p, g, mm, vv := h.p[:n], h.g[:n], h.m[:n], h.v[:n]
	h.b.Download(p, param)
	h.b.Download(g, grad)
	h.b.Download(mm, m)
	h.b.Download(vv, v)
	c1 := float32(1 / (1 - math.Pow(float64(beta1), float64(t))))
	c2 := float32(1 / (1 - math.Pow(float64(beta2), float64(t))))
	for i := range p {
		gi := g[i] + weightDecay*p[i]
		mm[i] = beta1*mm[i] + (1-beta1)*gi
		vv[i] = beta2*vv[i] + (1-beta2)*gi*gi
		p[i] -= lr * (mm[i] * c1) / (float32(math.Sqrt(float64(vv[i]*c2))) + eps)
	}
	h.b.Upload(param, p)
	h.b.Upload(m, mm)
	h.b.Upload(v, vv)
}
