package nn

import "github.com/etchlab/etch/kernels"

// Batch-major recurrent layers on a backend's fused cells (kernels.LSTMCeller, kernels.GRUCeller).
// The input projections of all time steps are one GEMM ([n·T][I] × Wxᵀ), the per-step work is
// a strided copy of the step's projections, one recurrent GEMM and the fused cell; backward
// collects the gate gradients of all steps and finishes with two big GEMMs (dWx, dx). Parameters
// are the same tensors as the feature-major path, so models move freely between backends.

// fusedBufs are the per-layer workspaces of the fused path. Step t's slices live at t·maxN·width
// so that views are made once.
type fusedBufs struct {
	xp     kernels.Buffer   // [n·T][G·H] input projections (+ input bias)
	g      []kernels.Buffer // per step gates [n][G·H] (LSTM: activated; GRU: gx activated)
	gh     []kernels.Buffer // GRU: per step recurrent pre-activations [n][3H]
	c      []kernels.Buffer // LSTM: per step cell state [n][H]
	hs     []kernels.Buffer // per step hidden state [n][H]
	xpt    []kernels.Buffer // strided views of xp per step
	dxpt   []kernels.Buffer // strided views of dxp per step
	zero   kernels.Buffer   // [n][H] zeros (h_{-1}, c_{-1})
	dg     kernels.Buffer   // [n][G·H]
	dgh    kernels.Buffer   // GRU [n][3H]
	dc     kernels.Buffer   // LSTM [n][H]
	dh2    kernels.Buffer   // [n][H] second running-gradient buffer
	dxp    kernels.Buffer   // [n·T][G·H]
	stride int
}

func (l *rnnBase) reserveFused(n int, f *fusedBufs, gru bool) {
	T, H, G := l.inS.T, l.h, l.gates
	nt := l.nt
	f.stride = n
	f.xp, f.dxp = nt.alloc(n*T*G*H), nt.alloc(n*T*G*H)
	gs, hs := nt.alloc(T*n*G*H), nt.alloc(T*n*H)
	f.g, f.hs, f.xpt, f.dxpt = make([]kernels.Buffer, T), make([]kernels.Buffer, T), make([]kernels.Buffer, T), make([]kernels.Buffer, T)
	var cs, ghs kernels.Buffer
	if gru {
		ghs = nt.alloc(T * n * G * H)
		f.gh = make([]kernels.Buffer, T)
		f.dgh = nt.alloc(n * G * H)
	} else {
		cs = nt.alloc(T * n * H)
		f.c = make([]kernels.Buffer, T)
		f.dc = nt.alloc(n * H)
	}
	for t := range T {
		f.g[t] = nt.view(gs, t*n*G*H, n*G*H)
		f.hs[t] = nt.view(hs, t*n*H, n*H)
		f.xpt[t] = nt.view(f.xp, t*G*H, stridedLen(n, G*H, T*G*H))
		f.dxpt[t] = nt.view(f.dxp, t*G*H, stridedLen(n, G*H, T*G*H))
		if gru {
			f.gh[t] = nt.view(ghs, t*n*G*H, n*G*H)
		} else {
			f.c[t] = nt.view(cs, t*n*H, n*H)
		}
	}
	f.zero, f.dg, f.dh2 = nt.alloc(n*H), nt.alloc(n*G*H), nt.alloc(n*H)
}

// project computes xp = x·Wxᵀ (+ bias) for all n·T rows.
func (l *rnnBase) project(f *fusedBufs, x kernels.Buffer, n int, bias *param) {
	T, I, GH := l.inS.T, l.inS.C, l.gates*l.h
	l.x = x
	l.nt.b.Gemm(false, true, n*T, GH, I, 1, x, I, l.wx.w, I, 0, f.xp, GH)
	l.nt.b.AddBias(f.xp, n*T, GH, bias.w)
}

// finish accumulates dWx and the input bias gradient and computes dx from the collected
// projection gradients.
func (l *rnnBase) finish(f *fusedBufs, n int, bias *param) kernels.Buffer {
	b := l.nt.b
	T, I, GH := l.inS.T, l.inS.C, l.gates*l.h
	b.Gemm(true, false, GH, I, n*T, 1, f.dxp, GH, l.x, I, 1, l.wx.g, I)
	b.SumRows(f.dxp, n*T, GH, bias.g, 1)
	if !l.needDx {
		return nil
	}
	b.Gemm(false, false, n*T, I, GH, 1, f.dxp, GH, l.wx.w, I, 0, l.dx, I)
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

// out emits step t's hidden state into the batch-major output.
func (l *rnnBase) outFused(t int, h kernels.Buffer, n int) {
	H, T := l.h, l.inS.T
	if l.seqOut {
		l.nt.b.Copy2D(n, H, h, H, l.yt[t], T*H)
	} else if t == T-1 {
		l.nt.b.Copy(l.nt.view(l.y, 0, n*H), l.nt.view(h, 0, n*H))
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
	l.project(f, x, n, l.bias)
	for t := range T {
		g := f.g[t]
		b.Copy2D(n, 4*H, f.xpt[t], T*4*H, g, 4*H)
		cPrev := f.zero
		if t > 0 {
			b.Gemm(false, true, n, 4*H, H, 1, f.hs[t-1], H, l.wh.w, H, 1, g, 4*H)
			cPrev = f.c[t-1]
		}
		l.cell.LSTMCellForward(n, H, g, cPrev, f.c[t], f.hs[t])
		l.outFused(t, f.hs[t], n)
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
	dg := l.nt.view(f.dg, 0, n*4*H)
	b.Fill(dh, 0)
	b.Fill(dc, 0)
	for t := T - 1; t >= 0; t-- {
		l.seedFused(t, dy, dh, n)
		cPrev := f.zero
		if t > 0 {
			cPrev = f.c[t-1]
		}
		l.cell.LSTMCellBackward(n, H, f.g[t], cPrev, f.c[t], dh, dc, dg, dc)
		b.Copy2D(n, 4*H, dg, 4*H, f.dxpt[t], T*4*H)
		if t > 0 {
			b.Gemm(true, false, 4*H, H, n, 1, dg, 4*H, f.hs[t-1], H, 1, l.wh.g, H)
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
	l.project(f, x, n, l.bx)
	for t := range T {
		gx, gh := f.g[t], f.gh[t]
		b.Copy2D(n, 3*H, f.xpt[t], T*3*H, gx, 3*H)
		hPrev := f.zero
		if t > 0 {
			hPrev = f.hs[t-1]
			b.Gemm(false, true, n, 3*H, H, 1, hPrev, H, l.wh.w, H, 0, gh, 3*H)
		} else {
			b.Fill(l.nt.view(gh, 0, n*3*H), 0)
		}
		b.AddBias(gh, n, 3*H, l.bh.w)
		l.cell.GRUCellForward(n, H, gx, gh, hPrev, f.hs[t])
		l.outFused(t, f.hs[t], n)
	}
	return l.y
}

func (l *gru) backward(dy kernels.Buffer, n int) kernels.Buffer {
	if l.cell == nil {
		return l.backwardFM(dy, n)
	}
	b, f, T, H := l.nt.b, &l.f, l.inS.T, l.h
	dh, dh2 := l.nt.view(l.dh, 0, n*H), l.nt.view(f.dh2, 0, n*H)
	dgx, dgh := l.nt.view(f.dg, 0, n*3*H), l.nt.view(f.dgh, 0, n*3*H)
	b.Fill(dh, 0)
	for t := T - 1; t >= 0; t-- {
		l.seedFused(t, dy, dh, n)
		hPrev := f.zero
		if t > 0 {
			hPrev = f.hs[t-1]
		}
		l.cell.GRUCellBackward(n, H, f.g[t], f.gh[t], hPrev, dh, dgx, dgh, dh2)
		b.Copy2D(n, 3*H, dgx, 3*H, f.dxpt[t], T*3*H)
		b.SumRows(dgh, n, 3*H, l.bh.g, 1)
		if t > 0 {
			b.Gemm(true, false, 3*H, H, n, 1, dgh, 3*H, hPrev, H, 1, l.wh.g, H)
			b.Gemm(false, false, n, H, 3*H, 1, dgh, 3*H, l.wh.w, H, 1, dh2, H)
		}
		dh, dh2 = dh2, dh
	}
	return l.finish(f, n, l.bx)
}
