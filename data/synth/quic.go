package synth

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"slices"
)

// QUIC flows carry a real crypto/tls QUIC handshake (tls.QUICClient/QUICServer): the
// ClientHello and ServerHello travel in Initial packets protected exactly as RFC 9001 says (keys
// from the client's Destination Connection ID), so any passive parser can decrypt them and read
// SNI, ALPN and JA4. Handshake-level and 1-RTT packets have correct headers and lengths (the
// recorded handshake messages plus AEAD expansion) but their protected bytes are filler: their
// keys come from the ephemeral key exchange, so nobody outside the endpoints can read them
// anyway, and no feature looks inside.

// quicTranscript is the CRYPTO data of a recorded QUIC handshake, per side and level.
type quicTranscript struct {
	clientInitial   []byte // ClientHello
	serverInitial   []byte // ServerHello
	serverHandshake []byte // EncryptedExtensions, Certificate, CertificateVerify, Finished
	clientHandshake []byte // Finished
}

func quicTransportParams(server bool) []byte {
	// Transport parameters as (id, varint value) pairs: max_idle_timeout, initial_max_data,
	// initial_max_stream_data_bidi_local/remote, initial_max_stream_data_uni, initial_max_streams_bidi/uni.
	vals := [][2]uint64{{0x01, 30000}, {0x04, 15728640}, {0x05, 6291456}, {0x06, 6291456}, {0x07, 6291456}, {0x08, 100}, {0x09, 103}}
	if server {
		vals[0][1] = 60000
	}
	var b []byte
	for _, v := range vals {
		val := appendVarint(nil, v[1])
		b = appendVarint(b, v[0])
		b = appendVarint(b, uint64(len(val)))
		b = append(b, val...)
	}
	return b
}

// recordQUICHandshake runs a real TLS 1.3 handshake through crypto/tls's QUIC API and keeps the
// CRYPTO data each side produced at each encryption level.
func recordQUICHandshake(ccfg, scfg *tls.Config) (*transcript, error) {
	ccfg, scfg = ccfg.Clone(), scfg.Clone()
	ccfg.MinVersion, scfg.MinVersion = tls.VersionTLS13, tls.VersionTLS13
	cli := tls.QUICClient(&tls.QUICConfig{TLSConfig: ccfg})
	srv := tls.QUICServer(&tls.QUICConfig{TLSConfig: scfg})
	cli.SetTransportParameters(quicTransportParams(false))
	ctx := context.Background()
	if err := cli.Start(ctx); err != nil {
		return nil, fmt.Errorf("synth: quic client: %w", err)
	}
	if err := srv.Start(ctx); err != nil {
		return nil, fmt.Errorf("synth: quic server: %w", err)
	}
	defer cli.Close()
	defer srv.Close()
	q := &quicTranscript{}
	done := [2]bool{}
	conns := [2]*tls.QUICConn{cli, srv}
	for round := 0; round < 20 && !(done[0] && done[1]); round++ {
		for side, c := range conns {
			peer := conns[1-side]
			for {
				ev := c.NextEvent()
				if ev.Kind == tls.QUICNoEvent {
					break
				}
				switch ev.Kind {
				case tls.QUICWriteData:
					data := append([]byte(nil), ev.Data...)
					switch {
					case side == 0 && ev.Level == tls.QUICEncryptionLevelInitial:
						q.clientInitial = append(q.clientInitial, data...)
					case side == 0:
						q.clientHandshake = append(q.clientHandshake, data...)
					case ev.Level == tls.QUICEncryptionLevelInitial:
						q.serverInitial = append(q.serverInitial, data...)
					default:
						q.serverHandshake = append(q.serverHandshake, data...)
					}
					if err := peer.HandleData(ev.Level, data); err != nil {
						return nil, fmt.Errorf("synth: quic handshake: %w", err)
					}
				case tls.QUICTransportParametersRequired:
					c.SetTransportParameters(quicTransportParams(side == 1))
				case tls.QUICHandshakeDone:
					done[side] = true
				}
			}
		}
	}
	if !done[0] || !done[1] {
		return nil, fmt.Errorf("synth: quic handshake did not complete")
	}
	if len(q.clientInitial) == 0 || len(q.serverInitial) == 0 || len(q.serverHandshake) == 0 {
		return nil, fmt.Errorf("synth: quic handshake produced no data")
	}
	return &transcript{version: tls.VersionTLS13, quic: q, overhead: 16}, nil
}

func appendVarint(b []byte, v uint64) []byte {
	switch {
	case v < 1<<6:
		return append(b, byte(v))
	case v < 1<<14:
		return append(b, byte(v>>8)|0x40, byte(v))
	case v < 1<<30:
		return append(b, byte(v>>24)|0x80, byte(v>>16), byte(v>>8), byte(v))
	}
	return append(b, byte(v>>56)|0xc0, byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

var quicV1Salt = []byte{0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a}

func hkdfExpandLabel(secret []byte, label string, n int) ([]byte, error) {
	full := "tls13 " + label
	info := make([]byte, 0, 4+len(full))
	info = append(info, byte(n>>8), byte(n), byte(len(full)))
	info = append(info, full...)
	info = append(info, 0)
	return hkdf.Expand(sha256.New, secret, string(info), n)
}

// initialProtector seals QUIC v1 Initial packets of one direction.
type initialProtector struct {
	aead cipher.AEAD
	iv   []byte
	hp   cipher.Block
}

func newInitialProtector(dcid []byte, server bool) (*initialProtector, error) {
	initial, err := hkdf.Extract(sha256.New, dcid, quicV1Salt)
	if err != nil {
		return nil, err
	}
	label := "client in"
	if server {
		label = "server in"
	}
	secret, err := hkdfExpandLabel(initial, label, 32)
	if err != nil {
		return nil, err
	}
	key, err := hkdfExpandLabel(secret, "quic key", 16)
	if err != nil {
		return nil, err
	}
	iv, err := hkdfExpandLabel(secret, "quic iv", 12)
	if err != nil {
		return nil, err
	}
	hpKey, err := hkdfExpandLabel(secret, "quic hp", 16)
	if err != nil {
		return nil, err
	}
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(blk)
	if err != nil {
		return nil, err
	}
	hp, err := aes.NewCipher(hpKey)
	if err != nil {
		return nil, err
	}
	return &initialProtector{aead: aead, iv: iv, hp: hp}, nil
}

const quicPNLen = 2

// appendInitial appends a protected Initial packet with the given frames (plaintext), padding
// the frames with PADDING so that the payload is at least minPayload bytes.
func (p *initialProtector) appendInitial(b []byte, dcid, scid []byte, pn uint64, frames []byte, minPayload int) []byte {
	if len(frames) < minPayload {
		frames = append(frames, make([]byte, minPayload-len(frames))...)
	}
	start := len(b)
	b = append(b, 0xc0|byte(quicPNLen-1), 0, 0, 0, 1, byte(len(dcid)))
	b = append(b, dcid...)
	b = append(b, byte(len(scid)))
	b = append(b, scid...)
	b = append(b, 0) // token length
	length := quicPNLen + len(frames) + p.aead.Overhead()
	b = append(b, 0x40|byte(length>>8), byte(length))
	pnOff := len(b)
	b = append(b, byte(pn>>8), byte(pn))
	var nonce [12]byte
	copy(nonce[:], p.iv)
	for i := 0; i < 8; i++ {
		nonce[11-i] ^= byte(pn >> (8 * i))
	}
	b = p.aead.Seal(b, nonce[:], frames, b[start:])
	var mask [16]byte
	p.hp.Encrypt(mask[:], b[pnOff+4:pnOff+20])
	b[start] ^= mask[0] & 0x0f
	for i := 0; i < quicPNLen; i++ {
		b[pnOff+i] ^= mask[1+i]
	}
	return b
}

func appendCrypto(b []byte, off uint64, data []byte) []byte {
	b = append(b, 0x06)
	b = appendVarint(b, off)
	b = appendVarint(b, uint64(len(data)))
	return append(b, data...)
}

func appendAck(b []byte, largest uint64, delay uint64) []byte {
	b = append(b, 0x02)
	b = appendVarint(b, largest)
	b = appendVarint(b, delay)
	b = append(b, 0, 0) // no extra ranges, first range 0
	return b
}

// appendLongFiller appends a Handshake (typ 2) long-header packet whose protected payload is
// filler of the right length (plain bytes n plus the AEAD tag).
func (g *flowGen) appendLongFiller(b []byte, typ byte, dcid, scid []byte, n int) []byte {
	b = append(b, 0xc0|typ<<4|byte(g.r.IntN(4)), 0, 0, 0, 1, byte(len(dcid)))
	b = append(b, dcid...)
	b = append(b, byte(len(scid)))
	b = append(b, scid...)
	length := quicPNLen + n + 16
	b = append(b, 0x40|byte(length>>8), byte(length))
	return g.appendFiller(b, quicPNLen+n+16)
}

// appendShort appends a 1-RTT short-header packet of n protected payload bytes (tag included).
func (g *flowGen) appendShort(b []byte, dcid []byte, n int) []byte {
	b = append(b, 0x40|byte(g.r.IntN(32)))
	b = append(b, dcid...)
	return g.appendFiller(b, quicPNLen+n)
}

func (g *flowGen) appendFiller(b []byte, n int) []byte {
	start := g.fillAt(n)
	return append(b, g.fill[start:start+n]...)
}

// quicMaxDatagram is the UDP payload size of full QUIC packets.
const quicMaxDatagram = 1252

// udpSend plans one datagram (its bytes already at stream[off:off+n]) of side at time ts.
func (g *flowGen) udpSend(server bool, ts int64, off, n int) int64 {
	return g.plan(server, ts, 0, off, n)
}

// datagram appends a datagram built by fill to the side's stream and plans it.
func (g *flowGen) datagram(server bool, ts int64, fill func(b []byte) []byte) int64 {
	s := &g.side[sideIdx(server)]
	off := len(s.stream)
	s.stream = fill(s.stream)
	return g.udpSend(server, ts, off, len(s.stream)-off)
}

func (l *Lab) buildQUIC(g *flowGen, sp flowSpec, s *Service, tr *transcript) {
	l.setupHosts(g, sp, s)
	q := tr.quic
	var dcid, ccid, scid [8]byte
	for i := range dcid {
		dcid[i], ccid[i], scid[i] = byte(g.r.Uint32()), byte(g.r.Uint32()), byte(g.r.Uint32())
	}
	cp, err := newInitialProtector(dcid[:], false)
	if err != nil {
		panic(err) // AES-128 with a 16-byte key cannot fail
	}
	spr, err := newInitialProtector(dcid[:], true)
	if err != nil {
		panic(err)
	}
	var frames []byte
	// Client Initial(s): the ClientHello in CRYPTO frames, datagrams padded to 1200 bytes.
	t := int64(0)
	var cpn, spn uint64
	for off := 0; off < len(q.clientInitial); {
		n := min(len(q.clientInitial)-off, 1100)
		frames = appendCrypto(frames[:0], uint64(off), q.clientInitial[off:off+n])
		t = g.datagram(false, t, func(b []byte) []byte {
			return cp.appendInitial(b, dcid[:], ccid[:], cpn, frames, 1200-(1+4+1+8+1+8+1+2+quicPNLen+16))
		})
		cpn++
		off += n
		t += g.jitter(20, 0.5)
	}
	// Server: Initial(s) with ACK + ServerHello, coalesced with Handshake packets carrying the
	// rest of its flight.
	t += g.rtt + g.jitter(800, 0.6)
	hsLeft := len(q.serverHandshake) + 4*(len(q.serverHandshake)/1100+1) // CRYPTO frame headers
	for off := 0; off < len(q.serverInitial); {
		n := min(len(q.serverInitial)-off, 1100)
		frames = appendAck(frames[:0], cpn-1, uint64(g.r.IntN(50)))
		frames = appendCrypto(frames, uint64(off), q.serverInitial[off:off+n])
		off += n
		last := off == len(q.serverInitial)
		t = g.datagram(true, t, func(b []byte) []byte {
			start := len(b)
			b = spr.appendInitial(b, ccid[:], scid[:], spn, frames, 0)
			if last {
				room := quicMaxDatagram - (len(b) - start) - (1 + 4 + 1 + 8 + 1 + 8 + 2 + quicPNLen + 16)
				if room > 50 {
					k := min(room, hsLeft)
					b = g.appendLongFiller(b, 2, ccid[:], scid[:], k)
					hsLeft -= k
				}
			}
			return b
		})
		spn++
		t += g.jitter(15, 0.5)
	}
	for hsLeft > 0 {
		k := min(hsLeft, quicMaxDatagram-(1+4+1+8+1+8+2+quicPNLen+16))
		t = g.datagram(true, t, func(b []byte) []byte { return g.appendLongFiller(b, 2, ccid[:], scid[:], k) })
		hsLeft -= k
		t += g.jitter(15, 0.5)
	}
	// Client: Initial ACK + Handshake(ACK, Finished), padded to 1200, then the first request.
	t += g.jitter(500, 0.5)
	frames = appendAck(frames[:0], spn-1, uint64(g.r.IntN(50)))
	t = g.datagram(false, t, func(b []byte) []byte {
		start := len(b)
		b = cp.appendInitial(b, dcid[:], ccid[:], cpn, frames, 0)
		used := len(b) - start
		hsLen := len(q.clientHandshake) + 8
		b = g.appendLongFiller(b, 2, scid[:], ccid[:], hsLen)
		if pad := 1200 - (len(b) - start); pad > 0 {
			_ = used
			b = g.appendFiller(b, pad)
		}
		return b
	})
	// Application data in 1-RTT packets.
	t = l.quicApplication(g, s, t, scid[:], ccid[:])
	// The client closes with CONNECTION_CLOSE.
	t += g.jitter(20000, 1.0)
	g.datagram(false, t, func(b []byte) []byte { return g.appendShort(b, scid[:], 8+16) })
}

// quicMessage sends size bytes of stream data in 1-RTT packets from one side, with the peer's
// ACK-only packets every second packet; it returns the time of the last packet.
func (l *Lab) quicMessage(g *flowGen, server bool, t int64, size int, scid, ccid []byte) int64 {
	dcid, peerDCID := scid, ccid
	if server {
		dcid, peerDCID = ccid, scid
	}
	const hdr = 1 + 8 + quicPNLen
	count := 0
	for size > 0 {
		payload := min(size, quicMaxDatagram-hdr-16-12)
		size -= payload
		t = g.datagram(server, t, func(b []byte) []byte { return g.appendShort(b, dcid, payload+12+16) })
		count++
		if count%2 == 0 || size == 0 {
			ackAt := t + g.rtt + g.jitter(400, 0.5)
			if server {
				ackAt = t + g.jitter(300, 0.5)
			}
			peer := &g.side[1-sideIdx(server)]
			if ackAt > peer.last {
				g.datagram(!server, ackAt, func(b []byte) []byte { return g.appendShort(b, peerDCID, 6+16) })
			}
		}
		t += int64(float64(payload+60)/g.bw) + g.jitter(3, 0.8)
	}
	return t
}

func (l *Lab) quicApplication(g *flowGen, s *Service, t int64, scid, ccid []byte) int64 {
	n := 1 + int(g.r.ExpFloat64()*(s.Exchanges-1)+0.5)
	n = min(max(n, 1), 400)
	if s.Kind == Interactive {
		n = max(2, n)
	}
	size := func(d LogNormal) int { return max(1, min(int(d.draw(g.r)), 4<<20)) }
	ms := func(d LogNormal) int64 { return max(1, min(int64(d.draw(g.r)*1000), maxPauseUS)) }
	for i := 0; i < n; i++ {
		switch s.Kind {
		case RequestResponse, Bulk:
			if i > 0 {
				t += ms(s.Gap)
			}
			t = l.quicMessage(g, false, t, size(s.Req), scid, ccid)
			t = l.quicMessage(g, true, t+g.rtt+ms(s.Think), size(s.Resp), scid, ccid)
		case Interactive:
			t += ms(s.Gap)
			if g.r.IntN(2) == 0 {
				t = l.quicMessage(g, false, t, size(s.Req), scid, ccid)
			} else {
				t = l.quicMessage(g, true, t, size(s.Resp), scid, ccid)
			}
		}
	}
	return t
}

// finishUDP builds the frames of a UDP flow from its planned datagrams.
func (g *flowGen) finishUDP(start int64) []packet {
	slicesSortSegs(g.segs)
	size := 0
	for i := range g.segs {
		size += ethLen + ipv6Len + udpLen + g.segs[i].n
	}
	g.arena = slices.Grow(g.arena, size)
	g.pkts = slices.Grow(g.pkts, len(g.segs))
	offs := g.offs[:0]
	for i := range g.segs {
		sg := &g.segs[i]
		s, peer := &g.side[sideIdx(sg.server)], &g.side[1-sideIdx(sg.server)]
		offs = append(offs, len(g.arena))
		g.arena = appendUDP(g.arena, &s.h, &peer.h, s.stream[sg.off:sg.off+sg.n], !g.noChecksums)
	}
	offs = append(offs, len(g.arena))
	g.offs = offs
	for i := range g.segs {
		g.pkts = append(g.pkts, packet{ts: start + g.segs[i].ts, frame: g.arena[offs[i]:offs[i+1]:offs[i+1]]})
	}
	return g.pkts
}
