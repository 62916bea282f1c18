//go:build cuda || cudaemu

package cuda

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/etchlab/etch/kernels"
)

// Copy2D copies a rows×cols block between strided buffers.
func (be *Backend) Copy2D(rows, cols int, src kernels.Buffer, lds int, dst kernels.Buffer, ldd int) {
	checkDims("Copy2D", rows, cols)
	if rows == 0 || cols == 0 {
		return
	}
	s := be.dev("Copy2D", "src", src, span(rows, cols, lds))
	d := be.dev("Copy2D", "dst", dst, span(rows, cols, ldd))
	be.launch("Copy2D", "copy2d", rows*cols, rows, cols, s, lds, d, ldd)
}

// Axpy2D adds alpha times a strided block to another.
func (be *Backend) Axpy2D(rows, cols int, alpha float32, x kernels.Buffer, ldx int, y kernels.Buffer, ldy int) {
	checkDims("Axpy2D", rows, cols)
	if rows == 0 || cols == 0 {
		return
	}
	xs := be.dev("Axpy2D", "x", x, span(rows, cols, ldx))
	ys := be.dev("Axpy2D", "y", y, span(rows, cols, ldy))
	be.launch("Axpy2D", "axpy2d", rows*cols, rows, cols, alpha, xs, ldx, ys, ldy)
}

func conv1DOut(op string, length, k, pad, stride int) int {
	if k < 1 || pad < 0 || stride < 1 || length < 0 || length+2*pad < k {
		panic(fmt.Sprintf("kernels/cuda: %s: invalid geometry length=%d k=%d pad=%d stride=%d", op, length, k, pad, stride))
	}
	return (length+2*pad-k)/stride + 1
}

// Im2Col1D unfolds x [batch][length][cin] into cols [batch*outLen][k*cin].
func (be *Backend) Im2Col1D(x kernels.Buffer, batch, length, cin, k, pad, stride int, cols kernels.Buffer) {
	checkDims("Im2Col1D", batch, length, cin)
	out := conv1DOut("Im2Col1D", length, k, pad, stride)
	xs := be.dev("Im2Col1D", "x", x, batch*length*cin)
	cs := be.dev("Im2Col1D", "cols", cols, batch*out*k*cin)
	be.launch("Im2Col1D", "im2col1d", batch*out*k*cin, xs, batch, length, cin, k, pad, stride, out, cs)
}

// Col2Im1D accumulates cols into dx (the adjoint of Im2Col1D), one thread per dx element.
func (be *Backend) Col2Im1D(cols kernels.Buffer, batch, length, cin, k, pad, stride int, dx kernels.Buffer) {
	checkDims("Col2Im1D", batch, length, cin)
	out := conv1DOut("Col2Im1D", length, k, pad, stride)
	cs := be.dev("Col2Im1D", "cols", cols, batch*out*k*cin)
	xs := be.dev("Col2Im1D", "dx", dx, batch*length*cin)
	be.launch("Col2Im1D", "col2im1d", batch*length*cin, cs, batch, length, cin, k, pad, stride, out, xs)
}

// MaxPool1D pools non-overlapping windows and records float-encoded argmax indices.
func (be *Backend) MaxPool1D(x kernels.Buffer, batch, length, c, size int, y kernels.Buffer, argmax kernels.Buffer) {
	checkDims("MaxPool1D", batch, length, c)
	if size < 1 {
		panic(fmt.Sprintf("kernels/cuda: MaxPool1D: size %d < 1", size))
	}
	out := length / size
	xs := be.dev("MaxPool1D", "x", x, batch*length*c)
	ys := be.dev("MaxPool1D", "y", y, batch*out*c)
	as := be.dev("MaxPool1D", "argmax", argmax, batch*out*c)
	be.launch("MaxPool1D", "maxpool1d", batch*out*c, xs, batch, length, c, size, out, ys, as)
}

// MaxPool1DBackward writes dx: dy at each window's argmax, zero elsewhere (a gather, since the
// windows do not overlap; an argmax outside its window, which MaxPool1D never writes, is ignored).
func (be *Backend) MaxPool1DBackward(dy, argmax kernels.Buffer, batch, length, c, size int, dx kernels.Buffer) {
	checkDims("MaxPool1DBackward", batch, length, c)
	if size < 1 {
		panic(fmt.Sprintf("kernels/cuda: MaxPool1DBackward: size %d < 1", size))
	}
	out := length / size
	ds := be.dev("MaxPool1DBackward", "dy", dy, batch*out*c)
	as := be.dev("MaxPool1DBackward", "argmax", argmax, batch*out*c)
	xs := be.dev("MaxPool1DBackward", "dx", dx, batch*length*c)
	be.launch("MaxPool1DBackward", "maxpool1d_backward", batch*length*c, ds, as, batch, length, c, size, out, xs)
}

// AddBias adds bias[c] to every row of x.
func (be *Backend) AddBias(x kernels.Buffer, rows, cols int, bias kernels.Buffer) {
	checkDims("AddBias", rows, cols)
	xs := be.dev("AddBias", "x", x, rows*cols)
	bs := be.dev("AddBias", "bias", bias, cols)
	be.launch("AddBias", "add_bias", rows*cols, xs, rows, cols, bs)
}

// SumRows computes dst[c] = beta*dst[c] + Σ_r dy[r][c] (one block per column, double sums).
func (be *Backend) SumRows(dy kernels.Buffer, rows, cols int, dst kernels.Buffer, beta float32) {
	checkDims("SumRows", rows, cols)
	ds := be.dev("SumRows", "dy", dy, rows*cols)
	out := be.dev("SumRows", "dst", dst, cols)
	if cols == 0 {
		return
	}
	be.launchGrid("SumRows", "sum_rows", cols, ds, rows, cols, out, beta)
}

func checkAct(op string, kind kernels.Activation) {
	if kind < kernels.Identity || kind > kernels.Tanh {
		panic(fmt.Sprintf("kernels/cuda: %s: unknown activation %d", op, kind))
	}
}

// Act computes y = f(x) elementwise.
func (be *Backend) Act(kind kernels.Activation, x, y kernels.Buffer, n int) {
	checkDims("Act", n)
	checkAct("Act", kind)
	xs := be.dev("Act", "x", x, n)
	ys := be.dev("Act", "y", y, n)
	be.launch("Act", "act", n, int(kind), xs, ys, n)
}

// ActBackward computes dx = dy * f'(x) from the output y.
func (be *Backend) ActBackward(kind kernels.Activation, y, dy, dx kernels.Buffer, n int) {
	checkDims("ActBackward", n)
	checkAct("ActBackward", kind)
	ys := be.dev("ActBackward", "y", y, n)
	dys := be.dev("ActBackward", "dy", dy, n)
	dxs := be.dev("ActBackward", "dx", dx, n)
	be.launch("ActBackward", "act_backward", n, int(kind), ys, dys, dxs, n)
}

// Axpy computes y += alpha*x.
func (be *Backend) Axpy(n int, alpha float32, x, y kernels.Buffer) {
	checkDims("Axpy", n)
	xs := be.dev("Axpy", "x", x, n)
	ys := be.dev("Axpy", "y", y, n)
	be.launch("Axpy", "axpy", n, n, alpha, xs, ys)
}

// Scale computes x *= alpha.
func (be *Backend) Scale(n int, alpha float32, x kernels.Buffer) {
	checkDims("Scale", n)
	xs := be.dev("Scale", "x", x, n)
	be.launch("Scale", "scale", n, n, alpha, xs)
}

// Mul computes dst = a*b elementwise.
func (be *Backend) Mul(n int, a, b, dst kernels.Buffer) {
	checkDims("Mul", n)
	as := be.dev("Mul", "a", a, n)
	bs := be.dev("Mul", "b", b, n)
	ds := be.dev("Mul", "dst", dst, n)
	be.launch("Mul", "mul", n, n, as, bs, ds)
}

// Softmax writes the row-wise softmax of logits into probs.
func (be *Backend) Softmax(logits kernels.Buffer, rows, classes int, probs kernels.Buffer) {
	checkDims("Softmax", rows, classes)
	if classes == 0 {
		return
	}
	ls := be.dev("Softmax", "logits", logits, rows*classes)
	ps := be.dev("Softmax", "probs", probs, rows*classes)
	be.launch("Softmax", "softmax", rows, ls, rows, classes, ps)
}

// SoftmaxXent computes probs, the weighted mean cross-entropy and its gradient. The per-row
// losses come back to the host and are summed in float64 (synchronising).
func (be *Backend) SoftmaxXent(logits kernels.Buffer, rows, classes int, labels kernels.Buffer, weights kernels.Buffer, probs, dlogits kernels.Buffer) float32 {
	checkDims("SoftmaxXent", rows, classes)
	if rows == 0 {
		return 0
	}
	if classes < 1 {
		panic("kernels/cuda: SoftmaxXent: no classes")
	}
	ls := be.dev("SoftmaxXent", "logits", logits, rows*classes)
	ys := be.dev("SoftmaxXent", "labels", labels, rows)
	ps := be.dev("SoftmaxXent", "probs", probs, rows*classes)
	ds := be.dev("SoftmaxXent", "dlogits", dlogits, rows*classes)
	sumW := float64(rows)
	var wArg arg
	if weights != nil {
		ws := be.dev("SoftmaxXent", "weights", weights, rows)
		w := make([]float32, rows)
		be.Download(w, ws)
		sumW = 0
		for _, v := range w {
			sumW += float64(v)
		}
		wArg = ws
	}
	if sumW == 0 {
		be.Fill(be.View(ds, 0, rows*classes), 0)
		be.Softmax(logits, rows, classes, probs)
		return 0
	}
	scale := float32(1 / sumW)
	host := make([]float32, 2*rows)
	be.do("SoftmaxXent", func(d driver) error {
		scr, err := be.scratchLocked(d, int64(8*rows))
		if err != nil {
			return err
		}
		rowloss, rowbad := scr, scr+uint64(4*rows)
		vals := params("SoftmaxXent", "softmax_xent", []arg{ls, rows, classes, ys, wArg, ps, ds, scale, rowloss, rowbad})
		if err := d.launch("softmax_xent", grid(rows), blockSize, vals); err != nil {
			return err
		}
		return d.dtoh(unsafe.Pointer(&host[0]), scr, int64(8*rows))
	})
	if err := be.Err(); err != nil {
		return float32(math.NaN())
	}
	var loss float64
	for r := 0; r < rows; r++ {
		if host[rows+r] != 0 {
			lab := make([]float32, 1)
			be.Download(lab, be.View(ys, r, 1))
			panic(fmt.Sprintf("kernels/cuda: SoftmaxXent: label %v of row %d outside [0, %d)", lab[0], r, classes))
		}
		loss += float64(host[r])
	}
	return float32(loss / sumW)
}

// DropoutMask writes the inverted-dropout mask with the counter-based generator shared with the
// CPU backend (kernels.DropoutUniform), so both produce the same bits.
func (be *Backend) DropoutMask(n int, p float32, seed, step uint64, mask kernels.Buffer) {
	checkDims("DropoutMask", n)
	if !(p >= 0 && p < 1) {
		panic(fmt.Sprintf("kernels/cuda: DropoutMask: p=%v outside [0, 1)", p))
	}
	ms := be.dev("DropoutMask", "mask", mask, n)
	keep := 1 / (1 - p)
	be.launch("DropoutMask", "dropout_mask", n, n, p, keep, kernels.StreamKey(seed, step), ms)
}

// BatchNormForward normalises x per column (see kernels.Backend), one block per column.
func (be *Backend) BatchNormForward(x kernels.Buffer, rows, cols int, gamma, beta kernels.Buffer, eps float32, training bool, momentum float32,
	runMean, runVar kernels.Buffer, y kernels.Buffer, saveMean, saveInvStd kernels.Buffer) {
	const op = "BatchNormForward"
	checkDims(op, rows, cols)
	xs := be.dev(op, "x", x, rows*cols)
	ys := be.dev(op, "y", y, rows*cols)
	gs := be.dev(op, "gamma", gamma, cols)
	bs := be.dev(op, "beta", beta, cols)
	rm := be.dev(op, "runMean", runMean, cols)
	rv := be.dev(op, "runVar", runVar, cols)
	var sm, si arg
	tr := 0
	if training {
		if rows == 0 {
			panic("kernels/cuda: BatchNormForward: training on zero rows")
		}
		sm = be.dev(op, "saveMean", saveMean, cols)
		si = be.dev(op, "saveInvStd", saveInvStd, cols)
		tr = 1
	}
	if cols == 0 {
		return
	}
	be.launchGrid(op, "batchnorm_forward", cols, xs, rows, cols, gs, bs, eps, tr, momentum, rm, rv, ys, sm, si)
}

// BatchNormBackward computes dx, dgamma and dbeta of a training-mode forward.
func (be *Backend) BatchNormBackward(x, dy kernels.Buffer, rows, cols int, gamma, saveMean, saveInvStd kernels.Buffer, dx, dgamma, dbeta kernels.Buffer) {
	const op = "BatchNormBackward"
	checkDims(op, rows, cols)
	xs := be.dev(op, "x", x, rows*cols)
	dys := be.dev(op, "dy", dy, rows*cols)
	dxs := be.dev(op, "dx", dx, rows*cols)
	gs := be.dev(op, "gamma", gamma, cols)
	sm := be.dev(op, "saveMean", saveMean, cols)
	si := be.dev(op, "saveInvStd", saveInvStd, cols)
	dg := be.dev(op, "dgamma", dgamma, cols)
	db := be.dev(op, "dbeta", dbeta, cols)
	if cols == 0 {
		return
	}
	if rows == 0 {
		be.Fill(be.View(dg, 0, cols), 0)
		be.Fill(be.View(db, 0, cols), 0)
		return
	}
	be.launchGrid(op, "batchnorm_backward", cols, xs, dys, rows, cols, gs, sm, si, dxs, dg, db)
}

// SumSquares returns Σ x[i]² (per-block double partial sums, added on the host).
func (be *Backend) SumSquares(x kernels.Buffer, n int) float32 {
	checkDims("SumSquares", n)
	xs := be.dev("SumSquares", "x", x, n)
	if n == 0 {
		return 0
	}
	blocks := min((n+blockSize-1)/blockSize, 1024)
	partial := make([]float64, blocks)
	be.do("SumSquares", func(d driver) error {
		scr, err := be.scratchLocked(d, int64(8*blocks))
		if err != nil {
			return err
		}
		if err := d.launch("sum_squares", blocks, blockSize, params("SumSquares", "sum_squares", []arg{xs, n, scr})); err != nil {
			return err
		}
		return d.dtoh(unsafe.Pointer(&partial[0]), scr, int64(8*blocks))
	})
	if be.Err() != nil {
		return float32(math.NaN())
	}
	var s float64
	for _, p := range partial {
		s += p
	}
	return float32(s)
}

// LSTMCellForward activates the gates in place and computes c and h (see kernels.LSTMCeller).
func (be *Backend) LSTMCellForward(batch, hidden int, gates, cPrev, c, h kernels.Buffer) {
	const op = "LSTMCellForward"
	checkDims(op, batch, hidden)
	gs := be.dev(op, "gates", gates, batch*4*hidden)
	cp := be.dev(op, "cPrev", cPrev, batch*hidden)
	cs := be.dev(op, "c", c, batch*hidden)
	hs := be.dev(op, "h", h, batch*hidden)
	be.launch(op, "lstm_forward", batch*hidden, batch, hidden, gs, cp, cs, hs)
}

// LSTMCellBackward computes dGates and dcPrev (dc nil means zero).
func (be *Backend) LSTMCellBackward(batch, hidden int, gates, cPrev, c, dh, dc kernels.Buffer, dGates, dcPrev kernels.Buffer) {
	const op = "LSTMCellBackward"
	checkDims(op, batch, hidden)
	H := hidden
	gs := be.dev(op, "gates", gates, batch*4*H)
	cp := be.dev(op, "cPrev", cPrev, batch*H)
	cs := be.dev(op, "c", c, batch*H)
	dhs := be.dev(op, "dh", dh, batch*H)
	var dcs arg
	if dc != nil {
		dcs = be.dev(op, "dc", dc, batch*H)
	}
	dg := be.dev(op, "dGates", dGates, batch*4*H)
	dcp := be.dev(op, "dcPrev", dcPrev, batch*H)
	be.launch(op, "lstm_backward", batch*H, batch, H, gs, cp, cs, dhs, dcs, dg, dcp)
}

// GRUCellForward computes the GRU cell (see kernels.GRUCeller).
func (be *Backend) GRUCellForward(batch, hidden int, gx, gh, hPrev, h kernels.Buffer) {
	const op = "GRUCellForward"
	checkDims(op, batch, hidden)
	H := hidden
	xs := be.dev(op, "gx", gx, batch*3*H)
	hs := be.dev(op, "gh", gh, batch*3*H)
	hp := be.dev(op, "hPrev", hPrev, batch*H)
	out := be.dev(op, "h", h, batch*H)
	be.launch(op, "gru_forward", batch*H, batch, H, xs, hs, hp, out)
}

// GRUCellBackward computes dgx, dgh and the direct part of dhPrev.
func (be *Backend) GRUCellBackward(batch, hidden int, gx, gh, hPrev, dh kernels.Buffer, dgx, dgh, dhPrev kernels.Buffer) {
	const op = "GRUCellBackward"
	checkDims(op, batch, hidden)
	H := hidden
	xs := be.dev(op, "gx", gx, batch*3*H)
	hs := be.dev(op, "gh", gh, batch*3*H)
	hp := be.dev(op, "hPrev", hPrev, batch*H)
	dhs := be.dev(op, "dh", dh, batch*H)
	dx := be.dev(op, "dgx", dgx, batch*3*H)
	dgs := be.dev(op, "dgh", dgh, batch*3*H)
	dhp := be.dev(op, "dhPrev", dhPrev, batch*H)
	be.launch(op, "gru_backward", batch*H, batch, H, xs, hs, hp, dhs, dx, dgs, dhp)
}

// AdamStep applies one Adam update (see kernels.AdamStepper).
func (be *Backend) AdamStep(n int, param, grad, m, v kernels.Buffer, lr, beta1, beta2, eps, weightDecay float32, t int) {
	const op = "AdamStep"
	checkDims(op, n)
	if t < 1 {
		panic(fmt.Sprintf("kernels/cuda: AdamStep: step t=%d < 1", t))
	}
	ps := be.dev(op, "param", param, n)
	gs := be.dev(op, "grad", grad, n)
	ms := be.dev(op, "m", m, n)
	vs := be.dev(op, "v", v, n)
	c1 := float32(1 / (1 - math.Pow(float64(beta1), float64(t))))
	c2 := float32(1 / (1 - math.Pow(float64(beta2), float64(t))))
	be.launch(op, "adam_step", n, n, ps, gs, ms, vs, lr, beta1, beta2, eps, weightDecay, c1, c2)
}
