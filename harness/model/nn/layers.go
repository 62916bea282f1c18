package nn

import (
	"github.com/etchlab/etch/kernels"
)

// base holds what every layer has: its spec, shapes, the net and whether the input gradient is
// needed.
type base struct {
	nt       *net
	s        LayerSpec
	inS      shape
	outS     shape
	needDx   bool
	reserved int
}

func (l *base) spec() LayerSpec  { return l.s }
func (l *base) in() shape        { return l.inS }
func (l *base) out() shape       { return l.outS }
func (l *base) params() []*param { return nil }
func (l *base) resetWork()       { l.reserved = 0 }
func (l *base) grow(n int) bool {
	if n <= l.reserved {
		return false
	}
	l.reserved = n
	return true
}

// dense is y = act(x·W + b) over vectors; W is [in][out].
type dense struct {
	base
	act     kernels.Activation
	w, bias *param
	x       kernels.Buffer
	y, dz   kernels.Buffer
	dx      kernels.Buffer
}

func newDense(nt *net, s LayerSpec, in shape, needDx bool) *dense {
	l := &dense{base: base{nt: nt, s: s, inS: shape{C: in.size()}, outS: shape{C: s.Units}, needDx: needDx},
		act: activation(s.Activation)}
	fi, fo := in.size(), s.Units
	l.w = nt.newParam("W", []int{fi, fo}, true, nt.uniform(glorot(fi, fo)))
	l.bias = nt.newParam("b", []int{fo}, false, nil)
	return l
}

func (l *dense) params() []*param { return []*param{l.w, l.bias} }

func (l *dense) reserve(n int) {
	if !l.grow(n) {
		return
	}
	l.y, l.dz = l.nt.alloc(n*l.outS.C), l.nt.alloc(n*l.outS.C)
	if l.needDx {
		l.dx = l.nt.alloc(n * l.inS.C)
	}
}

func (l *dense) forward(x kernels.Buffer, n int, _ bool) kernels.Buffer {
	b, in, out := l.nt.b, l.inS.C, l.outS.C
	l.x = x
	b.Copy2D(n, out, l.bias.w, 0, l.y, out) // y = bias in every row, then y += x·W
	b.Gemm(false, false, n, out, in, 1, x, in, l.w.w, out, 1, l.y, out)
	if l.act != kernels.Identity {
		b.Act(l.act, l.y, l.y, n*out)
	}
	return l.y
}

func (l *dense) backward(dy kernels.Buffer, n int) kernels.Buffer {
	b, in, out := l.nt.b, l.inS.C, l.outS.C
	dz := dy
	if l.act != kernels.Identity {
		b.ActBackward(l.act, l.y, dy, l.dz, n*out)
		dz = l.dz
	}
	b.Gemm(true, false, in, out, n, 1, l.x, in, dz, out, 1, l.w.g, out)
	b.SumRows(dz, n, out, l.bias.g, 1)
	if !l.needDx {
		return nil
	}
	b.Gemm(false, true, n, in, out, 1, dz, out, l.w.w, out, 0, l.dx, in)
	return l.dx
}

// conv1d is a 1-D convolution over time, channels last, stride 1, by im2col and GEMM. W is
// [k·Cin][Cout] with rows ordered (tap, input channel), the im2col column order.
type conv1d struct {
	base
	k, pad    int
	act       kernels.Activation
	w, bias   *param
	cols      kernels.Buffer
	dcols     kernels.Buffer
	y, dz, dx kernels.Buffer
}

func newConv1D(nt *net, s LayerSpec, in shape, needDx bool) (*conv1d, error) {
	k := s.Kernel
	if k == 0 {
		k = 3
	}
	pad := 0
	if s.Padding == "same" {
		pad = (k - 1) / 2
	}
	outT := in.T + 2*pad - k + 1
	if outT < 1 {
		return nil, errShape(s, in, "sequence too short for kernel %d", k)
	}
	s.Kernel = k
	l := &conv1d{base: base{nt: nt, s: s, inS: in, outS: shape{T: outT, C: s.Filters}, needDx: needDx},
		k: k, pad: pad, act: activation(s.Activation)}
	fi, fo := k*in.C, s.Filters
	l.w = nt.newParam("W", []int{fi, fo}, true, nt.uniform(glorot(fi, fo)))
	l.bias = nt.newParam("b", []int{fo}, false, nil)
	return l, nil
}

func (l *conv1d) params() []*param { return []*param{l.w, l.bias} }

func (l *conv1d) reserve(n int) {
	if !l.grow(n) {
		return
	}
	rows, kc := n*l.outS.T, l.k*l.inS.C
	l.cols = l.nt.alloc(rows * kc)
	l.y, l.dz = l.nt.alloc(rows*l.outS.C), l.nt.alloc(rows*l.outS.C)
	if l.needDx {
		l.dcols, l.dx = l.nt.alloc(rows*kc), l.nt.alloc(n*l.inS.size())
	}
}

func (l *conv1d) forward(x kernels.Buffer, n int, _ bool) kernels.Buffer {
	b := l.nt.b
	rows, kc, f := n*l.outS.T, l.k*l.inS.C, l.outS.C
	b.Im2Col1D(x, n, l.inS.T, l.inS.C, l.k, l.pad, 1, l.cols)
	b.Copy2D(rows, f, l.bias.w, 0, l.y, f)
	b.Gemm(false, false, rows, f, kc, 1, l.cols, kc, l.w.w, f, 1, l.y, f)
	if l.act != kernels.Identity {
		b.Act(l.act, l.y, l.y, rows*f)
	}
	return l.y
}

func (l *conv1d) backward(dy kernels.Buffer, n int) kernels.Buffer {
	b := l.nt.b
	rows, kc, f := n*l.outS.T, l.k*l.inS.C, l.outS.C
	dz := dy
	if l.act != kernels.Identity {
		b.ActBackward(l.act, l.y, dy, l.dz, rows*f)
		dz = l.dz
	}
	b.Gemm(true, false, kc, f, rows, 1, l.cols, kc, dz, f, 1, l.w.g, f)
	b.SumRows(dz, rows, f, l.bias.g, 1)
	if !l.needDx {
		return nil
	}
	b.Gemm(false, true, rows, kc, f, 1, dz, f, l.w.w, f, 0, l.dcols, kc)
	b.Fill(l.nt.view(l.dx, 0, n*l.inS.size()), 0)
	b.Col2Im1D(l.dcols, n, l.inS.T, l.inS.C, l.k, l.pad, 1, l.dx)
	return l.dx
}

// maxpool1d takes the maximum over non-overlapping windows of Size steps (floor).
type maxpool1d struct {
	base
	size       int
	y, arg, dx kernels.Buffer
}

func newMaxPool1D(nt *net, s LayerSpec, in shape, needDx bool) (*maxpool1d, error) {
	if s.Size == 0 {
		s.Size = 2
	}
	if in.T/s.Size < 1 {
		return nil, errShape(s, in, "sequence too short for pool size %d", s.Size)
	}
	return &maxpool1d{base: base{nt: nt, s: s, inS: in, outS: shape{T: in.T / s.Size, C: in.C}, needDx: needDx},
		size: s.Size}, nil
}

func (l *maxpool1d) reserve(n int) {
	if !l.grow(n) {
		return
	}
	l.y, l.arg = l.nt.alloc(n*l.outS.size()), l.nt.alloc(n*l.outS.size())
	if l.needDx {
		l.dx = l.nt.alloc(n * l.inS.size())
	}
}

func (l *maxpool1d) forward(x kernels.Buffer, n int, _ bool) kernels.Buffer {
	l.nt.b.MaxPool1D(x, n, l.inS.T, l.inS.C, l.size, l.y, l.arg)
	return l.y
}

func (l *maxpool1d) backward(dy kernels.Buffer, n int) kernels.Buffer {
	if !l.needDx {
		return nil
	}
	l.nt.b.MaxPool1DBackward(dy, l.arg, n, l.inS.T, l.inS.C, l.size, l.dx)
	return l.dx
}

// dropout is inverted dropout with counter-based masks (seed, step): identity at inference.
type dropout struct {
	base
	p           float32
	mask, y, dx kernels.Buffer
	active      bool
}

func newDropout(nt *net, s LayerSpec, in shape, needDx bool) *dropout {
	return &dropout{base: base{nt: nt, s: s, inS: in, outS: in, needDx: needDx}, p: float32(s.Rate)}
}

func (l *dropout) reserve(n int) {
	if !l.grow(n) || l.p == 0 {
		return
	}
	l.mask, l.y = l.nt.alloc(n*l.inS.size()), l.nt.alloc(n*l.inS.size())
	if l.needDx {
		l.dx = l.nt.alloc(n * l.inS.size())
	}
}

func (l *dropout) forward(x kernels.Buffer, n int, train bool) kernels.Buffer {
	l.active = train && l.p > 0
	if !l.active {
		return x
	}
	m := n * l.inS.size()
	l.nt.step++
	l.nt.b.DropoutMask(m, l.p, l.nt.seed, l.nt.step, l.mask)
	l.nt.b.Mul(m, x, l.mask, l.y)
	return l.y
}

func (l *dropout) backward(dy kernels.Buffer, n int) kernels.Buffer {
	if !l.needDx {
		return nil
	}
	if !l.active {
		return dy
	}
	l.nt.b.Mul(n*l.inS.size(), dy, l.mask, l.dx)
	return l.dx
}

// act is a standalone activation layer.
type act struct {
	base
	kind  kernels.Activation
	y, dx kernels.Buffer
}

func newAct(nt *net, s LayerSpec, in shape, needDx bool) *act {
	return &act{base: base{nt: nt, s: s, inS: in, outS: in, needDx: needDx}, kind: activation(s.Type)}
}

func (l *act) reserve(n int) {
	if !l.grow(n) {
		return
	}
	l.y = l.nt.alloc(n * l.inS.size())
	if l.needDx {
		l.dx = l.nt.alloc(n * l.inS.size())
	}
}

func (l *act) forward(x kernels.Buffer, n int, _ bool) kernels.Buffer {
	l.nt.b.Act(l.kind, x, l.y, n*l.inS.size())
	return l.y
}

func (l *act) backward(dy kernels.Buffer, n int) kernels.Buffer {
	if !l.needDx {
		return nil
	}
	l.nt.b.ActBackward(l.kind, l.y, dy, l.dx, n*l.inS.size())
	return l.dx
}

// flatten turns [T][C] into a vector of T·C features; the memory layout does not change.
type flatten struct{ base }

func newFlatten(nt *net, s LayerSpec, in shape, needDx bool) *flatten {
	return &flatten{base{nt: nt, s: s, inS: in, outS: shape{C: in.size()}, needDx: needDx}}
}

func (l *flatten) reserve(int)                                            {}
func (l *flatten) forward(x kernels.Buffer, _ int, _ bool) kernels.Buffer { return x }
func (l *flatten) backward(dy kernels.Buffer, _ int) kernels.Buffer {
	if !l.needDx {
		return nil
	}
	return dy
}

// Batch normalisation constants (PyTorch's defaults).
const (
	bnEps      = 1e-5
	bnMomentum = 0.1
)

// batchnorm normalises each channel over the batch (and time) in training, with running
// statistics at inference; gamma and beta are trained.
type batchnorm struct {
	base
	gamma, beta       *param
	runMean, runVar   kernels.Buffer
	saveMean, saveInv kernels.Buffer
	x, y, dx          kernels.Buffer
}

func newBatchNorm(nt *net, s LayerSpec, in shape, needDx bool) *batchnorm {
	l := &batchnorm{base: base{nt: nt, s: s, inS: in, outS: in, needDx: needDx}}
	c := in.C
	l.gamma = nt.newParam("gamma", []int{c}, false, constant(1))
	l.beta = nt.newParam("beta", []int{c}, false, nil)
	l.runMean = nt.keepAlloc(c)
	l.runVar = nt.keepAlloc(c)
	nt.b.Fill(l.runVar, 1)
	l.saveMean, l.saveInv = nt.keepAlloc(c), nt.keepAlloc(c)
	return l
}

func (l *batchnorm) params() []*param { return []*param{l.gamma, l.beta} }

// state returns the running statistics, saved with the model.
func (l *batchnorm) state() []kernels.Buffer { return []kernels.Buffer{l.runMean, l.runVar} }

func (l *batchnorm) rows(n int) int {
	if l.inS.T == 0 {
		return n
	}
	return n * l.inS.T
}

func (l *batchnorm) reserve(n int) {
	if !l.grow(n) {
		return
	}
	l.y = l.nt.alloc(n * l.inS.size())
	l.dx = l.nt.alloc(n * l.inS.size())
}

func (l *batchnorm) forward(x kernels.Buffer, n int, train bool) kernels.Buffer {
	l.x = x
	l.nt.b.BatchNormForward(x, l.rows(n), l.inS.C, l.gamma.w, l.beta.w, bnEps, train, bnMomentum,
		l.runMean, l.runVar, l.y, l.saveMean, l.saveInv)
	return l.y
}

func (l *batchnorm) backward(dy kernels.Buffer, n int) kernels.Buffer {
	l.nt.b.BatchNormBackward(l.x, dy, l.rows(n), l.inS.C, l.gamma.w, l.saveMean, l.saveInv,
		l.dx, l.gamma.g, l.beta.g)
	if !l.needDx {
		return nil
	}
	return l.dx
}
