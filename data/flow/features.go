package flow

import (
	"math"
	"math/bits"

	"github.com/etchlab/etch/data"
)

// scratch holds the buffers fill sorts values in, reused across flows.
type scratch struct {
	size, pay  [2][]int32 // [0] fwd, [1] bwd
	iat        [3][]int32 // [0] fwd, [1] bwd, [2] all
	sort       []int32    // radix sort buffer
	sel        []int32    // quartilesOf's buckets
	start, pos [257]int32 // quartilesOf's bucket offsets
}

// fill writes flow f into t.rec.
func (t *Table) fill(f *flow, reason string) {
	r := &t.rec
	seqSize, seqPay, seqIAT, seqDir := r.SeqSize, r.SeqPayload, r.SeqIATUS, r.SeqDir
	*r = data.Record{SeqSize: seqSize, SeqPayload: seqPay, SeqIATUS: seqIAT, SeqDir: seqDir}

	r.Capture = t.cfg.Capture
	r.StartUS, r.EndUS = f.startUS, f.lastUS
	if f.key.proto == ProtoTCP {
		r.Proto = "tcp"
	} else {
		r.Proto = "udp"
	}
	r.IPVersion = int32(f.ipv)
	cli, srv := &f.key.a, &f.key.b
	cport, sport := f.key.pa, f.key.pb
	if !f.cliIsA {
		cli, srv, cport, sport = srv, cli, sport, cport
	}
	r.SrcPort, r.DstPort = int32(cport), int32(sport)
	r.EndReason = reason
	if f.hasTLS {
		x := &f.tls
		r.SNI, r.ALPN, r.TLSVersion = x.SNI, x.ALPN, x.TLSVersion
		r.JA3, r.JA3Full, r.JA3S, r.JA3SFull = x.JA3, x.JA3Full, x.JA3S, x.JA3SFull
		r.JA4, r.JA4R, r.JA4S = x.JA4, x.JA4R, x.JA4S
		r.QUIC = x.QUIC
	}

	r.PktsFwd, r.PktsBwd = f.pkts[0], f.pkts[1]
	r.BytesFwd, r.BytesBwd = f.bytes[0], f.bytes[1]
	r.PayloadBytesFwd, r.PayloadBytesBwd = f.pay[0], f.pay[1]
	r.DurationS = float64(f.lastUS-f.startUS) / 1e6
	if r.DurationS > 0 {
		r.PktsPerS = float64(r.PktsFwd+r.PktsBwd) / r.DurationS
		r.BytesPerS = float64(r.BytesFwd+r.BytesBwd) / r.DurationS
	}
	r.SYN, r.FIN, r.RST, r.PSH, r.ACK, r.URG = f.flags[0], f.flags[1], f.flags[2], f.flags[3], f.flags[4], f.flags[5]

	t.stats(f, &r.Stats)
	t.sequences(f, r)

	t.cfg.Labeler.Label(r)
	t.cfg.Privacy.apply(r, cli, srv, f.ipv)
}

// sequences writes the first-N sequences, zero-padded.
func (t *Table) sequences(f *flow, r *data.Record) {
	n := min(len(f.log), len(r.SeqSize))
	prev := f.startUS
	for i := 0; i < n; i++ {
		p := &f.log[i]
		dir := int32(1)
		if !p.fwd() {
			dir = -1
		}
		r.SeqSize[i] = dir * p.size()
		r.SeqPayload[i] = p.payload
		r.SeqDir[i] = dir
		iat := p.ts - prev
		if i == 0 || iat < 0 {
			iat = 0
		}
		r.SeqIATUS[i] = int32(min(iat, math.MaxInt32))
		if p.ts > prev {
			prev = p.ts
		}
	}
	clear(r.SeqSize[n:])
	clear(r.SeqPayload[n:])
	clear(r.SeqIATUS[n:])
	clear(r.SeqDir[n:])
}

// stats computes the 48 statistics: counts, maxima, means and variances over every packet;
// percentiles over the logged packets.
func (t *Table) stats(f *flow, s *data.Stats) {
	sc := &t.scratch
	for d := range 2 {
		sc.size[d], sc.pay[d] = sc.size[d][:0], sc.pay[d][:0]
	}
	for d := range 3 {
		sc.iat[d] = sc.iat[d][:0]
	}
	var last [3]int64
	var seen [3]bool
	for i := range f.log {
		p := &f.log[i]
		d := 0
		if !p.fwd() {
			d = 1
		}
		sc.size[d] = append(sc.size[d], p.size())
		sc.pay[d] = append(sc.pay[d], p.payload)
		for _, k := range [2]int{d, 2} {
			if seen[k] {
				sc.iat[k] = append(sc.iat[k], int32(min(max(p.ts-last[k], 0), math.MaxInt32)))
			}
			if !seen[k] || p.ts > last[k] {
				last[k] = p.ts
			}
			seen[k] = true
		}
	}
	// Sizes and payloads are sorted per direction; the quartiles of both directions are then
	// picked from the two sorted halves instead of sorting their union.
	for d := range 2 {
		sortInt32(sc.size[d], &sc.sort)
		sortInt32(sc.pay[d], &sc.sort)
	}
	var v [data.NumStats]float64
	o := 0
	for d := range 3 {
		var n, sum, sq, psum, psq float64
		var mx, pmx int32
		if d < 2 {
			n, sum, sq, psum, psq = float64(f.pkts[d]), f.sum[d], f.sumSq[d], f.psum[d], f.psumSq[d]
			mx, pmx = f.maxSize[d], f.maxPay[d]
		} else {
			n = float64(f.pkts[0] + f.pkts[1])
			sum, sq = f.sum[0]+f.sum[1], f.sumSq[0]+f.sumSq[1]
			psum, psq = f.psum[0]+f.psum[1], f.psumSq[0]+f.psumSq[1]
			mx, pmx = max(f.maxSize[0], f.maxSize[1]), max(f.maxPay[0], f.maxPay[1])
		}
		// Sizes and payloads of this direction, or of both as two sorted halves.
		sa, sb, pa, pb := sc.size[0], sc.size[1], sc.pay[0], sc.pay[1]
		if d < 2 {
			sa, sb, pa, pb = sc.size[d], nil, sc.pay[d], nil
		}
		// size: count p25 p50 p75 max mean var
		v[o] = n
		v[o+1], v[o+2], v[o+3] = quartiles2(sa, sb)
		v[o+4] = float64(mx)
		v[o+5], v[o+6] = meanVar(n, sum, sq)
		// iat: p25 p50 p75
		v[o+7], v[o+8], v[o+9] = sc.quartilesOf(sc.iat[d])
		// payload: p25 p50 p75 max mean var
		v[o+10], v[o+11], v[o+12] = quartiles2(pa, pb)
		v[o+13] = float64(pmx)
		v[o+14], v[o+15] = meanVar(n, psum, psq)
		o += 16
	}
	s.SetVector(v[:])
}

// quartilesOf returns quartiles of x sorted, without sorting all of x: one radix pass on the
// top bits in which the values differ scatters x into buckets (sc.sel), and only the buckets
// that hold the order statistics the percentiles read are sorted. Short series (up to 20
// values, or sortNetMax with the sorting networks) are sorted in place.
func (sc *scratch) quartilesOf(x []int32) (p25, p50, p75 float64) {
	n := len(x)
	if n <= max(20, sortNetMax) {
		sortInt32(x, &sc.sort)
		return quartiles(x)
	}
	const flip = 1 << 31
	or, and := uint32(0), ^uint32(0)
	for _, v := range x {
		or |= uint32(v) ^ flip
		and &= uint32(v) ^ flip
	}
	diff := or ^ and
	if diff == 0 {
		return quartiles(x[:1]) // all equal
	}
	// Bucket on the top w differing bits, w about log2(n) (4 to 8): few values per bucket,
	// and few buckets to sum.
	w := uint(min(max(bits.Len(uint(n)), 4), 8))
	shift := uint(0)
	if hi := uint(32 - bits.LeadingZeros32(diff)); hi > w {
		shift = hi - w
	}
	mask := uint32(1)<<w - 1
	start := sc.start[:mask+2]
	clear(start)
	for _, v := range x {
		start[((uint32(v)^flip)>>shift)&mask+1]++
	}
	var sum int32
	for b, c := range start {
		sum += c
		start[b] = sum
	}
	if cap(sc.sel) < n {
		sc.sel = make([]int32, n, 2*n)
	}
	sel := sc.sel[:n]
	pos := sc.pos[:mask+1]
	copy(pos, start)
	for _, v := range x {
		b := ((uint32(v) ^ flip) >> shift) & mask
		sel[pos[b]] = v
		pos[b]++
	}
	// The ranks percentile reads: lo and lo+1 for each quartile.
	var done [6]int
	nd := 0
	for _, q := range [3]float64{0.25, 0.5, 0.75} {
		lo := int(float64(n-1) * q)
		for r := lo; r <= min(lo+1, n-1); r++ {
			b := int(((uint32(sel[r]) ^ flip) >> shift) & mask)
			seen := false
			for _, d := range done[:nd] {
				seen = seen || d == b
			}
			if !seen {
				done[nd] = b
				nd++
				sortInt32(sel[start[b]:start[b+1]], &sc.sort)
			}
		}
	}
	return quartiles(sel)
}

// sortInt32 sorts x: with AVX-512 sorting networks up to sortNetMax values (sortNet), else
// insertion sort for the shortest series and an LSD radix sort beyond (8-bit digits at most,
// bits that all values share skipped: two passes for packet sizes, two or three for
// inter-arrival times), which beats pdqsort on these int32 series from about 20 values up (2-4×
// at 50-100, 6× at 200). tmp is scratch space, grown as needed.
func sortInt32(x []int32, tmp *[]int32) {
	if sortNet(x) {
		return
	}
	if len(x) <= 20 {
		for i := 1; i < len(x); i++ {
			v := x[i]
			j := i
			for ; j > 0 && x[j-1] > v; j-- {
				x[j] = x[j-1]
			}
			x[j] = v
		}
		return
	}
	if cap(*tmp) < len(x) {
		*tmp = make([]int32, len(x), 2*len(x))
	}
	radixInt32(x, (*tmp)[:len(x)])
}

// radixInt32 sorts x with tmp (same length) as the other buffer. Keys are the values with the
// sign bit flipped, so negative values sort first. Only the bit range where the values differ
// is sorted on, in as few passes as digits of at most 8 bits allow, with digits as narrow as
// that number of passes allows (packet sizes: two passes over 64 buckets).
func radixInt32(x, tmp []int32) {
	const flip = 1 << 31
	or, and := uint32(0), ^uint32(0)
	for _, v := range x {
		or |= uint32(v) ^ flip
		and &= uint32(v) ^ flip
	}
	diff := or ^ and
	if diff == 0 {
		return // all equal
	}
	lo, hi := uint(bits.TrailingZeros32(diff)), uint(32-bits.LeadingZeros32(diff))
	passes := (hi - lo + 7) / 8
	width := (hi - lo + passes - 1) / passes
	mask := uint32(1)<<width - 1
	var buckets [256]int32
	cnt := buckets[:mask+1]
	src, dst := x, tmp
	for shift := lo; shift < hi; shift += width {
		if shift > lo {
			clear(cnt)
		}
		for _, v := range src {
			cnt[((uint32(v)^flip)>>shift)&mask]++
		}
		var sum int32
		for i, c := range cnt {
			cnt[i] = sum
			sum += c
		}
		for _, v := range src {
			d := ((uint32(v) ^ flip) >> shift) & mask
			dst[cnt[d]] = v
			cnt[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &x[0] {
		copy(x, src)
	}
}

func meanVar(n, sum, sq float64) (mean, variance float64) {
	if n == 0 {
		return 0, 0
	}
	mean = sum / n
	variance = max(sq/n-mean*mean, 0)
	return mean, variance
}

// quartiles2 returns the quartiles of the union of sorted a and b (the numbers quartiles gives
// for the sorted union), picking each order statistic from the two halves.
func quartiles2(a, b []int32) (p25, p50, p75 float64) {
	n := len(a) + len(b)
	at := func(k int) int32 { return kthOf2(a, b, k) }
	return percentileOf(n, 0.25, at), percentileOf(n, 0.5, at), percentileOf(n, 0.75, at)
}

// kthOf2 returns the k-th smallest (from 0) of the union of sorted a and b, k < len(a)+len(b):
// a binary search for how many of the k+1 smallest come from a.
func kthOf2(a, b []int32, k int) int32 {
	lo, hi := max(0, k+1-len(b)), min(k+1, len(a)) // i, the number taken from a
	for lo < hi {
		i := int(uint(lo+hi) >> 1)
		j := k + 1 - i // taken from b
		if j > 0 && i < len(a) && b[j-1] > a[i] {
			lo = i + 1 // a[i] belongs among the k+1 smallest: take more from a
		} else {
			hi = i
		}
	}
	i, j := lo, k+1-lo
	switch {
	case i == 0:
		return b[j-1]
	case j == 0:
		return a[i-1]
	}
	return max(a[i-1], b[j-1])
}

// quartiles returns the 25th, 50th and 75th percentiles of sorted x (linear interpolation
// between closest ranks, numpy's default); zeros for an empty x.
func quartiles(x []int32) (p25, p50, p75 float64) {
	return percentile(x, 0.25), percentile(x, 0.5), percentile(x, 0.75)
}

func percentile(x []int32, q float64) float64 {
	return percentileOf(len(x), q, func(i int) int32 { return x[i] })
}

// percentileOf is percentile over n sorted values, the i-th of them at(i).
func percentileOf(n int, q float64, at func(int) int32) float64 {
	switch n {
	case 0:
		return 0
	case 1:
		return float64(at(0))
	}
	h := float64(n-1) * q
	lo := int(h)
	if lo >= n-1 {
		return float64(at(n - 1))
	}
	xlo := at(lo)
	return float64(xlo) + (h-float64(lo))*float64(at(lo+1)-xlo)
}
