package nn

import (
	"math"

	"github.com/etchlab/etch/kernels"
)

// The recurrent layers run feature-major per time step: the gate pre-activations of step t are a
// [gates·H][n] block (rows are units, columns examples), hidden and cell states are [H][n]. The
// input x stays batch-major ([n][T][I]); the step's slice x_t is then a strided [n][I] matrix that
// GEMM reads transposed, so no transpose kernel is needed. Every per-step buffer and view is made
// once in reserve, so a step allocates nothing.

// rnnBase is what LSTM and GRU share: sizes, the output transposition and buffer views.
type rnnBase struct {
	base
	h, gates int // hidden units, gates (4 LSTM, 3 GRU)
	seqOut   bool
	wx, wh   *param // [gates·H][I], [gates·H][H]
	x        kernels.Buffer
	xt       []kernels.Buffer // strided views of x per step
	y, dx    kernels.Buffer
	yt, dxt  []kernels.Buffer // strided views of y and dx per step
	dh       kernels.Buffer   // running dL/dh_t, [H][n]
}

func (l *rnnBase) init(nt *net, s LayerSpec, in shape, needDx bool, gates int) {
	l.base = base{nt: nt, s: s, inS: in, needDx: needDx}
	l.h, l.gates, l.seqOut = s.Units, gates, s.ReturnSequences
	if l.seqOut {
		l.outS = shape{T: in.T, C: s.Units}
	} else {
		l.outS = shape{C: s.Units}
	}
	a := 1 / math.Sqrt(float64(s.Units))
	l.wx = nt.newParam("Wx", []int{gates * s.Units, in.C}, true, nt.uniform(a))
	l.wh = nt.newParam("Wh", []int{gates * s.Units, s.Units}, true, nt.uniform(a))
}

// reserveBase allocates output, input-gradient and views for up to n examples; it reports false
// when nothing had to grow.
func (l *rnnBase) reserveBase(n int) bool {
	if !l.grow(n) {
		return false
	}
	T, I, H := l.inS.T, l.inS.C, l.h
	l.y = l.nt.alloc(n * l.outS.size())
	l.dh = l.nt.alloc(H * n)
	l.yt, l.dxt, l.xt = make([]kernels.Buffer, T), make([]kernels.Buffer, T), make([]kernels.Buffer, T)
	if l.needDx {
		l.dx = l.nt.alloc(n * T * I)
		for t := range T {
			l.dxt[t] = l.nt.view(l.dx, t*I, stridedLen(n, I, T*I))
		}
	}
	if l.seqOut {
		for t := range T {
			l.yt[t] = l.nt.view(l.y, t*H, stridedLen(n, H, T*H))
		}
	}
	return true
}

// bindInput makes the per-step strided views of x for a batch of n examples.
func (l *rnnBase) bindInput(x kernels.Buffer, n int) {
	l.x = x
	T, I := l.inS.T, l.inS.C
	for t := range T {
		l.xt[t] = l.nt.view(x, t*I, stridedLen(n, I, T*I))
	}
}

// emit writes h_t ([H][n]) into the output: every step when returning sequences, else the last.
func (l *rnnBase) emit(t int, ht kernels.Buffer, n int) {
	H, T := l.h, l.inS.T
	eye := l.nt.identity(H)
	switch {
	case l.seqOut:
		l.nt.b.Gemm(true, false, n, H, H, 1, ht, n, eye, H, 0, l.yt[t], T*H)
	case t == T-1:
		l.nt.b.Gemm(true, false, n, H, H, 1, ht, n, eye, H, 0, l.y, H)
	}
}

// seedGrad adds the output gradient of step t (batch-major) into dh ([H][n]).
func (l *rnnBase) seedGrad(t int, dy kernels.Buffer, n int) {
	H, T := l.h, l.inS.T
	eye := l.nt.identity(H)
	switch {
	case l.seqOut:
		l.nt.b.Gemm(false, true, H, n, H, 1, eye, H, l.dyView(dy, t, n), T*H, 1, l.dh, n)
	case t == T-1:
		l.nt.b.Gemm(false, true, H, n, H, 1, eye, H, dy, H, 1, l.dh, n)
	}
}

func (l *rnnBase) dyView(dy kernels.Buffer, t, n int) kernels.Buffer {
	H, T := l.h, l.inS.T
	return l.nt.view(dy, t*H, stridedLen(n, H, T*H))
}

// lstm is a long short-term memory layer (PyTorch gate order i, f, g, o; one bias vector,
// forget-gate bias initialised to 1).
type lstm struct {
	rnnBase
	bias   *param           // [4H]
	g      []kernels.Buffer // per step activated gates [4H][n]
	c, tc  []kernels.Buffer // per step cell state and tanh(cell) [H][n]; c[-1] is zero
	hs     []kernels.Buffer // per step hidden state [H][n]
	c0, h0 kernels.Buffer
	tmp    kernels.Buffer
	dg, dc kernels.Buffer
	cell   kernels.LSTMCeller // fused cell of the backend (nil: feature-major composed path)
	f      fusedBufs
}

func newLSTM(nt *net, s LayerSpec, in shape, needDx bool) *lstm {
	l := &lstm{}
	l.init(nt, s, in, needDx, 4)
	if !nt.noFused {
		l.cell, _ = nt.b.(kernels.LSTMCeller)
	}
	H := s.Units
	l.bias = nt.newParam("b", []int{4 * H}, false, func(i int) float32 {
		if i >= H && i < 2*H {
			return 1
		}
		return 0
	})
	return l
}

func (l *lstm) params() []*param { return []*param{l.wx, l.wh, l.bias} }

func (l *lstm) reserveFM(n int) {
	if !l.reserveBase(n) {
		return
	}
	T, H := l.inS.T, l.h
	gs, cs, tcs, hs := l.nt.alloc(T*4*H*n), l.nt.alloc(T*H*n), l.nt.alloc(T*H*n), l.nt.alloc(T*H*n)
	l.g, l.c, l.tc, l.hs = make([]kernels.Buffer, T), make([]kernels.Buffer, T), make([]kernels.Buffer, T), make([]kernels.Buffer, T)
	for t := range T {
		l.g[t] = l.nt.view(gs, t*4*H*n, 4*H*n)
		l.c[t] = l.nt.view(cs, t*H*n, H*n)
		l.tc[t] = l.nt.view(tcs, t*H*n, H*n)
		l.hs[t] = l.nt.view(hs, t*H*n, H*n)
	}
	l.c0, l.h0 = l.nt.alloc(H*n), l.nt.alloc(H*n)
	l.tmp, l.dg, l.dc = l.nt.alloc(H*n), l.nt.alloc(4*H*n), l.nt.alloc(H*n)
}

// gate returns block k (0 i, 1 f, 2 g, 3 o) of a [4H][n] gate buffer.
func (l *lstm) gate(g kernels.Buffer, k, n int) kernels.Buffer {
	return l.nt.view(g, k*l.h*n, l.h*n)
}

func (l *lstm) forwardFM(x kernels.Buffer, n int, _ bool) kernels.Buffer {
	b, T, I, H := l.nt.b, l.inS.T, l.inS.C, l.h
	l.bindInput(x, n)
	ones := l.nt.onesVec(n)
	hn := H * n
	for t := range T {
		g := l.g[t]
		b.Gemm(false, true, 4*H, n, I, 1, l.wx.w, I, l.xt[t], T*I, 0, g, n)
		if t > 0 {
			b.Gemm(false, false, 4*H, n, H, 1, l.wh.w, H, l.hs[t-1], n, 1, g, n)
		}
		b.Gemm(false, false, 4*H, n, 1, 1, l.bias.w, 1, ones, n, 1, g, n)
		b.Act(kernels.Sigmoid, g, g, 2*hn)
		gg, gO := l.gate(g, 2, n), l.gate(g, 3, n)
		b.Act(kernels.Tanh, gg, gg, hn)
		b.Act(kernels.Sigmoid, gO, gO, hn)
		// c_t = f·c_{t-1} + i·g
		if t > 0 {
			b.Mul(hn, l.gate(g, 1, n), l.c[t-1], l.c[t])
			b.Mul(hn, l.gate(g, 0, n), gg, l.tmp)
			b.Axpy(hn, 1, l.tmp, l.c[t])
		} else {
			b.Mul(hn, l.gate(g, 0, n), gg, l.c[t])
		}
		b.Act(kernels.Tanh, l.c[t], l.tc[t], hn)
		b.Mul(hn, gO, l.tc[t], l.hs[t])
		l.emit(t, l.hs[t], n)
	}
	return l.y
}

func (l *lstm) backwardFM(dy kernels.Buffer, n int) kernels.Buffer {
	b, T, I, H := l.nt.b, l.inS.T, l.inS.C, l.h
	ones := l.nt.onesVec(n)
	hn := H * n
	dh, dc, dg := l.nt.view(l.dh, 0, hn), l.nt.view(l.dc, 0, hn), l.nt.view(l.dg, 0, 4*hn)
	b.Fill(dh, 0)
	b.Fill(dc, 0)
	di, df, dgg, do := l.gate(l.dg, 0, n), l.gate(l.dg, 1, n), l.gate(l.dg, 2, n), l.gate(l.dg, 3, n)
	for t := T - 1; t >= 0; t-- {
		g := l.g[t]
		gi, gf, gg, gO := l.gate(g, 0, n), l.gate(g, 1, n), l.gate(g, 2, n), l.gate(g, 3, n)
		l.seedGrad(t, dy, n)
		// h = o·tanh(c)
		b.Mul(hn, dh, l.tc[t], do)
		b.Mul(hn, dh, gO, l.tmp)
		b.ActBackward(kernels.Tanh, l.tc[t], l.tmp, l.tmp, hn)
		b.Axpy(hn, 1, l.tmp, dc)
		// c = f·c_prev + i·g
		b.Mul(hn, dc, gg, di)
		b.Mul(hn, dc, gi, dgg)
		if t > 0 {
			b.Mul(hn, dc, l.c[t-1], df)
		} else {
			b.Fill(df, 0)
		}
		b.Mul(hn, dc, gf, dc)
		// through the gate nonlinearities
		b.ActBackward(kernels.Sigmoid, l.nt.view(g, 0, 2*hn), l.nt.view(dg, 0, 2*hn), l.nt.view(dg, 0, 2*hn), 2*hn)
		b.ActBackward(kernels.Tanh, gg, dgg, dgg, hn)
		b.ActBackward(kernels.Sigmoid, gO, do, do, hn)
		// parameter gradients
		b.Gemm(false, false, 4*H, I, n, 1, dg, n, l.xt[t], T*I, 1, l.wx.g, I)
		if t > 0 {
			b.Gemm(false, true, 4*H, H, n, 1, dg, n, l.hs[t-1], n, 1, l.wh.g, H)
		}
		b.Gemm(false, false, 4*H, 1, n, 1, dg, n, ones, 1, 1, l.bias.g, 1)
		// input and recurrent gradients
		if l.needDx {
			b.Gemm(true, false, n, I, 4*H, 1, dg, n, l.wx.w, I, 0, l.dxt[t], T*I)
		}
		if t > 0 {
			b.Gemm(true, false, H, n, 4*H, 1, l.wh.w, H, dg, n, 0, dh, n)
		}
	}
	if !l.needDx {
		return nil
	}
	return l.dx
}

// gru is a gated recurrent unit, PyTorch semantics (ONNX linear_before_reset = 1, Keras
// reset_after): r and z gates, n = tanh(Wx_n·x + bx_n + r·(Wh_n·h + bh_n)), h' = n + z·(h − n).
// Gate order inside etch is r, z, n.
type gru struct {
	rnnBase
	bx, bh    *param           // [3H] each
	gx, gh    []kernels.Buffer // per step: activated r, z, n; recurrent pre-activations
	hs        []kernels.Buffer
	tmp, tmp2 kernels.Buffer
	dgx, dgh  kernels.Buffer
	cell      kernels.GRUCeller // fused cell of the backend (nil: feature-major composed path)
	f         fusedBufs
}

func newGRU(nt *net, s LayerSpec, in shape, needDx bool) *gru {
	l := &gru{}
	l.init(nt, s, in, needDx, 3)
	if !nt.noFused {
		l.cell, _ = nt.b.(kernels.GRUCeller)
	}
	a := 1 / math.Sqrt(float64(s.Units))
	l.bx = nt.newParam("bx", []int{3 * s.Units}, false, nt.uniform(a))
	l.bh = nt.newParam("bh", []int{3 * s.Units}, false, nt.uniform(a))
	return l
}

func (l *gru) params() []*param { return []*param{l.wx, l.wh, l.bx, l.bh} }

func (l *gru) reserveFM(n int) {
	if !l.reserveBase(n) {
		return
	}
	T, H := l.inS.T, l.h
	gxs, ghs, hs := l.nt.alloc(T*3*H*n), l.nt.alloc(T*3*H*n), l.nt.alloc(T*H*n)
	l.gx, l.gh, l.hs = make([]kernels.Buffer, T), make([]kernels.Buffer, T), make([]kernels.Buffer, T)
	for t := range T {
		l.gx[t] = l.nt.view(gxs, t*3*H*n, 3*H*n)
		l.gh[t] = l.nt.view(ghs, t*3*H*n, 3*H*n)
		l.hs[t] = l.nt.view(hs, t*H*n, H*n)
	}
	l.tmp, l.tmp2 = l.nt.alloc(H*n), l.nt.alloc(H*n)
	l.dgx, l.dgh = l.nt.alloc(3*H*n), l.nt.alloc(3*H*n)
}

func (l *gru) block(g kernels.Buffer, k, n int) kernels.Buffer {
	return l.nt.view(g, k*l.h*n, l.h*n)
}

func (l *gru) forwardFM(x kernels.Buffer, n int, _ bool) kernels.Buffer {
	b, T, I, H := l.nt.b, l.inS.T, l.inS.C, l.h
	l.bindInput(x, n)
	ones := l.nt.onesVec(n)
	hn := H * n
	for t := range T {
		gx, gh := l.gx[t], l.gh[t]
		b.Gemm(false, true, 3*H, n, I, 1, l.wx.w, I, l.xt[t], T*I, 0, gx, n)
		b.Gemm(false, false, 3*H, n, 1, 1, l.bx.w, 1, ones, n, 1, gx, n)
		b.Gemm(false, false, 3*H, n, 1, 1, l.bh.w, 1, ones, n, 0, gh, n)
		if t > 0 {
			b.Gemm(false, false, 3*H, n, H, 1, l.wh.w, H, l.hs[t-1], n, 1, gh, n)
		}
		rz := l.nt.view(gx, 0, 2*hn)
		b.Axpy(2*hn, 1, l.nt.view(gh, 0, 2*hn), rz)
		b.Act(kernels.Sigmoid, rz, rz, 2*hn)
		r, z, nn := l.block(gx, 0, n), l.block(gx, 1, n), l.block(gx, 2, n)
		b.Mul(hn, r, l.block(gh, 2, n), l.tmp)
		b.Axpy(hn, 1, l.tmp, nn)
		b.Act(kernels.Tanh, nn, nn, hn)
		// h = n + z·(h_prev − n)
		h := l.hs[t]
		if t > 0 {
			b.Copy(h, l.hs[t-1])
			b.Axpy(hn, -1, nn, h)
		} else {
			b.Copy(h, nn)
			b.Scale(hn, -1, h)
		}
		b.Mul(hn, z, h, h)
		b.Axpy(hn, 1, nn, h)
		l.emit(t, h, n)
	}
	return l.y
}

func (l *gru) backwardFM(dy kernels.Buffer, n int) kernels.Buffer {
	b, T, I, H := l.nt.b, l.inS.T, l.inS.C, l.h
	ones := l.nt.onesVec(n)
	hn := H * n
	dh := l.nt.view(l.dh, 0, hn)
	dgx, dgh := l.nt.view(l.dgx, 0, 3*hn), l.nt.view(l.dgh, 0, 3*hn)
	b.Fill(dh, 0)
	dr, dz, dn := l.block(dgx, 0, n), l.block(dgx, 1, n), l.block(dgx, 2, n)
	dhn := l.block(dgh, 2, n)
	for t := T - 1; t >= 0; t-- {
		gx, gh := l.gx[t], l.gh[t]
		r, z, nn := l.block(gx, 0, n), l.block(gx, 1, n), l.block(gx, 2, n)
		l.seedGrad(t, dy, n)
		// direct path dh_prev = dh·z (kept in tmp2)
		b.Mul(hn, dh, z, l.tmp2)
		// dn = dh·(1−z) = dh − dh·z
		b.Copy(dn, dh)
		b.Axpy(hn, -1, l.tmp2, dn)
		// dz = dh·(h_prev − n)
		if t > 0 {
			b.Copy(l.tmp, l.hs[t-1])
			b.Axpy(hn, -1, nn, l.tmp)
		} else {
			b.Copy(l.tmp, nn)
			b.Scale(hn, -1, l.tmp)
		}
		b.Mul(hn, dh, l.tmp, dz)
		// through tanh: dn_pre
		b.ActBackward(kernels.Tanh, nn, dn, dn, hn)
		// dr = dn_pre·gh_n ; dgh_n = dn_pre·r
		b.Mul(hn, dn, l.block(gh, 2, n), dr)
		b.Mul(hn, dn, r, dhn)
		rz := l.nt.view(gx, 0, 2*hn)
		drz := l.nt.view(dgx, 0, 2*hn)
		b.ActBackward(kernels.Sigmoid, rz, drz, drz, 2*hn)
		b.Copy(l.nt.view(dgh, 0, 2*hn), drz)
		// parameter gradients
		b.Gemm(false, false, 3*H, I, n, 1, dgx, n, l.xt[t], T*I, 1, l.wx.g, I)
		b.Gemm(false, false, 3*H, 1, n, 1, dgx, n, ones, 1, 1, l.bx.g, 1)
		b.Gemm(false, false, 3*H, 1, n, 1, dgh, n, ones, 1, 1, l.bh.g, 1)
		if t > 0 {
			b.Gemm(false, true, 3*H, H, n, 1, dgh, n, l.hs[t-1], n, 1, l.wh.g, H)
		}
		if l.needDx {
			b.Gemm(true, false, n, I, 3*H, 1, dgx, n, l.wx.w, I, 0, l.dxt[t], T*I)
		}
		if t > 0 {
			b.Copy(dh, l.nt.view(l.tmp2, 0, hn))
			b.Gemm(true, false, H, n, 3*H, 1, l.wh.w, H, dgh, n, 1, dh, n)
		}
	}
	if !l.needDx {
		return nil
	}
	return l.dx
}
