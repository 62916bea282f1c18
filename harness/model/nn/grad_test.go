package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/etchlab/etch/kernels"
	"github.com/etchlab/etch/kernels/cpu"
)

func testBackend() kernels.Backend { return cpu.New(kernels.Options{Threads: 2}) }

func randVec(rng *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64() * scale)
	}
	return v
}

// gradCase is one layer under a finite-difference check.
type gradCase struct {
	name   string
	spec   LayerSpec
	in     shape
	fused  bool
	sample int // number of coordinates checked per tensor
	eps    float64
}

// checkLayerGrad compares a layer's analytic gradients (input and parameters) with central
// differences of L = Σ y·R, in float32 with eps 1e-2 and a mixed tolerance.
func checkLayerGrad(t *testing.T, c gradCase) {
	t.Helper()
	const n = 3
	b := testBackend()
	nt := newNet(b, 7)
	nt.noFused = !c.fused
	l, err := newLayer(nt, c.spec, c.in, true)
	if err != nil {
		t.Fatal(err)
	}
	defer nt.close()
	l.reserve(n)
	rng := rand.New(rand.NewPCG(1, 2))
	xh := randVec(rng, n*c.in.size(), 1)
	x := nt.alloc(len(xh))
	b.Upload(x, xh)
	ny := n * l.out().size()
	r := randVec(rng, ny, 1)
	rb := nt.alloc(ny)
	b.Upload(rb, r)
	loss := func() float64 {
		nt.step = 0
		y := l.forward(x, n, true)
		yh := make([]float32, ny)
		b.Download(yh, nt.view(y, 0, ny))
		var s float64
		for i := range yh {
			s += float64(yh[i]) * float64(r[i])
		}
		return s
	}
	loss()
	for _, p := range l.params() {
		b.Fill(p.g, 0)
	}
	dx := l.backward(rb, n)
	type target struct {
		name string
		buf  kernels.Buffer
		grad []float32
		n    int
	}
	var targets []target
	if dx != nil {
		g := make([]float32, len(xh))
		b.Download(g, nt.view(dx, 0, len(xh)))
		targets = append(targets, target{"x", x, g, len(xh)})
	}
	for _, p := range l.params() {
		g := make([]float32, p.size())
		b.Download(g, p.g)
		targets = append(targets, target{p.name, p.w, g, p.size()})
	}
	if len(targets) == 0 {
		t.Fatal("nothing to check")
	}
	eps := 1e-2
	if c.eps > 0 {
		eps = c.eps
	}
	for _, tg := range targets {
		host := make([]float32, tg.n)
		b.Download(host, nt.view(tg.buf, 0, tg.n))
		idx := rng.Perm(tg.n)
		if c.sample > 0 && len(idx) > c.sample {
			idx = idx[:c.sample]
		}
		for _, i := range idx {
			orig := host[i]
			host[i] = orig + float32(eps)
			b.Upload(tg.buf, host)
			lp := loss()
			host[i] = orig - float32(eps)
			b.Upload(tg.buf, host)
			lm := loss()
			host[i] = orig
			b.Upload(tg.buf, host)
			fd := (lp - lm) / (2 * eps)
			a := float64(tg.grad[i])
			if math.Abs(fd-a) > 2e-2*math.Max(1, math.Abs(fd)) {
				t.Errorf("%s: d/d%s[%d]: analytic %.5f, finite difference %.5f", c.name, tg.name, i, a, fd)
			}
		}
	}
}

func TestLayerGradients(t *testing.T) {
	seq := shape{T: 7, C: 3}
	cases := []gradCase{
		{name: "dense identity", spec: LayerSpec{Type: LayerDense, Units: 4}, in: shape{C: 5}},
		{name: "dense tanh", spec: LayerSpec{Type: LayerDense, Units: 4, Activation: "tanh"}, in: shape{C: 5}},
		{name: "dense sigmoid on seq", spec: LayerSpec{Type: LayerDense, Units: 3, Activation: "sigmoid"}, in: seq},
		{name: "dense relu", spec: LayerSpec{Type: LayerDense, Units: 4, Activation: "relu"}, in: shape{C: 5}, eps: 1e-3},
		{name: "conv1d valid tanh", spec: LayerSpec{Type: LayerConv1D, Filters: 4, Kernel: 3, Activation: "tanh"}, in: seq},
		{name: "conv1d same", spec: LayerSpec{Type: LayerConv1D, Filters: 2, Kernel: 3, Padding: "same"}, in: seq},
		{name: "maxpool1d", spec: LayerSpec{Type: LayerMaxPool1D, Size: 2}, in: seq},
		{name: "batchnorm seq", spec: LayerSpec{Type: LayerBatchNorm}, in: seq},
		{name: "batchnorm vec", spec: LayerSpec{Type: LayerBatchNorm}, in: shape{C: 4}},
		{name: "dropout", spec: LayerSpec{Type: LayerDropout, Rate: 0.4}, in: seq},
		{name: "relu", spec: LayerSpec{Type: LayerReLU}, in: seq},
		{name: "sigmoid", spec: LayerSpec{Type: LayerSigmoid}, in: seq},
		{name: "tanh", spec: LayerSpec{Type: LayerTanh}, in: seq},
	}
	for _, fused := range []bool{true, false} {
		for _, typ := range []string{LayerLSTM, LayerGRU} {
			for _, rs := range []bool{false, true} {
				cases = append(cases, gradCase{
					name: fmt.Sprintf("%s fused=%v seq=%v", typ, fused, rs),
					spec: LayerSpec{Type: typ, Units: 4, ReturnSequences: rs},
					in:   shape{T: 5, C: 3}, fused: fused, sample: 24,
				})
			}
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkLayerGrad(t, c) })
	}
}

// TestFusedMatchesComposed runs the same recurrent layers with the backend's fused cells and with
// the feature-major composed path: same parameters, same outputs and gradients.
func TestFusedMatchesComposed(t *testing.T) {
	for _, typ := range []string{LayerLSTM, LayerGRU} {
		for _, rs := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s seq=%v", typ, rs), func(t *testing.T) {
				in := shape{T: 6, C: 3}
				const n = 5
				spec := LayerSpec{Type: typ, Units: 7, ReturnSequences: rs}
				run := func(fused bool) ([]float32, []float32, [][]float32) {
					b := testBackend()
					nt := newNet(b, 3)
					nt.noFused = !fused
					defer nt.close()
					l, err := newLayer(nt, spec, in, true)
					if err != nil {
						t.Fatal(err)
					}
					l.reserve(n + 3) // a batch smaller than the reservation
					rng := rand.New(rand.NewPCG(5, 6))
					xh := randVec(rng, n*in.size(), 1)
					x := nt.alloc(len(xh))
					b.Upload(x, xh)
					y := l.forward(x, n, true)
					ny := n * l.out().size()
					yh := make([]float32, ny)
					b.Download(yh, nt.view(y, 0, ny))
					dy := nt.alloc(ny)
					b.Upload(dy, randVec(rng, ny, 1))
					for _, p := range l.params() {
						b.Fill(p.g, 0)
					}
					dx := l.backward(dy, n)
					dxh := make([]float32, len(xh))
					b.Download(dxh, nt.view(dx, 0, len(xh)))
					var gs [][]float32
					for _, p := range l.params() {
						g := make([]float32, p.size())
						b.Download(g, p.g)
						gs = append(gs, g)
					}
					return yh, dxh, gs
				}
				y1, dx1, g1 := run(true)
				y2, dx2, g2 := run(false)
				near := func(what string, a, b []float32) {
					for i := range a {
						if math.Abs(float64(a[i]-b[i])) > 1e-4*math.Max(1, math.Abs(float64(a[i]))) {
							t.Fatalf("%s[%d]: fused %v, composed %v", what, i, a[i], b[i])
						}
					}
				}
				near("y", y1, y2)
				near("dx", dx1, dx2)
				for i := range g1 {
					near(fmt.Sprintf("grad %d", i), g1[i], g2[i])
				}
			})
		}
	}
}
