package flow

import (
	"bufio"
	"encoding/binary"
	"io"
	"math/rand/v2"
)

// Test and benchmark captures are built here by hand: Ethernet + IPv4 + TCP/UDP frames in a
// classic pcap (microsecond timestamps, little-endian).

type synthPkt struct {
	tsUS         int64
	src, dst     [4]byte
	sport, dport uint16
	proto        uint8
	flags        uint8
	seq          uint32
	payload      []byte
	payloadLen   int // used when payload is nil (zero bytes of that length)
	ipv6         bool
}

// appendFrame appends p's Ethernet frame to b.
func appendFrame(b []byte, p *synthPkt) []byte {
	plen := len(p.payload)
	if p.payload == nil {
		plen = p.payloadLen
	}
	thl := 20
	if p.proto == ProtoUDP {
		thl = 8
	}
	b = append(b, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
	if p.ipv6 {
		b = append(b, 0x86, 0xdd)
		b = append(b, 0x60, 0, 0, 0)
		b = binary.BigEndian.AppendUint16(b, uint16(thl+plen))
		b = append(b, p.proto, 64)
		b = append(b, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0)
		b = append(b, p.src[:]...)
		b = append(b, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0)
		b = append(b, p.dst[:]...)
	} else {
		b = append(b, 0x08, 0x00)
		b = append(b, 0x45, 0)
		b = binary.BigEndian.AppendUint16(b, uint16(20+thl+plen))
		b = append(b, 0, 0, 0x40, 0, 64, p.proto, 0, 0)
		b = append(b, p.src[:]...)
		b = append(b, p.dst[:]...)
	}
	b = binary.BigEndian.AppendUint16(b, p.sport)
	b = binary.BigEndian.AppendUint16(b, p.dport)
	if p.proto == ProtoUDP {
		b = binary.BigEndian.AppendUint16(b, uint16(8+plen))
		b = append(b, 0, 0)
	} else {
		b = binary.BigEndian.AppendUint32(b, p.seq)
		b = append(b, 0, 0, 0, 0, 0x50, p.flags, 0xff, 0xff, 0, 0, 0, 0)
	}
	if p.payload != nil {
		return append(b, p.payload...)
	}
	for range plen {
		b = append(b, 0)
	}
	return b
}

// pcapWriter writes a classic pcap.
type pcapWriter struct {
	w     *bufio.Writer
	frame []byte
}

func newPcapWriter(w io.Writer) *pcapWriter {
	pw := &pcapWriter{w: bufio.NewWriterSize(w, 1<<20)}
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], 262144)
	binary.LittleEndian.PutUint32(h[20:], 1)
	pw.w.Write(h[:])
	return pw
}

func (pw *pcapWriter) write(p *synthPkt) {
	pw.frame = appendFrame(pw.frame[:0], p)
	var h [16]byte
	binary.LittleEndian.PutUint32(h[0:], uint32(p.tsUS/1000000))
	binary.LittleEndian.PutUint32(h[4:], uint32(p.tsUS%1000000))
	binary.LittleEndian.PutUint32(h[8:], uint32(len(pw.frame)))
	binary.LittleEndian.PutUint32(h[12:], uint32(len(pw.frame)))
	pw.w.Write(h[:])
	pw.w.Write(pw.frame)
}

func (pw *pcapWriter) flush() error { return pw.w.Flush() }

// synthTraffic generates n packets of interleaved TCP connections (handshake, a TLS ClientHello
// and server reply taken from hellos, data, FIN exchange) and some UDP flows, deterministic for
// seed. hellos may be nil (payloads are then zeros).
func synthTraffic(n int, seed uint64, hellos [][2][]byte, out func(*synthPkt)) {
	rng := rand.New(rand.NewPCG(seed, 1))
	type conn struct {
		p     synthPkt
		left  int
		step  int
		cseq  uint32
		sseq  uint32
		hello int
	}
	const concurrent = 512
	conns := make([]*conn, 0, concurrent)
	next := uint32(1)
	newConn := func() *conn {
		next++
		c := &conn{left: 6 + rng.IntN(90), cseq: rng.Uint32(), sseq: rng.Uint32()}
		c.p.src = [4]byte{10, byte(next >> 16), byte(next >> 8), byte(next)}
		c.p.dst = [4]byte{192, 0, 2, byte(rng.IntN(32))}
		c.p.sport = uint16(1024 + rng.IntN(60000))
		c.p.dport = 443
		c.p.proto = ProtoTCP
		if rng.IntN(10) == 0 {
			c.p.proto = ProtoUDP
			c.p.dport = 53
			c.left = 2
		}
		if len(hellos) > 0 {
			c.hello = rng.IntN(len(hellos))
		}
		return c
	}
	ts := int64(1700000000) * 1000000
	var sp synthPkt
	for i := 0; i < n; i++ {
		for len(conns) < concurrent {
			conns = append(conns, newConn())
		}
		k := rng.IntN(len(conns))
		c := conns[k]
		ts += int64(1 + rng.IntN(20))
		sp = c.p
		sp.tsUS = ts
		fwd := true
		switch {
		case c.p.proto == ProtoUDP:
			fwd = c.step == 0
			sp.payloadLen = 40 + rng.IntN(200)
		case c.step == 0:
			sp.flags = FlagSYN
		case c.step == 1:
			fwd, sp.flags = false, FlagSYN|FlagACK
		case c.step == 2:
			sp.flags = FlagACK
		case c.step == 3:
			sp.flags = FlagACK | FlagPSH
			if hellos != nil {
				sp.payload = hellos[c.hello][0]
			} else {
				sp.payloadLen = 517
			}
		case c.step == 4:
			fwd, sp.flags = false, FlagACK|FlagPSH
			if hellos != nil {
				sp.payload = hellos[c.hello][1]
			} else {
				sp.payloadLen = 1200
			}
		case c.left == 3:
			sp.flags = FlagFIN | FlagACK
		case c.left == 2:
			fwd, sp.flags = false, FlagFIN|FlagACK
		case c.left == 1:
			sp.flags = FlagACK
		default:
			fwd = rng.IntN(3) != 0
			sp.flags = FlagACK
			if rng.IntN(5) != 0 {
				sp.payloadLen = 1 + rng.IntN(1400)
				sp.flags |= FlagPSH
			}
		}
		if fwd {
			sp.seq = c.cseq
		} else {
			sp.src, sp.dst, sp.sport, sp.dport = c.p.dst, c.p.src, c.p.dport, c.p.sport
			sp.seq = c.sseq
		}
		plen := len(sp.payload) + sp.payloadLen
		if fwd {
			c.cseq += uint32(plen)
		} else {
			c.sseq += uint32(plen)
		}
		out(&sp)
		c.step++
		c.left--
		if c.left <= 0 {
			conns[k] = conns[len(conns)-1]
			conns = conns[:len(conns)-1]
		}
	}
}
