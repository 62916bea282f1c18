package cpu

import "sync/atomic"

// Blocked SGEMM after Goto & van de Geijn ("Anatomy of high-performance matrix multiplication",
// 2008) and the BLIS loop structure: C is split into one rectangle per worker goroutine; each
// worker loops over NC-column blocks of B, KC-deep slices of the inner dimension and MC-row
// blocks of A, packs them into contiguous panels (applying transposes and alpha while packing)
// and runs an MR×NR register-blocked micro-kernel over the panels. Pack buffers are pooled, so
// steady-state calls do not allocate in the loops.

// Blocking parameters (elements). A KC×NR panel of B stays in L1 while MR×KC panels of A stream
// from an MC×KC block held in L2; the KC×NC block of B lives in L3.
const (
	gemmKC = 256
	gemmMC = 240 // a multiple of every kernel's MR (4, 6, 12)
	gemmNC = 3072
)

// defaultStaticBelow is the m·n·k under which a parallel GEMM uses gemmStatic (see Backend).
const defaultStaticBelow = 384 * 384 * 384

// smallGemm is the m·n·k below which the unpacked loop is faster.
const smallGemm = 24 * 24 * 24

// microKernel computes C[0:mr][0:nr] += Apanel·Bpanel for packed panels of depth k:
// a[p*mr+i] and b[p*nr+j]; c has row stride ldc and at least (mr-1)*ldc+nr elements.
// rowA, when set, is the same with the A panel stored row by row, a[i*lda+p]: packing an
// untransposed A is then a row copy instead of a transposition (rows are padded by aPad
// elements so the mr row streams do not collide in the L1 cache's sets).
type microKernel struct {
	name   string
	mr, nr int
	fn     func(k int, a, b, c []float32, ldc int)
	rowA   func(k int, a, b, c []float32, ldc, lda int)
}

// aPad pads the rows of a row-major packed A block (elements; one cache line).
const aPad = 16

// gemmScratch holds one worker's pack buffers and an edge tile.
type gemmScratch struct {
	a, b, tile []float32
}

// getScratch takes idle pack buffers or allocates new ones. Unlike a sync.Pool, the backend's
// buffers survive garbage collections, so steady-state Gemm calls do not allocate them again.
func (be *Backend) getScratch() *gemmScratch {
	select {
	case s := <-be.scratch:
		if len(s.tile) == be.kern.mr*be.kern.nr {
			return s
		}
	default:
	}
	return &gemmScratch{tile: make([]float32, be.kern.mr*be.kern.nr)}
}

// packedA returns the A pack buffer, allocating it on first use.
func (s *gemmScratch) packedA() []float32 {
	if s.a == nil {
		s.a = make([]float32, gemmMC*(gemmKC+aPad))
	}
	return s.a
}

// packedB returns the B pack buffer, allocating it on first use.
func (s *gemmScratch) packedB(nr int) []float32 {
	if s.b == nil {
		s.b = make([]float32, gemmKC*(gemmNC+nr))
	}
	return s.b
}

// putScratch returns pack buffers for reuse, dropping them if enough are idle.
func (be *Backend) putScratch(s *gemmScratch) {
	select {
	case be.scratch <- s:
	default:
	}
}

// gemmArgs is one GEMM problem (already validated).
type gemmArgs struct {
	transA, transB bool
	m, n, k        int
	alpha          float32
	a              []float32
	lda            int
	b              []float32
	ldb            int
	beta           float32
	c              []float32
	ldc            int
}

// sgemm computes C = alpha*op(A)*op(B) + beta*C on validated slices.
func (be *Backend) sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if m*n*k <= smallGemm || alpha == 0 || k == 0 {
		sgemmSmall(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	g := &gemmArgs{transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc}
	workers := min(be.threads, max(1, m*n*k/(48*48*48)))
	if workers == 1 {
		be.gemmBlock(g, 0, m, 0, n)
		return
	}
	if m*n*k < be.staticBelow {
		be.gemmStatic(g, workers)
		return
	}
	be.gemmParallel(g, workers)
}

// gemmStatic splits C into one rectangle per worker (aligned to the micro-tile, close to square)
// and runs the serial blocked algorithm on each: a single fork-join, the cheapest schedule for
// products too small to amortise gemmParallel's shared packing and per-panel barriers.
func (be *Backend) gemmStatic(g *gemmArgs, workers int) {
	kr := be.kern
	tm, tn := splitGrid(workers, g.m, g.n, kr.mr, kr.nr)
	rowCut := func(i int) int { return cut(i, tm, g.m, kr.mr) }
	colCut := func(j int) int { return cut(j, tn, g.n, kr.nr) }
	be.pool.run(tm*tn, func(w int) {
		i, j := w/tn, w%tn
		be.gemmBlock(g, rowCut(i), rowCut(i+1), colCut(j), colCut(j+1))
	})
}

// cut returns the start of part i of [0, n) split into parts pieces aligned to align.
func cut(i, parts, n, align int) int {
	if i >= parts {
		return n
	}
	units := (n + align - 1) / align
	return min(n, (i*units/parts)*align)
}

// splitGrid factors workers into tm×tn, preferring rectangles of C that are close to square
// (measured in micro-tiles) and never more parts than micro-tiles along a side.
func splitGrid(workers, m, n, mr, nr int) (tm, tn int) {
	tm, tn = 1, 1
	best := -1.0
	for a := 1; a <= workers; a++ {
		if workers%a != 0 {
			continue
		}
		b := workers / a
		if a > (m+mr-1)/mr || b > (n+nr-1)/nr {
			continue
		}
		h, w := float64(m)/float64(a), float64(n)/float64(b)
		score := min(h, w) / max(h, w)
		if score > best {
			best, tm, tn = score, a, b
		}
	}
	return tm, tn
}

// gemmParallel runs the blocked algorithm with workers goroutines. For each KC×NC block of B,
// the workers first pack B together (each a share of its NR-column panels), then take tasks,
// an MC-row block of A times a column chunk of the packed B, from a shared counter, so a worker
// slowed down by other load on the machine simply takes fewer tasks.
func (be *Backend) gemmParallel(g *gemmArgs, workers int) {
	kr := be.kern
	mr, nr := kr.mr, kr.nr
	be.parallel(g.m, max(1, elemGrain/g.n), func(lo, hi int) {
		scaleC(hi-lo, g.n, g.beta, g.c[lo*g.ldc:], g.ldc)
	})
	// Task grid: about two tasks per worker so the dynamic split can balance; row blocks
	// aligned to mr, column chunks to nr.
	mc := min(gemmMC, roundUp((g.m+2*workers-1)/(2*workers), mr))
	rowBlocks := (g.m + mc - 1) / mc
	shared := be.getScratch()
	defer be.putScratch(shared)
	bp := shared.packedB(nr)
	scratch := make([]*gemmScratch, workers)
	for w := range scratch {
		scratch[w] = be.getScratch()
	}
	defer func() {
		for _, s := range scratch {
			be.putScratch(s)
		}
	}()
	for jc := 0; jc < g.n; jc += gemmNC {
		nb := min(gemmNC, g.n-jc)
		panels := (nb + nr - 1) / nr
		colChunks := 1
		if rowBlocks < 2*workers {
			colChunks = min(panels, (2*workers+rowBlocks-1)/rowBlocks)
		}
		tasks := rowBlocks * colChunks
		for pc := 0; pc < g.k; pc += gemmKC {
			kb := min(gemmKC, g.k-pc)
			// Pack B: panel ranges split among the workers.
			be.pool.run(workers, func(w int) {
				p0, p1 := w*panels/workers, (w+1)*panels/workers
				if p0 < p1 {
					packB(g, bp[p0*nr*kb:], pc, kb, jc+p0*nr, min(nb, p1*nr)-p0*nr, nr)
				}
			})
			var next atomic.Int64
			be.pool.run(workers, func(w int) {
				s := scratch[w]
				ap := s.packedA()
				lastRow := -1
				for {
					t := int(next.Add(1)) - 1
					if t >= tasks {
						return
					}
					rb, cc := t/colChunks, t%colChunks
					ic := rb * mc
					mb := min(mc, g.m-ic)
					if rb != lastRow {
						packA(g, ap, ic, mb, pc, kb, kr)
						lastRow = rb
					}
					p0, p1 := cc*panels/colChunks, (cc+1)*panels/colChunks
					macroKernel(kr, g, ap, bp, s.tile, ic, mb, jc, nb, kb, p0*nr, min(nb, p1*nr))
				}
			})
		}
	}
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }

// gemmBlock computes rows [i0, i1) and columns [j0, j1) of C on the calling goroutine.
func (be *Backend) gemmBlock(g *gemmArgs, i0, i1, j0, j1 int) {
	if i0 >= i1 || j0 >= j1 {
		return
	}
	kr := be.kern
	s := be.getScratch()
	defer be.putScratch(s)
	scaleC(i1-i0, j1-j0, g.beta, g.c[i0*g.ldc+j0:], g.ldc)
	nr := kr.nr
	ap, bp := s.packedA(), s.packedB(nr)
	for jc := j0; jc < j1; jc += gemmNC {
		nb := min(gemmNC, j1-jc)
		for pc := 0; pc < g.k; pc += gemmKC {
			kb := min(gemmKC, g.k-pc)
			packB(g, bp, pc, kb, jc, nb, nr)
			for ic := i0; ic < i1; ic += gemmMC {
				mb := min(gemmMC, i1-ic)
				packA(g, ap, ic, mb, pc, kb, kr)
				macroKernel(kr, g, ap, bp, s.tile, ic, mb, jc, nb, kb, 0, nb)
			}
		}
	}
}

// macroKernel multiplies the packed A block (mb rows starting at row ic of C) by the packed B
// panels covering columns [jr0, jr1) of the block starting at column jc, adding into C. Tiles
// cut by the edges of C go through tile.
func macroKernel(kr *microKernel, g *gemmArgs, ap, bp, tile []float32, ic, mb, jc, nb, kb, jr0, jr1 int) {
	mr, nr := kr.mr, kr.nr
	rowA := useRowA(kr, g)
	kbp := kb + aPad
	for jr := jr0; jr < jr1; jr += nr {
		bpan := bp[jr*kb : (jr+nr)*kb]
		nw := min(nr, nb-jr)
		for ir := 0; ir < mb; ir += mr {
			mh := min(mr, mb-ir)
			off := (ic+ir)*g.ldc + jc + jr
			full := mh == mr && nw == nr
			if !full {
				clear(tile)
			}
			switch {
			case rowA && full:
				kr.rowA(kb, ap[ir*kbp:(ir+mr)*kbp], bpan, g.c[off:off+(mr-1)*g.ldc+nr], g.ldc, kbp)
				continue
			case rowA:
				kr.rowA(kb, ap[ir*kbp:(ir+mr)*kbp], bpan, tile, nr, kbp)
			case full:
				kr.fn(kb, ap[ir*kb:(ir+mr)*kb], bpan, g.c[off:off+(mr-1)*g.ldc+nr], g.ldc)
				continue
			default:
				kr.fn(kb, ap[ir*kb:(ir+mr)*kb], bpan, tile, nr)
			}
			for r := 0; r < mh; r++ {
				crow := g.c[off+r*g.ldc : off+r*g.ldc+nw]
				for j, v := range tile[r*nr : r*nr+nw] {
					crow[j] += v
				}
			}
		}
	}
}

// useRowA reports whether A is packed row by row for kr.rowA (untransposed A only).
func useRowA(kr *microKernel, g *gemmArgs) bool { return kr.rowA != nil && !g.transA }

// packA packs alpha*op(A)[ic:ic+mb][pc:pc+kb]. For kr.rowA (useRowA) rows are copied with
// stride kb+aPad (rows of a partial last panel are left as they are: their results are
// discarded). Otherwise panels of mr rows are transposed, dst[panel*mr*kb + p*mr + r], and the
// last panel is zero-padded.
func packA(g *gemmArgs, dst []float32, ic, mb, pc, kb int, kr *microKernel) {
	alpha, mr := g.alpha, kr.mr
	if useRowA(kr, g) {
		kbp := kb + aPad
		for r := 0; r < mb; r++ {
			src := g.a[(ic+r)*g.lda+pc : (ic+r)*g.lda+pc+kb]
			d := dst[r*kbp : r*kbp+kb]
			if alpha == 1 {
				copy(d, src)
				continue
			}
			for p, v := range src {
				d[p] = alpha * v
			}
		}
		return
	}
	for ir := 0; ir < mb; ir += mr {
		panel := dst[ir*kb : (ir+mr)*kb]
		rows := min(mr, mb-ir)
		if g.transA {
			// op(A)[i][p] = a[p*lda+i]: mr contiguous values per p.
			if packATFast(panel, g.a[pc*g.lda+ic+ir:], g.lda, kb, rows, mr, alpha) {
				continue
			}
			for p := 0; p < kb; p++ {
				src := g.a[(pc+p)*g.lda+ic+ir : (pc+p)*g.lda+ic+ir+rows]
				d := panel[p*mr : p*mr+mr]
				// Element loops, not copy/clear: runs are at most mr long, too short to pay for
				// a memmove call.
				for r, v := range src {
					d[r] = alpha * v
				}
				for r := rows; r < mr; r++ {
					d[r] = 0
				}
			}
			continue
		}
		for r := 0; r < rows; r++ {
			src := g.a[(ic+ir+r)*g.lda+pc : (ic+ir+r)*g.lda+pc+kb]
			for p, v := range src {
				panel[p*mr+r] = alpha * v
			}
		}
		for r := rows; r < mr; r++ {
			for p := 0; p < kb; p++ {
				panel[p*mr+r] = 0
			}
		}
	}
}

// packB packs op(B)[pc:pc+kb][jc:jc+nb] into panels of nr columns: dst[panel*nr*kb + p*nr + j],
// zero-padding the last panel.
func packB(g *gemmArgs, dst []float32, pc, kb, jc, nb, nr int) {
	for jr := 0; jr < nb; jr += nr {
		panel := dst[jr*kb : (jr+nr)*kb]
		cols := min(nr, nb-jr)
		if !g.transB {
			if packBFast(panel, g.b[pc*g.ldb+jc+jr:], g.ldb, kb, cols, nr) {
				continue
			}
			for p := 0; p < kb; p++ {
				src := g.b[(pc+p)*g.ldb+jc+jr : (pc+p)*g.ldb+jc+jr+cols]
				d := panel[p*nr : p*nr+nr]
				copy(d, src)
				clear(d[cols:])
			}
			continue
		}
		// op(B)[p][j] = b[j*ldb+p].
		for j := 0; j < cols; j++ {
			src := g.b[(jc+jr+j)*g.ldb+pc : (jc+jr+j)*g.ldb+pc+kb]
			for p, v := range src {
				panel[p*nr+j] = v
			}
		}
		for j := cols; j < nr; j++ {
			for p := 0; p < kb; p++ {
				panel[p*nr+j] = 0
			}
		}
	}
}
