package synth

import (
	"math"
	"math/rand/v2"
	"slices"
)

// A flow is generated in three passes: plan the segments of both sides in time (handshake
// transcript, application messages, TCP handshake and teardown, delayed ACKs), sort them by
// capture time and fill in acknowledgement numbers from what each side has received by then, then
// build the frames. The vantage point is next to the client: client packets are captured when
// sent, server packets one RTT after the client data that triggered them.

const maxRecord = 16384 // TLS maximum plaintext per record

// seg is one planned packet.
type seg struct {
	ts      int64 // capture time, µs since the flow's start
	server  bool
	flags   byte
	seq     uint32
	off, n  int // payload: stream[side][off:off+n]
	pureAck bool
	forced  bool // keep even if it acknowledges nothing new
	opts    []byte
	ack     uint32
}

// packet is one generated frame.
type packet struct {
	ts    int64 // µs since the Unix epoch
	frame []byte
}

type sideState struct {
	stream []byte
	seq    uint32 // next sequence number
	last   int64  // time of the side's last planned packet
	mss    int
	win    uint16
	h      host
	hist   []histEntry
}

type histEntry struct {
	ts     int64
	seqEnd uint32
}

// flowGen holds the state of one flow being generated. One flowGen is reused across flows by a
// worker (its buffers are reset, not reallocated).
type flowGen struct {
	r     *rand.Rand
	fill  []byte // random filler for encrypted record bodies (shared, read-only)
	side  [2]sideState
	segs  []seg
	rtt   int64   // µs
	bw    float64 // bytes per µs on the bottleneck
	arena []byte
	pkts  []packet
	offs  []int
	// reuse keeps arena and pkts across flows; noChecksums leaves TCP/UDP checksums zero;
	// snap cuts TCP application-data segments after the TCP header, as a capture with a short
	// snap length would (Records: the extractor reads neither, and the TLS parser reads only
	// handshake bytes, which are always kept whole).
	reuse, noChecksums, snap bool
	fillPos                  int
}

func (g *flowGen) reset() {
	for i := range g.side {
		s := &g.side[i]
		s.stream, s.hist = s.stream[:0], s.hist[:0]
		s.last = -1
	}
	g.segs = g.segs[:0]
	g.fillPos = 0
	// In Generate the frames of a flow outlive the generator (they wait in the merge heap), so
	// arena and packet slices are new for every flow (finish sizes them); Records consumes a
	// flow before building the next and reuses them.
	if g.reuse {
		g.arena, g.pkts = g.arena[:0], g.pkts[:0]
	} else {
		g.arena, g.pkts = nil, nil
	}
}

func sideIdx(server bool) int {
	if server {
		return 1
	}
	return 0
}

// plan adds a segment of side (server or client) at time ts carrying stream bytes [off, off+n).
// Times of one side never go backwards.
func (g *flowGen) plan(server bool, ts int64, flags byte, off, n int) int64 {
	s := &g.side[sideIdx(server)]
	if ts <= s.last {
		ts = s.last + 1
	}
	s.last = ts
	sg := seg{ts: ts, server: server, flags: flags, seq: s.seq, off: off, n: n}
	adv := uint32(n)
	if flags&(flagSYN|flagFIN) != 0 {
		adv++
	}
	s.seq += adv
	if adv > 0 {
		s.hist = append(s.hist, histEntry{ts, s.seq})
	}
	g.segs = append(g.segs, sg)
	return ts
}

func (g *flowGen) planAck(server bool, ts int64, forced bool) {
	s := &g.side[sideIdx(server)]
	if ts <= s.last {
		ts = s.last + 1
	}
	s.last = ts
	g.segs = append(g.segs, seg{ts: ts, server: server, flags: flagACK, seq: s.seq, pureAck: true, forced: forced})
}

// jitter returns d scaled by a log-normal factor with sigma s.
func (g *flowGen) jitter(d float64, s float64) int64 {
	return int64(d * math.Exp(s*g.r.NormFloat64()))
}

// write plans one application write (bytes already appended to the side's stream at off..off+n)
// of side server starting at capture time t: segments of at most MSS, paced by the bottleneck
// bandwidth and a slow-start window, with the peer's delayed ACKs. It returns the capture time
// of the last segment.
func (g *flowGen) write(server bool, t int64, off, n int) int64 {
	s := &g.side[sideIdx(server)]
	mss := s.mss
	cwnd := 10
	inBatch := 0
	batchStart := t
	var lastTS int64
	count := 0
	for n > 0 {
		l := min(n, mss)
		flags := byte(flagACK)
		if l == n {
			flags |= flagPSH
		}
		lastTS = g.plan(server, t, flags, off, l)
		count++
		// The peer acknowledges every second segment and the last one.
		if count%2 == 0 || l == n {
			if server {
				g.planAck(false, lastTS+20+g.jitter(40, 0.5), false)
			} else {
				g.planAck(true, lastTS+g.rtt+g.jitter(30, 0.5), false)
			}
		}
		if off >= 0 {
			off += l
		}
		n -= l
		t = lastTS + int64(float64(l+54)/g.bw) + g.jitter(3, 0.8)
		inBatch++
		if inBatch >= cwnd {
			// Wait for the ACK clock before the next window.
			t = max(t, batchStart+g.rtt)
			batchStart = t
			inBatch = 0
			cwnd = min(cwnd*2, 256)
		}
	}
	return lastTS
}

// appendRecords appends n bytes of application data as TLS records (type 23) with the given
// per-record overhead to the side's stream and returns the stream offset and byte count.
func (g *flowGen) appendRecords(server bool, n, overhead int) (int, int) {
	s := &g.side[sideIdx(server)]
	if g.snap {
		// Cut frames: only the wire length matters, no byte is materialised.
		total := 0
		for n > 0 {
			p := min(n, maxRecord)
			total += p + overhead
			n -= p
		}
		return -1, total
	}
	off := len(s.stream)
	for n > 0 {
		p := min(n, maxRecord)
		l := p + overhead - 5
		s.stream = append(s.stream, 23, 3, 3, byte(l>>8), byte(l))
		start := g.fillAt(l)
		s.stream = append(s.stream, g.fill[start:start+l]...)
		n -= p
	}
	return off, len(s.stream) - off
}

// message plans an application message of size bytes from one side, starting at capture time t.
func (g *flowGen) message(server bool, t int64, size, overhead int) int64 {
	off, n := g.appendRecords(server, size, overhead)
	return g.write(server, t, off, n)
}

// finish sorts the planned segments, assigns acknowledgement numbers and builds the frames with
// timestamps relative to start (µs since the epoch).
func (g *flowGen) finish(start int64) []packet {
	slicesSortSegs(g.segs)
	cli, srv := &g.side[0], &g.side[1]
	var ci, si int            // pointers into histories
	var cliAck, srvAck uint32 // what each side acknowledges
	var cliHave, srvHave bool // whether anything was received yet
	var lastAck [2]uint32     // last ack number sent by each side
	var sentAck [2]bool
	out := g.segs[:0]
	for _, sg := range g.segs {
		if sg.server {
			for si < len(cli.hist) && cli.hist[si].ts+g.rtt <= sg.ts {
				srvAck = cli.hist[si].seqEnd
				srvHave = true
				si++
			}
			if srvHave {
				sg.ack = srvAck
				sg.flags |= flagACK
			}
		} else {
			for ci < len(srv.hist) && srv.hist[ci].ts < sg.ts {
				cliAck = srv.hist[ci].seqEnd
				cliHave = true
				ci++
			}
			if cliHave {
				sg.ack = cliAck
				sg.flags |= flagACK
			} else {
				sg.flags &^= flagACK
			}
		}
		i := sideIdx(sg.server)
		if sg.pureAck && !sg.forced && sentAck[i] && sg.ack == lastAck[i] {
			continue
		}
		if sg.flags&flagACK != 0 {
			lastAck[i], sentAck[i] = sg.ack, true
		}
		out = append(out, sg)
	}
	g.segs = out
	// Build frames.
	size := 0
	for i := range out {
		size += ethLen + ipv6Len + tcpLen + len(out[i].opts) + out[i].n
	}
	g.arena = slices.Grow(g.arena, size)
	g.pkts = slices.Grow(g.pkts, len(out))
	offs := g.offs[:0]
	for i := range out {
		sg := &out[i]
		s, peer := &g.side[sideIdx(sg.server)], &g.side[1-sideIdx(sg.server)]
		offs = append(offs, len(g.arena))
		var payload []byte
		if sg.off >= 0 {
			payload = s.stream[sg.off : sg.off+sg.n]
		}
		g.arena = appendTCP(g.arena, &s.h, &peer.h, sg.flags, sg.seq, sg.ack, s.win, sg.opts,
			payload, sg.n, !g.noChecksums)
	}
	offs = append(offs, len(g.arena))
	g.offs = offs
	for i := range out {
		g.pkts = append(g.pkts, packet{ts: start + out[i].ts, frame: g.arena[offs[i]:offs[i+1]:offs[i+1]]})
	}
	return g.pkts
}

// slicesSortSegs sorts segments by capture time, keeping each side's order.
func slicesSortSegs(segs []seg) {
	slices.SortStableFunc(segs, func(a, b seg) int {
		switch {
		case a.ts < b.ts:
			return -1
		case a.ts > b.ts:
			return 1
		}
		return 0
	})
}

// maxPauseUS caps think times and pauses between exchanges (40 s), below the flow extractor's
// default idle timeout (60 s), so that one connection is one flow.
const maxPauseUS = 40_000_000

// fillAt returns where the next n filler bytes start in g.fill. Positions come from a counter,
// not from the flow's RNG, so that the draws (and thus the flow) do not depend on whether bytes
// are materialised (Records cuts application data).
func (g *flowGen) fillAt(n int) int {
	g.fillPos = (g.fillPos + 4099) % (len(g.fill) - maxRecord - 64)
	return g.fillPos % (len(g.fill) - n)
}
