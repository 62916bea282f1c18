package cpu

import (
	"fmt"
	"math"

	"github.com/etchlab/etch/kernels"
)

// BatchNormForward normalises x [rows][cols] per column (see kernels.Backend).
func (be *Backend) BatchNormForward(x kernels.Buffer, rows, cols int, gamma, beta kernels.Buffer, eps float32, training bool, momentum float32,
	runMean, runVar kernels.Buffer, y kernels.Buffer, saveMean, saveInvStd kernels.Buffer) {
	checkDims("BatchNormForward", rows, cols)
	xs := need("BatchNormForward", "x", x, rows*cols)
	ys := need("BatchNormForward", "y", y, rows*cols)
	gs := need("BatchNormForward", "gamma", gamma, cols)
	bs := need("BatchNormForward", "beta", beta, cols)
	rm := need("BatchNormForward", "runMean", runMean, cols)
	rv := need("BatchNormForward", "runVar", runVar, cols)
	var sm, si []float32
	if training {
		if rows == 0 {
			panic("kernels/cpu: BatchNormForward: training on zero rows")
		}
		sm = need("BatchNormForward", "saveMean", saveMean, cols)
		si = need("BatchNormForward", "saveInvStd", saveInvStd, cols)
	}
	be.parallel(cols, 64, func(lo, hi int) {
		var meanBuf, invBuf [64]float32
		for c0 := lo; c0 < hi; c0 += 64 {
			c1 := min(c0+64, hi)
			w := c1 - c0
			mean, inv := meanBuf[:w], invBuf[:w]
			if training {
				var sum, sq [64]float64
				for r := 0; r < rows; r++ {
					row := xs[r*cols+c0 : r*cols+c1]
					for j, v := range row {
						sum[j] += float64(v)
					}
				}
				for j := range mean {
					mean[j] = float32(sum[j] / float64(rows))
				}
				for r := 0; r < rows; r++ {
					row := xs[r*cols+c0 : r*cols+c1]
					for j, v := range row {
						d := float64(v - mean[j])
						sq[j] += d * d
					}
				}
				for j := range inv {
					v := sq[j] / float64(rows)
					inv[j] = float32(1 / math.Sqrt(v+float64(eps)))
					sm[c0+j], si[c0+j] = mean[j], inv[j]
					unbiased := v
					if rows > 1 {
						unbiased = sq[j] / float64(rows-1)
					}
					rm[c0+j] = (1-momentum)*rm[c0+j] + momentum*mean[j]
					rv[c0+j] = (1-momentum)*rv[c0+j] + momentum*float32(unbiased)
				}
			} else {
				for j := range mean {
					mean[j] = rm[c0+j]
					inv[j] = float32(1 / math.Sqrt(float64(rv[c0+j])+float64(eps)))
				}
			}
			g, b := gs[c0:c1], bs[c0:c1]
			for r := 0; r < rows; r++ {
				in := xs[r*cols+c0 : r*cols+c1]
				out := ys[r*cols+c0 : r*cols+c1]
				for j, v := range in {
					out[j] = g[j]*(v-mean[j])*inv[j] + b[j]
				}
			}
		}
	})
}

// BatchNormBackward computes dx, dgamma and dbeta of a training-mode batch normalisation.
func (be *Backend) BatchNormBackward(x, dy kernels.Buffer, rows, cols int, gamma, saveMean, saveInvStd kernels.Buffer, dx, dgamma, dbeta kernels.Buffer) {
	checkDims("BatchNormBackward", rows, cols)
	xs := need("BatchNormBackward", "x", x, rows*cols)
	dys := need("BatchNormBackward", "dy", dy, rows*cols)
	dxs := need("BatchNormBackward", "dx", dx, rows*cols)
	gs := need("BatchNormBackward", "gamma", gamma, cols)
	sm := need("BatchNormBackward", "saveMean", saveMean, cols)
	si := need("BatchNormBackward", "saveInvStd", saveInvStd, cols)
	dg := need("BatchNormBackward", "dgamma", dgamma, cols)
	db := need("BatchNormBackward", "dbeta", dbeta, cols)
	if rows == 0 {
		clear(dg)
		clear(db)
		return
	}
	n := float32(rows)
	be.parallel(cols, 64, func(lo, hi int) {
		for c0 := lo; c0 < hi; c0 += 64 {
			c1 := min(c0+64, hi)
			var sdy, sdyx [64]float64
			mean, inv := sm[c0:c1], si[c0:c1]
			for r := 0; r < rows; r++ {
				xr := xs[r*cols+c0 : r*cols+c1]
				dr := dys[r*cols+c0 : r*cols+c1]
				for j, v := range xr {
					d := dr[j]
					sdy[j] += float64(d)
					sdyx[j] += float64(d * (v - mean[j]) * inv[j])
				}
			}
			var k1, k2 [64]float32
			for j := 0; j < c1-c0; j++ {
				db[c0+j] = float32(sdy[j])
				dg[c0+j] = float32(sdyx[j])
				k1[j] = gs[c0+j] * inv[j] / n
				k2[j] = float32(sdy[j])
			}
			for r := 0; r < rows; r++ {
				xr := xs[r*cols+c0 : r*cols+c1]
				dr := dys[r*cols+c0 : r*cols+c1]
				out := dxs[r*cols+c0 : r*cols+c1]
				for j, v := range xr {
					xhat := (v - mean[j]) * inv[j]
					out[j] = k1[j] * (n*dr[j] - k2[j] - xhat*dg[c0+j])
				}
			}
		}
	})
}

// LSTMCellForward activates the gates [i|f|g|o] in place and computes c and h.
func (be *Backend) LSTMCellForward(batch, hidden int, gates, cPrev, c, h kernels.Buffer) {
	checkDims("LSTMCellForward", batch, hidden)
	gs := need("LSTMCellForward", "gates", gates, batch*4*hidden)
	cp := need("LSTMCellForward", "cPrev", cPrev, batch*hidden)
	cs := need("LSTMCellForward", "c", c, batch*hidden)
	hs := need("LSTMCellForward", "h", h, batch*hidden)
	H := hidden
	be.parallel(batch, max(1, elemGrain/16/max(1, H)), func(lo, hi int) {
		for b := lo; b < hi; b++ {
			g := gs[b*4*H : (b+1)*4*H]
			sigmoidSlice(g[:2*H], g[:2*H]) // i, f
			tanhSlice(g[2*H:3*H], g[2*H:3*H])
			sigmoidSlice(g[3*H:], g[3*H:]) // o
			gi, gf, gg, gO := g[:H], g[H:2*H], g[2*H:3*H], g[3*H:]
			cpr, cr, hr := cp[b*H:(b+1)*H], cs[b*H:(b+1)*H], hs[b*H:(b+1)*H]
			// c = f*cPrev + i*g; h = o*tanh(c).
			for j := mulFast(gf, cpr, cr); j < len(cr); j++ {
				cr[j] = gf[j] * cpr[j]
			}
			for j := fmaFast(gi, gg, cr); j < len(cr); j++ {
				cr[j] += gi[j] * gg[j]
			}
			tanhSlice(hr, cr)
			for j := mulFast(hr, gO, hr); j < len(hr); j++ {
				hr[j] *= gO[j]
			}
		}
	})
}

// LSTMCellBackward computes the gradients of the gate pre-activations and of cPrev.
func (be *Backend) LSTMCellBackward(batch, hidden int, gates, cPrev, c, dh, dc kernels.Buffer, dGates, dcPrev kernels.Buffer) {
	checkDims("LSTMCellBackward", batch, hidden)
	H := hidden
	gs := need("LSTMCellBackward", "gates", gates, batch*4*H)
	cp := need("LSTMCellBackward", "cPrev", cPrev, batch*H)
	cs := need("LSTMCellBackward", "c", c, batch*H)
	dhs := need("LSTMCellBackward", "dh", dh, batch*H)
	var dcs []float32
	if dc != nil {
		dcs = need("LSTMCellBackward", "dc", dc, batch*H)
	}
	dg := need("LSTMCellBackward", "dGates", dGates, batch*4*H)
	dcp := need("LSTMCellBackward", "dcPrev", dcPrev, batch*H)
	be.parallel(batch, max(1, elemGrain/16/max(1, H)), func(lo, hi int) {
		var tcBuf [64]float32
		for b := lo; b < hi; b++ {
			g := gs[b*4*H : (b+1)*4*H]
			d := dg[b*4*H : (b+1)*4*H]
			for j0 := 0; j0 < H; j0 += len(tcBuf) {
				j1 := min(j0+len(tcBuf), H)
				tc := tcBuf[:j1-j0]
				tanhSlice(tc, cs[b*H+j0:b*H+j1])
				gi, gf, gg, gO := g[j0:j1], g[H+j0:H+j1], g[2*H+j0:2*H+j1], g[3*H+j0:3*H+j1]
				di, df, dgg, dO := d[j0:j1], d[H+j0:H+j1], d[2*H+j0:2*H+j1], d[3*H+j0:3*H+j1]
				cpr, dhr, dcpr := cp[b*H+j0:b*H+j1], dhs[b*H+j0:b*H+j1], dcp[b*H+j0:b*H+j1]
				var dcr []float32
				if dcs != nil {
					dcr = dcs[b*H+j0 : b*H+j1]
				}
				for j := lstmBackFast(g[j0:], d[j0:], tc, cpr, dhr, dcr, dcpr, H, len(tc)); j < len(tc); j++ {
					t := tc[j]
					i, f, gc, o := gi[j], gf[j], gg[j], gO[j]
					dhv := dhr[j]
					dct := dhv * o * (1 - t*t)
					if dcr != nil {
						dct += dcr[j]
					}
					di[j] = dct * gc * i * (1 - i)
					df[j] = dct * cpr[j] * f * (1 - f)
					dgg[j] = dct * i * (1 - gc*gc)
					dO[j] = dhv * t * o * (1 - o)
					dcpr[j] = dct * f
				}
			}
		}
	})
}

// GRUCellForward activates gx in place to [r|z|n] and computes h.
func (be *Backend) GRUCellForward(batch, hidden int, gx, gh, hPrev, h kernels.Buffer) {
	checkDims("GRUCellForward", batch, hidden)
	H := hidden
	xs := need("GRUCellForward", "gx", gx, batch*3*H)
	hs := need("GRUCellForward", "gh", gh, batch*3*H)
	hp := need("GRUCellForward", "hPrev", hPrev, batch*H)
	out := need("GRUCellForward", "h", h, batch*H)
	be.parallel(batch, max(1, elemGrain/16/max(1, H)), func(lo, hi int) {
		for b := lo; b < hi; b++ {
			x := xs[b*3*H : (b+1)*3*H]
			g := hs[b*3*H : (b+1)*3*H]
			for j := 0; j < 2*H; j++ {
				x[j] += g[j]
			}
			sigmoidSlice(x[:2*H], x[:2*H]) // r, z
			for j := 0; j < H; j++ {
				x[2*H+j] += x[j] * g[2*H+j]
			}
			tanhSlice(x[2*H:], x[2*H:]) // n
			hr, hpr := out[b*H:(b+1)*H], hp[b*H:(b+1)*H]
			for j := range hr {
				z, n := x[H+j], x[2*H+j]
				hr[j] = (1-z)*n + z*hpr[j]
			}
		}
	})
}

// GRUCellBackward computes the gradients of gx, gh and the direct part of hPrev's gradient.
func (be *Backend) GRUCellBackward(batch, hidden int, gx, gh, hPrev, dh kernels.Buffer, dgx, dgh, dhPrev kernels.Buffer) {
	checkDims("GRUCellBackward", batch, hidden)
	H := hidden
	xs := need("GRUCellBackward", "gx", gx, batch*3*H)
	hs := need("GRUCellBackward", "gh", gh, batch*3*H)
	hp := need("GRUCellBackward", "hPrev", hPrev, batch*H)
	dhs := need("GRUCellBackward", "dh", dh, batch*H)
	dx := need("GRUCellBackward", "dgx", dgx, batch*3*H)
	dgs := need("GRUCellBackward", "dgh", dgh, batch*3*H)
	dhp := need("GRUCellBackward", "dhPrev", dhPrev, batch*H)
	be.parallel(batch, max(1, elemGrain/16/max(1, H)), func(lo, hi int) {
		for b := lo; b < hi; b++ {
			a := xs[b*3*H : (b+1)*3*H]
			g := hs[b*3*H : (b+1)*3*H]
			d := dx[b*3*H : (b+1)*3*H]
			e := dgs[b*3*H : (b+1)*3*H]
			for j := gruBackFast(a, g, hp[b*H:(b+1)*H], dhs[b*H:(b+1)*H], d, e, dhp[b*H:(b+1)*H], H, H); j < H; j++ {
				k := b*H + j
				r, z, n := a[j], a[H+j], a[2*H+j]
				d0 := dhs[k]
				dn := d0 * (1 - z) * (1 - n*n)
				dz := d0 * (hp[k] - n) * z * (1 - z)
				dr := dn * g[2*H+j] * r * (1 - r)
				d[j], d[H+j], d[2*H+j] = dr, dz, dn
				e[j], e[H+j], e[2*H+j] = dr, dz, dn*r
				dhp[k] = d0 * z
			}
		}
	})
}

// AdamStep applies one bias-corrected Adam update with L2 weight decay.
func (be *Backend) AdamStep(n int, param, grad, m, v kernels.Buffer, lr, beta1, beta2, eps, weightDecay float32, t int) {
	checkDims("AdamStep", n)
	if t < 1 {
		panic(fmt.Sprintf("kernels/cpu: AdamStep: step t=%d < 1", t))
	}
	ps := need("AdamStep", "param", param, n)
	gs := need("AdamStep", "grad", grad, n)
	ms := need("AdamStep", "m", m, n)
	vs := need("AdamStep", "v", v, n)
	c1 := float32(1 / (1 - math.Pow(float64(beta1), float64(t))))
	c2 := float32(1 / (1 - math.Pow(float64(beta2), float64(t))))
	be.parallel(n, elemGrain/4, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			g := gs[i] + weightDecay*ps[i]
			mv := beta1*ms[i] + (1-beta1)*g
			vv := beta2*vs[i] + (1-beta2)*g*g
			ms[i], vs[i] = mv, vv
			ps[i] -= lr * (mv * c1) / (float32(math.Sqrt(float64(vv*c2))) + eps)
		}
	})
}
