package nn

import "github.com/etchlab/etch/kernels"

// Recurrent layers on a backend's fused cells (kernels.LSTMCeller, kernels.GRUCeller). The input
// [n][T][I] is first copied to time-major order [T][n][I] (T strided block copies), so the input
// projections of all steps are one GEMM whose result is already laid out per step: step t's gate
// pre-activations are the contiguous rows [t·n, (t+1)·n) and the recurrent GEMM accumulates into
// them in place; the cells write their gate gradients straight into the time-major gradient
// buffer, and backward finishes with two big GEMMs (dWx and dx) and T block copies back to
// batch-major. Parameters are the same tensors as the feature-major path, so models move freely
// between backends.

// fusedBufs are the per-layer workspaces of the fused path; step views are rebuilt when the batch
// size changes.
type fusedBufs struct {
	xtm, dxtm   kernels.Buffer // [T·n][I] time-major input and its gradient
	xp, dxp     kernels.Buffer // [T·n][G·H] projections (LSTM gates / GRU gx) and their gradients
	ghs         kernels.Buffer // GRU [T·n][3H] recurrent pre-activations
	cs, hs      kernels.Buffer // [T·n][H] cell (LSTM) and hidden states
	zero        kernels.Buffer // [n][H] zeros (h_{-1}, c_{-1})
	dgh         kernels.Buffer // GRU [n][3H]
	dc          kernels.Buffer // LSTM [n][H]
	dh2         kernels.Buffer // [n][H] second running-gradient buffer
	n           int            // batch size the views below were made for
	g, dg, gh   []kernels.Buffer
	c, h, x, dx []kernels.Buffer
}

func (l *rnnBase) reserveFused(n int, f *fusedBufs, gru bool) {
	T, H, G, I := l.inS.T, l.h, l.gates, l.inS.C
	nt := l.nt
	f.xtm, f.xp, f.dxp, f.hs = nt.alloc(T*n*I), nt.alloc(T*n*G*H), nt.alloc(T*n*G*H), nt.alloc(T*n*H)
	if l.needDx {
		f.dxtm = nt.alloc(T * n * I)
	}
	if gru {
		f.ghs, f.dgh = nt.alloc(T*n*G*H), nt.alloc(n*G*H)
	} else {
		f.cs, f.dc = nt.alloc(T*n*H), nt.alloc(n*H)
	}
	f.zero, f.dh2 = nt.alloc(n*H), nt.alloc(n*H)
	f.n = 0
}

// bindFused makes the per-step views for batch size n (and input x).
func (l *rnnBase) bindFused(f *fusedBufs, x kernels.Buffer, n int, gru bool) {
	T, H, GH, I := l.inS.T, l.h, l.gates*l.h, l.inS.C
	nt := l.nt
	l.x = x
	if f.x == nil {
		f.x, f.dx = make([]kernels.Buffer, T), make([]kernels.Buffer, T)
	}
	for t := range T {
		f.x[t] = nt.view(x, t*I, stridedLen(n, I, T*I))
	}
	if f.n == n {
		return
	}
	f.n = n
	f.g, f.dg, f.h = make([]kernels.Buffer, T), make([]kernels.Buffer, T), make([]kernels.Buffer, T)
	f.gh, f.c = make([]kernels.Buffer, T), make([]kernels.Buffer, T)
	for t := range T {
		f.g[t] = nt.view(f.xp, t*n*GH, n*GH)
		f.dg[t] = nt.view(f.dxp, t*n*GH, n*GH)
		f.h[t] = nt.view(f.hs, t*n*H, n*H)
		if gru {
			f.gh[t] = nt.view(f.ghs, t*n*GH, n*GH)
		} else {
			f.c[t] = nt.view(f.cs, t*n*H, n*H)
		}
		if l.needDx {
			f.dx[t] = nt.view(l.dx, t*I, stridedLen(n, I, T*I))
		}
	}
}

// project copies x to time-major order and computes xp = x·Wxᵀ + bias for all T·n rows.
func (l *rnnBase) project(f *fusedBufs, n int, bias *param) {
	b := l.nt.b
	T, I, GH := l.inS.T, l.inS.C, l.gates*l.h
	for t := range T {
		b.Copy2D(n, I, f.x[t], T*I, l.nt.view(f.xtm, t*n*I, n*I), I)
	}
	b.Copy2D(T*n, GH, bias.w, 0, f.xp, GH) // bias in every row, then += x·Wxᵀ
	b.Gemm(false, true, T*n, GH, I, 1, f.xtm, I, l.wx.w, I, 1, f.xp, GH)
}

// finish accumulates dWx and the input bias gradient from the time-major projection gradients
// and computes dx (batch-major).
func (l *rnnBase) finish(f *fusedBufs, n int, bias *param) kernels.Buffer {
	b := l.nt.b
	T, I, GH := l.inS.T, l.inS.C, l.gates*l.h
	b.Gemm(true, false, GH, I, T*n, 1, f.dxp, GH, f.xtm, I, 1, l.wx.g, I)
	b.SumRows(f.dxp, T*n, GH, bias.g, 1)
	if !l.needDx {
		return nil
	}
	b.Gemm(false, false, T*n, I, GH, 1, f.dxp, GH, l.wx.w, I, 0, f.dxtm, I)
	for t := range T {
		b.Copy2D(n, I, l.nt.view(f.dxtm, t*n*I, n*I), I, f.dx[t], T*I)
	}
	return l.dx
}

// seedFused adds step t's output gradient (batch-major) to dh [n][H].
func (l *rnnBase) seedFused(t int, dy, dh kernels.Buffer, n int) {
	H, T := l.h, l.inS.T
	switch {
	case l.seqOut:
		l.nt.b.Axpy2D(n, H, 1, l.dyView(dy, t, n), T*H, dh, H)
	case t == T-1:
		l.nt.b.Axpy(n*H, 1, dy, dh)
	}
}

// outFused emits step t's hidden state into the batch-major output.
func (l *rnnBase) outFused(t int, h kernels.Buffer, n int) {
	H, T := l.h, l.inS.T
	if l.seqOut {
		l.nt.b.Copy2D(n, H, h, H, l.yt[t], T*H)
	} else if t == T-1 {
		l.nt.b.Copy(l.nt.view(l.y, 0, n*H), h)
	}
}

func (l *lstm) reserve(n int) {
	if l.cell == nil {
		l.reserveFM(n)
		return
	}
	if l.reserveBase(n) {
		l.reserveFused(n, &l.f, false)
	}
}

func (l *lstm) forward(x kernels.Buffer, n int, train bool) kernels.Buffer {
	if l.cell == nil {
		return l.forwardFM(x, n, train)
	}
	b, f, T, H := l.nt.b, &l.f, l.inS.T, l.h
	l.bindFused(f, x, n, false)
	l.project(f, n, l.bias)
	for t := range T {
		cPrev := f.zero
		if t > 0 {
			b.Gemm(false, true, n, 4*H, H, 1, f.h[t-1], H, l.wh.w, H, 1, f.g[t], 4*H)
			cPrev = f.c[t-1]
		}
		l.cell.LSTMCellForward(n, H, f.g[t], cPrev, f.c[t], f.h[t])
		l.outFused(t, f.h[t], n)
	}
	return l.y
}

func (l *lstm) backward(dy kernels.Buffer, n int) kernels.Buffer {
	if l.cell == nil {
		return l.backwardFM(dy, n)
	}
	b, f, T, H := l.nt.b, &l.f, l.inS.T, l.h
	dh := l.nt.view(l.dh, 0, n*H)
	dc := l.nt.view(f.dc, 0, n*H)
	b.Fill(dh, 0)
	b.Fill(dc, 0)
	for t := T - 1; t >= 0; t-- {
		l.seedFused(t, dy, dh, n)
		cPrev := f.zero
		if t > 0 {
			cPrev = f.c[t-1]
		}
		dg := f.dg[t]
		l.cell.LSTMCellBackward(n, H, f.g[t], cPrev, f.c[t], dh, dc, dg, dc)
		if t > 0 {
			b.Gemm(true, false, 4*H, H, n, 1, dg, 4*H, f.h[t-1], H, 1, l.wh.g, H)
			b.Gemm(false, false, n, H, 4*H, 1, dg, 4*H, l.wh.w, H, 0, dh, H)
		}
	}
	return l.finish(f, n, l.bias)
}

func (l *gru) reserve(n int) {
	if l.cell == nil {
		l.reserveFM(n)
		return
	}
	if l.reserveBase(n) {
		l.reserveFused(n, &l.f, true)
	}
}

func (l *gru) forward(x kernels.Buffer, n int, train bool) kernels.Buffer {
	if l.cell == nil {
		return l.forwardFM(x, n, train)
	}
	b, f, T, H := l.nt.b, &l.f, l.inS.T, l.h
	l.bindFused(f, x, n, true)
	l.project(f, n, l.bx)
	for t := range T {
		gh := f.gh[t]
		hPrev := f.zero
		b.Copy2D(n, 3*H, l.bh.w, 0, gh, 3*H)
		if t > 0 {
			hPrev = f.h[t-1]
			b.Gemm(false, true, n, 3*H, H, 1, hPrev, H, l.wh.w, H, 1, gh, 3*H)
		}
		l.cell.GRUCellForward(n, H, f.g[t], gh, hPrev, f.h[t])
		l.outFused(t, f.h[t], n)
	}
	return l.y
}

func (l *gru) backward(dy kernels.Buffer, n int) kernels.Buffer {
	if l.cell == nil {
		return l.backwardFM(dy, n)
	}
	b, f, T, H := l.nt.b, &l.f, l.inS.T, l.h
	dh, dh2 := l.nt.view(l.dh, 0, n*H), l.nt.view(f.dh2, 0, n*H)
	dgh := l.nt.view(f.dgh, 0, n*3*H)
	b.Fill(dh, 0)
	for t := T - 1; t >= 0; t-- {
		l.seedFused(t, dy, dh, n)
		hPrev := f.zero
		if t > 0 {
			hPrev = f.h[t-1]
		}
		l.cell.GRUCellBackward(n, H, f.g[t], f.gh[t], hPrev, dh, f.dg[t], dgh, dh2)
		b.SumRows(dgh, n, 3*H, l.bh.g, 1)
		if t > 0 {
			b.Gemm(true, false, 3*H, H, n, 1, dgh, 3*H, hPrev, H, 1, l.wh.g, H)
			b.Gemm(false, false, n, H, 3*H, 1, dgh, 3*H, l.wh.w, H, 1, dh2, H)
		}
		dh, dh2 = dh2, dh
	}
	return l.finish(f, n, l.bx)
}
