package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/etchlab/etch/kernels"
)

// shape is the per-example shape of a tensor between layers: T time steps of C channels
// ([batch][T][C], channels last), or a vector of C features when T is 0.
type shape struct{ T, C int }

func (s shape) size() int {
	if s.T == 0 {
		return s.C
	}
	return s.T * s.C
}

func (s shape) String() string {
	if s.T == 0 {
		return fmt.Sprintf("[%d]", s.C)
	}
	return fmt.Sprintf("[%d×%d]", s.T, s.C)
}

// param is one trainable tensor with its gradient and Adam moments.
type param struct {
	name  string
	dims  []int
	w, g  kernels.Buffer
	m, v  kernels.Buffer
	decay bool // weight decay applies (weights, not biases or norms)
}

func (p *param) size() int {
	n := 1
	for _, d := range p.dims {
		n *= d
	}
	return n
}

// layer is one step of a network. Layers own their outputs and gradients: forward returns a
// buffer holding n examples of the output shape, backward takes the gradient of the output and
// returns the gradient of the input (nil when the layer was told its input needs none).
type layer interface {
	spec() LayerSpec
	in() shape
	out() shape
	params() []*param
	// reserve allocates workspaces for batches of up to n examples.
	reserve(n int)
	// resetWork forgets the workspaces (after the net freed them).
	resetWork()
	forward(x kernels.Buffer, n int, train bool) kernels.Buffer
	backward(dy kernels.Buffer, n int) kernels.Buffer
}

// net holds what layers share: the backend, the seeded initialiser, dropout's counter and
// cached helper buffers.
type net struct {
	b     kernels.Backend
	rng   *rand.Rand
	seed  uint64
	step  uint64
	eye   map[int]kernels.Buffer
	ones  kernels.Buffer
	onesN int
	work  []kernels.Buffer // workspaces (activations, gradients): freed when the batch size grows
	keep  []kernels.Buffer // parameters, moments, running statistics, snapshots
	// workFloats counts the workspace elements allocated since the last freeWork.
	workFloats int
	// noFused makes recurrent layers ignore the backend's fused cells (tests compare both paths).
	noFused bool
}

func newNet(b kernels.Backend, seed uint64) *net {
	return &net{b: b, seed: seed, rng: rand.New(rand.NewPCG(seed, 0x6e6e)), eye: map[int]kernels.Buffer{}}
}

// alloc allocates a zeroed workspace buffer (activations, gradients, helpers).
func (nt *net) alloc(n int) kernels.Buffer {
	if n < 1 {
		n = 1
	}
	b := nt.b.Alloc(n)
	nt.work = append(nt.work, b)
	nt.workFloats += n
	return b
}

// keepAlloc allocates a zeroed buffer that lives as long as the net (parameters and state).
func (nt *net) keepAlloc(n int) kernels.Buffer {
	if n < 1 {
		n = 1
	}
	b := nt.b.Alloc(n)
	nt.keep = append(nt.keep, b)
	return b
}

// freeWork frees every workspace buffer (the caller resets the layers' reservations).
func (nt *net) freeWork() {
	for _, b := range nt.work {
		nt.b.Free(b)
	}
	nt.work, nt.workFloats = nil, 0
	nt.eye = map[int]kernels.Buffer{}
	nt.ones, nt.onesN = nil, 0
}

// close frees every buffer the net allocated.
func (nt *net) close() {
	nt.freeWork()
	for _, b := range nt.keep {
		nt.b.Free(b)
	}
	nt.keep = nil
}

// identity returns an n×n identity matrix (used to transpose and to copy strided blocks with GEMM).
func (nt *net) identity(n int) kernels.Buffer {
	if e, ok := nt.eye[n]; ok {
		return e
	}
	h := make([]float32, n*n)
	for i := range n {
		h[i*n+i] = 1
	}
	e := nt.alloc(n * n)
	nt.b.Upload(e, h)
	nt.eye[n] = e
	return e
}

// onesVec returns a vector of at least n ones (bias broadcast and reduction by GEMM).
func (nt *net) onesVec(n int) kernels.Buffer {
	if nt.ones == nil || nt.onesN < n {
		h := make([]float32, n)
		for i := range h {
			h[i] = 1
		}
		nt.ones = nt.alloc(n)
		nt.b.Upload(nt.ones, h)
		nt.onesN = n
	}
	return nt.ones
}

// newParam allocates a parameter initialised from init (host values, uploaded once).
func (nt *net) newParam(name string, dims []int, decay bool, init func(i int) float32) *param {
	p := &param{name: name, dims: dims, decay: decay}
	n := p.size()
	p.w, p.g, p.m, p.v = nt.keepAlloc(n), nt.keepAlloc(n), nt.keepAlloc(n), nt.keepAlloc(n)
	if init != nil {
		h := make([]float32, n)
		for i := range h {
			h[i] = init(i)
		}
		nt.b.Upload(p.w, h)
	}
	return p
}

// uniform returns an initialiser drawing from U(-a, a) with the net's seeded generator.
func (nt *net) uniform(a float64) func(int) float32 {
	return func(int) float32 { return float32((nt.rng.Float64()*2 - 1) * a) }
}

func glorot(fanIn, fanOut int) float64 { return math.Sqrt(6 / float64(fanIn+fanOut)) }

func constant(v float32) func(int) float32 { return func(int) float32 { return v } }

// view returns the sub-buffer [off, off+n) of b.
func (nt *net) view(b kernels.Buffer, off, n int) kernels.Buffer { return nt.b.View(b, off, n) }

// stridedLen is the extent of rows×cols elements laid out with leading dimension ld.
func stridedLen(rows, cols, ld int) int {
	if rows == 0 {
		return 0
	}
	return (rows-1)*ld + cols
}

func activation(name string) kernels.Activation {
	switch name {
	case LayerReLU:
		return kernels.ReLU
	case LayerSigmoid:
		return kernels.Sigmoid
	case LayerTanh:
		return kernels.Tanh
	}
	return kernels.Identity
}
