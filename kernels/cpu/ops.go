package cpu

import (
	"fmt"
	"math"

	"github.com/etchlab/etch/kernels"
)

func checkDims(op string, dims ...int) {
	for _, d := range dims {
		if d < 0 {
			panic(fmt.Sprintf("kernels/cpu: %s: negative dimension in %v", op, dims))
		}
	}
}

// Copy2D copies a rows×cols block between strided matrices.
func (be *Backend) Copy2D(rows, cols int, src kernels.Buffer, lds int, dst kernels.Buffer, ldd int) {
	checkDims("Copy2D", rows, cols)
	if rows == 0 || cols == 0 {
		return
	}
	s := need("Copy2D", "src", src, span(rows, cols, lds))
	d := need("Copy2D", "dst", dst, span(rows, cols, ldd))
	be.parallel(rows, max(1, elemGrain/cols), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			copy(d[r*ldd:r*ldd+cols], s[r*lds:r*lds+cols])
		}
	})
}

// Axpy2D adds alpha times a rows×cols block of x to y.
func (be *Backend) Axpy2D(rows, cols int, alpha float32, x kernels.Buffer, ldx int, y kernels.Buffer, ldy int) {
	checkDims("Axpy2D", rows, cols)
	if rows == 0 || cols == 0 {
		return
	}
	xs := need("Axpy2D", "x", x, span(rows, cols, ldx))
	ys := need("Axpy2D", "y", y, span(rows, cols, ldy))
	be.parallel(rows, max(1, elemGrain/cols), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			axpy(alpha, xs[r*ldx:r*ldx+cols], ys[r*ldy:r*ldy+cols])
		}
	})
}

// conv1DOut returns the output length of a 1-D convolution, panicking on invalid geometry.
func conv1DOut(op string, length, k, pad, stride int) int {
	if k < 1 || pad < 0 || stride < 1 || length < 0 || length+2*pad < k {
		panic(fmt.Sprintf("kernels/cpu: %s: invalid geometry length=%d k=%d pad=%d stride=%d", op, length, k, pad, stride))
	}
	return (length+2*pad-k)/stride + 1
}

// Im2Col1D unfolds x [batch][length][cin] into cols [batch*outLen][k*cin].
func (be *Backend) Im2Col1D(x kernels.Buffer, batch, length, cin, k, pad, stride int, cols kernels.Buffer) {
	checkDims("Im2Col1D", batch, length, cin)
	out := conv1DOut("Im2Col1D", length, k, pad, stride)
	xs := need("Im2Col1D", "x", x, batch*length*cin)
	cs := need("Im2Col1D", "cols", cols, batch*out*k*cin)
	w := k * cin
	be.parallel(batch*out, max(1, elemGrain/max(1, w)), func(lo, hi int) {
		for row := lo; row < hi; row++ {
			b, t := row/out, row%out
			dst := cs[row*w : row*w+w]
			for j := 0; j < k; j++ {
				src := t*stride + j - pad
				d := dst[j*cin : j*cin+cin]
				if src < 0 || src >= length {
					clear(d)
					continue
				}
				copy(d, xs[(b*length+src)*cin:])
			}
		}
	})
}

// Col2Im1D accumulates cols [batch*outLen][k*cin] into dx [batch][length][cin].
func (be *Backend) Col2Im1D(cols kernels.Buffer, batch, length, cin, k, pad, stride int, dx kernels.Buffer) {
	checkDims("Col2Im1D", batch, length, cin)
	out := conv1DOut("Col2Im1D", length, k, pad, stride)
	cs := need("Col2Im1D", "cols", cols, batch*out*k*cin)
	xs := need("Col2Im1D", "dx", dx, batch*length*cin)
	w := k * cin
	// Parallel over batches: each batch owns a disjoint slice of dx.
	be.parallel(batch, max(1, elemGrain/max(1, out*w)), func(lo, hi int) {
		for b := lo; b < hi; b++ {
			for t := 0; t < out; t++ {
				src := cs[(b*out+t)*w:]
				for j := 0; j < k; j++ {
					pos := t*stride + j - pad
					if pos < 0 || pos >= length {
						continue
					}
					axpy(1, src[j*cin:j*cin+cin], xs[(b*length+pos)*cin:(b*length+pos)*cin+cin])
				}
			}
		}
	})
}

// MaxPool1D max-pools x [batch][length][c] over windows of size time steps.
func (be *Backend) MaxPool1D(x kernels.Buffer, batch, length, c, size int, y kernels.Buffer, argmax kernels.Buffer) {
	checkDims("MaxPool1D", batch, length, c)
	if size < 1 {
		panic(fmt.Sprintf("kernels/cpu: MaxPool1D: size %d < 1", size))
	}
	out := length / size
	xs := need("MaxPool1D", "x", x, batch*length*c)
	ys := need("MaxPool1D", "y", y, batch*out*c)
	as := need("MaxPool1D", "argmax", argmax, batch*out*c)
	be.parallel(batch*out, max(1, elemGrain/max(1, c*size)), func(lo, hi int) {
		for row := lo; row < hi; row++ {
			b, t := row/out, row%out
			base := (b*length + t*size) * c
			yr := ys[row*c : row*c+c]
			ar := as[row*c : row*c+c]
			c0 := maxPoolFast(xs, yr, ar, c, size, base)
			copy(yr[c0:], xs[base+c0:base+c])
			for ch := c0; ch < c; ch++ {
				ar[ch] = float32(base + ch)
			}
			for j := 1; j < size; j++ {
				off := base + j*c
				xr := xs[off+c0 : off+c]
				for k, v := range xr {
					if ch := c0 + k; v > yr[ch] {
						yr[ch] = v
						ar[ch] = float32(off + ch)
					}
				}
			}
		}
	})
}

// MaxPool1DBackward zeroes dx and scatters dy into it at argmax.
func (be *Backend) MaxPool1DBackward(dy, argmax kernels.Buffer, batch, length, c, size int, dx kernels.Buffer) {
	checkDims("MaxPool1DBackward", batch, length, c)
	if size < 1 {
		panic(fmt.Sprintf("kernels/cpu: MaxPool1DBackward: size %d < 1", size))
	}
	out := length / size
	ds := need("MaxPool1DBackward", "dy", dy, batch*out*c)
	as := need("MaxPool1DBackward", "argmax", argmax, batch*out*c)
	xs := need("MaxPool1DBackward", "dx", dx, batch*length*c)
	// Parallel over batches: argmax of batch b points into batch b's part of dx.
	be.parallel(batch, max(1, elemGrain/max(1, length*c)), func(lo, hi int) {
		clear(xs[lo*length*c : hi*length*c])
		for i := lo * out * c; i < hi*out*c; i++ {
			idx := int(as[i])
			if idx < lo*length*c || idx >= hi*length*c {
				panic(fmt.Sprintf("kernels/cpu: MaxPool1DBackward: argmax %d outside its batch", idx))
			}
			xs[idx] += ds[i]
		}
	})
}

// AddBias adds bias[c] to every row of x [rows][cols].
func (be *Backend) AddBias(x kernels.Buffer, rows, cols int, bias kernels.Buffer) {
	checkDims("AddBias", rows, cols)
	xs := need("AddBias", "x", x, rows*cols)
	bs := need("AddBias", "bias", bias, cols)
	if cols == 0 {
		return
	}
	be.parallel(rows, max(1, elemGrain/cols), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			axpy(1, bs, xs[r*cols:r*cols+cols])
		}
	})
}

// SumRows computes dst[c] = beta*dst[c] + Σ_r dy[r][c].
func (be *Backend) SumRows(dy kernels.Buffer, rows, cols int, dst kernels.Buffer, beta float32) {
	checkDims("SumRows", rows, cols)
	ds := need("SumRows", "dy", dy, rows*cols)
	out := need("SumRows", "dst", dst, cols)
	if cols == 0 {
		return
	}
	// Fixed blocks of rows (independent of the thread count, so results are too) are summed in
	// parallel into partial rows, which are then added in block order.
	rb := max(64, elemGrain/cols)
	blocks := (rows + rb - 1) / rb
	partial := make([]float32, blocks*cols)
	be.parallel(blocks, 1, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			p := partial[b*cols : (b+1)*cols]
			for r := b * rb; r < min(rows, (b+1)*rb); r++ {
				axpy(1, ds[r*cols:r*cols+cols], p)
			}
		}
	})
	be.parallel(cols, elemGrain, func(lo, hi int) {
		o := out[lo:hi]
		if beta == 0 {
			clear(o)
		} else if beta != 1 {
			for j := range o {
				o[j] *= beta
			}
		}
		for b := 0; b < blocks; b++ {
			p := partial[b*cols+lo : b*cols+hi]
			for j, v := range p {
				o[j] += v
			}
		}
	})
}

// Act applies an activation elementwise.
func (be *Backend) Act(kind kernels.Activation, x, y kernels.Buffer, n int) {
	checkDims("Act", n)
	xs := need("Act", "x", x, n)
	ys := need("Act", "y", y, n)
	grain := elemGrain
	if kind == kernels.Sigmoid || kind == kernels.Tanh {
		grain = elemGrain / 8
	}
	be.parallel(n, grain, func(lo, hi int) {
		xv, yv := xs[lo:hi], ys[lo:hi]
		switch kind {
		case kernels.Identity:
			copy(yv, xv)
		case kernels.ReLU:
			for i, v := range xv {
				yv[i] = max(v, 0)
			}
		case kernels.Sigmoid:
			sigmoidSlice(yv, xv)
		case kernels.Tanh:
			tanhSlice(yv, xv)
		default:
			panic(fmt.Sprintf("kernels/cpu: Act: unknown activation %d", kind))
		}
	})
}

// ActBackward computes dx = dy*f'(x) from the output y.
func (be *Backend) ActBackward(kind kernels.Activation, y, dy, dx kernels.Buffer, n int) {
	checkDims("ActBackward", n)
	ys := need("ActBackward", "y", y, n)
	dys := need("ActBackward", "dy", dy, n)
	dxs := need("ActBackward", "dx", dx, n)
	be.parallel(n, elemGrain, func(lo, hi int) {
		yv, dyv, dxv := ys[lo:hi], dys[lo:hi], dxs[lo:hi]
		switch kind {
		case kernels.Identity:
			copy(dxv, dyv)
		case kernels.ReLU:
			// Branch-free (ReLU outputs are unpredictable): the mask is all ones exactly when the
			// bits of y are those of a positive float, i.e. sign clear and not +0.
			dyv = dyv[:len(yv)]
			dxv = dxv[:len(yv)]
			for i := reluBackFast(yv, dyv, dxv); i < len(yv); i++ {
				b := math.Float32bits(yv[i])
				mask := ^uint32(int32(b-1)>>31) & ^uint32(int32(b)>>31)
				dxv[i] = math.Float32frombits(math.Float32bits(dyv[i]) & mask)
			}
		case kernels.Sigmoid:
			for i, v := range yv {
				dxv[i] = dyv[i] * v * (1 - v)
			}
		case kernels.Tanh:
			for i, v := range yv {
				dxv[i] = dyv[i] * (1 - v*v)
			}
		default:
			panic(fmt.Sprintf("kernels/cpu: ActBackward: unknown activation %d", kind))
		}
	})
}

// Axpy computes y += alpha*x.
func (be *Backend) Axpy(n int, alpha float32, x, y kernels.Buffer) {
	checkDims("Axpy", n)
	xs := need("Axpy", "x", x, n)
	ys := need("Axpy", "y", y, n)
	be.parallel(n, elemGrain, func(lo, hi int) { axpy(alpha, xs[lo:hi], ys[lo:hi]) })
}

// axpy computes y[i] += alpha*x[i] for i < len(x).
func axpy(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i := axpyFast(alpha, x, y); i < len(x); i++ {
		y[i] += alpha * x[i]
	}
}

// Scale computes x *= alpha.
func (be *Backend) Scale(n int, alpha float32, x kernels.Buffer) {
	checkDims("Scale", n)
	xs := need("Scale", "x", x, n)
	be.parallel(n, elemGrain, func(lo, hi int) {
		s := xs[lo:hi]
		for i := range s {
			s[i] *= alpha
		}
	})
}

// Mul computes dst = a*b elementwise.
func (be *Backend) Mul(n int, a, b, dst kernels.Buffer) {
	checkDims("Mul", n)
	as := need("Mul", "a", a, n)
	bs := need("Mul", "b", b, n)
	ds := need("Mul", "dst", dst, n)
	be.parallel(n, elemGrain, func(lo, hi int) {
		av, bv, dv := as[lo:hi], bs[lo:hi], ds[lo:hi]
		for i := mulFast(av, bv, dv); i < len(dv); i++ {
			dv[i] = av[i] * bv[i]
		}
	})
}

// softmaxRow writes the softmax of in into out (may alias) and returns log Σ exp(in - max) and max.
func softmaxRow(in, out []float32) (logSum, mx float32) {
	mx = in[0]
	for _, v := range in[1:] {
		mx = max(mx, v)
	}
	for i, v := range in {
		out[i] = v - mx
	}
	expSlice(out, out)
	var sum float64
	for _, e := range out {
		sum += float64(e)
	}
	inv := float32(1 / sum)
	for i := range out {
		out[i] *= inv
	}
	return float32(math.Log(sum)), mx
}

// Softmax computes row-wise softmax.
func (be *Backend) Softmax(logits kernels.Buffer, rows, classes int, probs kernels.Buffer) {
	checkDims("Softmax", rows, classes)
	if classes == 0 {
		return
	}
	ls := need("Softmax", "logits", logits, rows*classes)
	ps := need("Softmax", "probs", probs, rows*classes)
	be.parallel(rows, max(1, elemGrain/8/classes), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			softmaxRow(ls[r*classes:r*classes+classes], ps[r*classes:r*classes+classes])
		}
	})
}

// SoftmaxXent computes softmax probabilities, the weighted mean cross-entropy and its gradient.
func (be *Backend) SoftmaxXent(logits kernels.Buffer, rows, classes int, labels kernels.Buffer, weights kernels.Buffer, probs, dlogits kernels.Buffer) float32 {
	checkDims("SoftmaxXent", rows, classes)
	if rows == 0 {
		return 0
	}
	if classes < 1 {
		panic("kernels/cpu: SoftmaxXent: no classes")
	}
	ls := need("SoftmaxXent", "logits", logits, rows*classes)
	ys := need("SoftmaxXent", "labels", labels, rows)
	var ws []float32
	if weights != nil {
		ws = need("SoftmaxXent", "weights", weights, rows)
	}
	ps := need("SoftmaxXent", "probs", probs, rows*classes)
	ds := need("SoftmaxXent", "dlogits", dlogits, rows*classes)
	var sumW float64
	if ws == nil {
		sumW = float64(rows)
	} else {
		for _, w := range ws {
			sumW += float64(w)
		}
	}
	if sumW == 0 {
		clear(ds)
		be.Softmax(logits, rows, classes, probs)
		return 0
	}
	scale := float32(1 / sumW)
	for r := 0; r < rows; r++ {
		y := int(ys[r])
		if y < 0 || y >= classes || float32(y) != ys[r] {
			panic(fmt.Sprintf("kernels/cpu: SoftmaxXent: label %v of row %d outside [0, %d)", ys[r], r, classes))
		}
	}
	// Loss partials over fixed blocks of rows, summed in block order: the result does not depend
	// on the thread count.
	const rb = 256
	blocks := (rows + rb - 1) / rb
	partial := make([]float64, blocks)
	be.parallel(blocks, max(1, elemGrain/8/(rb*classes)), func(blo, bhi int) {
		for blk := blo; blk < bhi; blk++ {
			lo, hi := blk*rb, min(rows, (blk+1)*rb)
			var loss float64
			for r := lo; r < hi; r++ {
				in := ls[r*classes : r*classes+classes]
				p := ps[r*classes : r*classes+classes]
				d := ds[r*classes : r*classes+classes]
				logSum, mx := softmaxRow(in, p)
				y := int(ys[r])
				w := float32(1)
				if ws != nil {
					w = ws[r]
				}
				loss += float64(w) * float64(logSum-(in[y]-mx))
				g := w * scale
				for i, pv := range p {
					d[i] = g * pv
				}
				d[y] -= g
			}
			partial[blk] = loss
		}
	})
	var loss float64
	for _, l := range partial {
		loss += l
	}
	return float32(loss / sumW)
}

// DropoutMask writes an inverted-dropout mask from the counter-based generator.
func (be *Backend) DropoutMask(n int, p float32, seed, step uint64, mask kernels.Buffer) {
	checkDims("DropoutMask", n)
	if !(p >= 0 && p < 1) {
		panic(fmt.Sprintf("kernels/cpu: DropoutMask: p=%v outside [0, 1)", p))
	}
	ms := need("DropoutMask", "mask", mask, n)
	key := kernels.StreamKey(seed, step)
	keep := 1 / (1 - p)
	be.parallel(n, elemGrain/4, func(lo, hi int) {
		for i := lo + dropoutFast(ms[lo:hi], key, uint64(lo), p, keep); i < hi; i++ {
			if kernels.Uniform(key, uint64(i)) >= p {
				ms[i] = keep
			} else {
				ms[i] = 0
			}
		}
	})
}

// SumSquares returns Σ x[i]² accumulated in float64.
func (be *Backend) SumSquares(x kernels.Buffer, n int) float32 {
	checkDims("SumSquares", n)
	xs := need("SumSquares", "x", x, n)
	// Fixed blocks, summed in order: the result does not depend on the thread count.
	blocks := (n + elemGrain - 1) / elemGrain
	partial := make([]float64, blocks)
	be.parallel(blocks, 1, func(blo, bhi int) {
		for b := blo; b < bhi; b++ {
			var s float64
			for _, v := range xs[b*elemGrain : min(n, (b+1)*elemGrain)] {
				s += float64(v) * float64(v)
			}
			partial[b] = s
		}
	})
	var s float64
	for _, p := range partial {
		s += p
	}
	return float32(s)
}
