package tlsfp

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
)

// Transport is the transport protocol of a tracked flow.
type Transport int

const (
	// TCP carries TLS records.
	TCP Transport = iota
	// UDP carries QUIC (v1, v2 and late drafts) or DTLS; other UDP payloads are given up on.
	UDP
)

// Limits of a Tracker. They bound memory per flow and how long a non-TLS flow is fed.
const (
	// MaxHelloBytes bounds the bytes buffered per direction (and thus a hello's size).
	MaxHelloBytes = 64 << 10
	// maxPreamble is how many data segments or datagrams a direction may send before its
	// hello starts (SOCKS, HTTP CONNECT, STARTTLS greetings) before it is given up on.
	maxPreamble = 16
	// maxPending and maxPendingBytes bound the segments kept from before the hello's first
	// one, so that the hello's later segments are not lost when they arrive first.
	maxPending      = 16
	maxPendingBytes = 8 << 10
	// maxRecord is the largest TLS record length accepted (2^14 plus expansion).
	maxRecord = 1<<14 + 2048
)

// Result holds the fingerprints of one flow. Empty strings mean "not seen".
type Result struct {
	SNI        string // server_name of the ClientHello (non-printable bytes escaped as \xNN)
	ALPN       string // protocols offered in the ClientHello, comma-separated, in order
	TLSVersion string // negotiated version ("1.3", "1.2", ...); the client's highest offer without a ServerHello
	JA3        string // MD5 of JA3Full
	JA3Full    string
	JA3S       string // MD5 of JA3SFull
	JA3SFull   string
	JA4        string
	JA4R       string // JA4_r
	JA4S       string
	QUIC       bool // hellos came from QUIC Initial packets
}

// segment is a TCP payload at a sequence number.
type segment struct {
	seq  uint32
	data []byte
}

// dirState is the reassembly state of one direction.
type dirState struct {
	finished bool // hello parsed, or given up
	gotHello bool
	nonTLS   bool // given up because no hello started
	// TCP
	anchored bool
	base     uint32
	segs     []segment // at or after base
	pending  []segment // before anchoring, kept for out-of-order arrival
	buffered int
	preamble int
	pendingB int
	scratch  []byte
	// QUIC and DTLS
	crypto    *CryptoStream
	datagrams int
	dtlsLen   int // length of the DTLS hello being reassembled
}

// Tracker extracts the hellos of one flow from its transport payloads. It is not safe for
// concurrent use; use one per flow.
type Tracker struct {
	transport      Transport
	client, server dirState
	res            Result
	clientVersion  uint16
	serverVersion  uint16
	err            error
	dtls           bool
	// QUIC
	odcid   []byte
	keys    [2]*initialKeys // client, server
	keysVer [2]uint32
	// memo, when not nil, computes or remembers the fingerprint strings (Memo.NewTracker).
	memo *Memo
}

// NewTracker returns a Tracker for a flow over transport t.
func NewTracker(t Transport) *Tracker { return &Tracker{transport: t} }

// Packet feeds one transport payload of the flow. fromClient gives its direction; seq is
// the TCP sequence number of the payload's first byte (ignored for UDP). Empty payloads are
// ignored. Once Done reports true, further packets are ignored.
func (t *Tracker) Packet(fromClient bool, seq uint32, payload []byte) {
	if len(payload) == 0 || t.Done() {
		return
	}
	d := &t.server
	if fromClient {
		d = &t.client
	}
	if d.finished {
		return
	}
	if t.transport == UDP {
		if t.dtls || t.odcid == nil && looksLikeDTLS(payload) {
			t.dtls = true
			t.dtlsDatagram(d, fromClient, payload)
			return
		}
		t.quic(d, fromClient, payload)
	} else {
		t.tcp(d, fromClient, seq, payload)
	}
}

// Done reports whether the caller may stop feeding packets: both directions have their
// hello or ended in an error, or a direction is not TLS/QUIC/DTLS at all (no hello within 16
// segments or datagrams) while the other has not started one either.
func (t *Tracker) Done() bool {
	c, s := &t.client, &t.server
	if c.finished && s.finished {
		return true
	}
	return c.nonTLS && !s.gotHello && !s.started() || s.nonTLS && !c.gotHello && !c.started()
}

// started reports whether the direction is reading a hello.
func (d *dirState) started() bool { return d.anchored || d.crypto != nil }

// Result returns the fingerprints found so far.
func (t *Tracker) Result() Result {
	r := t.res
	switch {
	case t.serverVersion != 0:
		r.TLSVersion = VersionString(t.serverVersion)
	case t.clientVersion != 0:
		r.TLSVersion = VersionString(t.clientVersion)
	}
	return r
}

// Err returns the first parse error met, if any (an *OffsetError or a wrapped one).
func (t *Tracker) Err() error { return t.err }

func (t *Tracker) fail(d *dirState, err error) {
	if t.err == nil {
		t.err = err
	}
	d.finished = true
	d.segs, d.pending, d.scratch, d.crypto = nil, nil, nil, nil
}

func (t *Tracker) giveUp(d *dirState) {
	d.finished, d.nonTLS = true, true
	d.segs, d.pending, d.scratch, d.crypto = nil, nil, nil, nil
}

// hello parses a complete handshake message and fills the result.
func (t *Tracker) hello(d *dirState, client bool, msg []byte, quic bool) error {
	if client {
		var into *ClientHello
		if t.memo != nil {
			into = &t.memo.hello // parsed fields are not kept past this call
		}
		ch, err := parseClientHello(into, msg, t.dtls)
		if err != nil {
			return err
		}
		t.res.SNI = ch.ServerName
		p := t.memo.clientPrints(ch, quic)
		t.res.ALPN, t.res.JA3Full, t.res.JA3, t.res.JA4, t.res.JA4R = p.alpn, p.ja3Full, p.ja3, p.ja4, p.ja4r
		t.clientVersion = p.version
		if ch.ExtensionErr != nil && t.err == nil {
			t.err = fmt.Errorf("client hello (fingerprints kept): %w", ch.ExtensionErr)
		}
	} else {
		sh, err := ParseServerHello(msg)
		if err != nil {
			return err
		}
		sh.DTLS = t.dtls
		p := t.memo.serverPrints(sh, quic)
		t.res.JA3SFull, t.res.JA3S, t.res.JA4S = p.ja3sFull, p.ja3s, p.ja4s
		t.serverVersion = p.version
		if sh.ExtensionErr != nil && t.err == nil {
			t.err = fmt.Errorf("server hello (fingerprints kept): %w", sh.ExtensionErr)
		}
	}
	t.res.QUIC = t.res.QUIC || quic
	d.finished, d.gotHello = true, true
	d.segs, d.pending, d.scratch, d.crypto = nil, nil, nil, nil
	return nil
}

func wantType(client bool) byte {
	if client {
		return typeClientHello
	}
	return typeServerHello
}

func dirName(client bool) string {
	if client {
		return "client"
	}
	return "server"
}

// looksLikeHello reports whether p starts with a TLS handshake record that may hold the
// wanted hello.
func looksLikeHello(p []byte, want byte) bool {
	if len(p) < 3 || p[0] != 0x16 || p[1] != 3 || p[2] > 4 {
		return false
	}
	return len(p) < 6 || p[5] == want
}

// status of a reassembly attempt.
type status int

const (
	incomplete status = iota
	complete
	failed
)

// handshakeFromRecords extracts the first handshake message from a stream of TLS records.
// The returned message aliases stream when it lies within one record.
func handshakeFromRecords(stream []byte, want byte, scratch []byte) ([]byte, []byte, status, error) {
	var hs []byte
	gathering := false
	for off := 0; ; {
		if len(stream)-off < 5 {
			return nil, scratch, incomplete, nil
		}
		rec := stream[off:]
		if rec[0] != 0x16 {
			return nil, scratch, failed, errAt("tls record", off, fmt.Errorf("content type %d while reading a handshake message: %w", rec[0], ErrNotHello))
		}
		if rec[1] != 3 {
			return nil, scratch, failed, errAt("tls record", off+1, fmt.Errorf("record version 0x%02x%02x: %w", rec[1], rec[2], ErrMalformed))
		}
		n := int(rec[3])<<8 | int(rec[4])
		if n == 0 || n > maxRecord {
			return nil, scratch, failed, errAt("tls record", off+3, fmt.Errorf("record length %d: %w", n, ErrMalformed))
		}
		if len(rec) < 5+n {
			return nil, scratch, incomplete, nil
		}
		frag := rec[5 : 5+n]
		if !gathering {
			if frag[0] != want {
				return nil, scratch, failed, errAt("tls record", off+5, fmt.Errorf("handshake type %d, want %d: %w", frag[0], want, ErrNotHello))
			}
			if len(frag) >= 4 {
				m := int(frag[1])<<16 | int(frag[2])<<8 | int(frag[3])
				if len(frag) >= 4+m {
					return frag[:4+m], scratch, complete, nil
				}
			}
			gathering = true
			hs = append(scratch[:0], frag...)
		} else {
			hs = append(hs, frag...)
		}
		if len(hs) >= 4 {
			m := int(hs[1])<<16 | int(hs[2])<<8 | int(hs[3])
			if 4+m > MaxHelloBytes {
				return nil, hs, failed, errAt("tls handshake", off, fmt.Errorf("hello of %d bytes: %w", 4+m, ErrTooLarge))
			}
			if len(hs) >= 4+m {
				return hs[:4+m], hs, complete, nil
			}
		}
		off += 5 + n
	}
}

func (t *Tracker) tcp(d *dirState, client bool, seq uint32, p []byte) {
	want := wantType(client)
	if !d.anchored {
		if !looksLikeHello(p, want) {
			d.preamble++
			if d.preamble > maxPreamble {
				t.giveUp(d)
				return
			}
			if len(p) > maxPendingBytes {
				return
			}
			for len(d.pending) > 0 && (len(d.pending) == maxPending || d.pendingB+len(p) > maxPendingBytes) {
				d.pendingB -= len(d.pending[0].data)
				d.pending = d.pending[1:]
			}
			d.pending = append(d.pending, segment{seq: seq, data: bytes.Clone(p)})
			d.pendingB += len(p)
			return
		}
		// Fast path: the whole hello in this segment, nothing copied.
		if msg, _, st, _ := handshakeFromRecords(p, want, nil); st == complete {
			if err := t.hello(d, client, msg, false); err != nil {
				t.fail(d, fmt.Errorf("%s hello at stream offset 0: %w", dirName(client), err))
			}
			return
		}
		d.anchored, d.base = true, seq
		d.segs = append(d.segs, segment{seq: 0, data: bytes.Clone(p)})
		d.buffered = len(p)
		for _, s := range d.pending {
			if rel := s.seq - seq; int32(rel) > 0 && rel < MaxHelloBytes {
				d.segs = append(d.segs, segment{seq: rel, data: s.data})
				d.buffered += len(s.data)
			}
		}
		d.pending, d.pendingB = nil, 0
	} else {
		rel := seq - d.base
		if int32(rel) < 0 {
			return // before the hello: a retransmitted preamble
		}
		if rel >= MaxHelloBytes {
			t.fail(d, fmt.Errorf("%s stream: %w", dirName(client), errAt("tls stream", contiguousLen(d.segs),
				fmt.Errorf("segment missing, data already at offset %d: %w", rel, ErrTruncated))))
			return
		}
		for _, s := range d.segs {
			if s.seq == rel && len(s.data) >= len(p) {
				return // duplicate
			}
		}
		d.segs = append(d.segs, segment{seq: rel, data: bytes.Clone(p)})
		d.buffered += len(p)
	}
	// Reassemble the contiguous prefix from offset 0.
	slices.SortStableFunc(d.segs, func(a, b segment) int {
		switch {
		case a.seq < b.seq:
			return -1
		case a.seq > b.seq:
			return 1
		}
		return len(b.data) - len(a.data)
	})
	buf := d.scratch[:0]
	for _, s := range d.segs {
		if int(s.seq) > len(buf) {
			break
		}
		if end := int(s.seq) + len(s.data); end > len(buf) {
			buf = append(buf, s.data[len(buf)-int(s.seq):]...)
		}
	}
	d.scratch = buf
	msg, _, st, err := handshakeFromRecords(buf, want, nil)
	switch st {
	case complete:
		msg = bytes.Clone(msg)
		if err := t.hello(d, client, msg, false); err != nil {
			t.fail(d, fmt.Errorf("%s hello (reassembled from %d segments): %w", dirName(client), len(d.segs), err))
		}
	case failed:
		t.fail(d, fmt.Errorf("%s stream: %w", dirName(client), err))
	default:
		if d.buffered > MaxHelloBytes {
			t.fail(d, fmt.Errorf("%s stream: %w", dirName(client), errAt("tls stream", len(buf),
				fmt.Errorf("segment missing, %d bytes buffered: %w", d.buffered, ErrTruncated))))
		}
	}
}

// contiguousLen returns the length of the gap-free prefix of sorted-or-not segments.
func contiguousLen(segs []segment) int {
	n := 0
	for grew := true; grew; {
		grew = false
		for _, s := range segs {
			if int(s.seq) <= n && int(s.seq)+len(s.data) > n {
				n = int(s.seq) + len(s.data)
				grew = true
			}
		}
	}
	return n
}

// quic handles one UDP datagram.
func (t *Tracker) quic(d *dirState, client bool, p []byte) {
	d.datagrams++
	idx := 1
	if client {
		idx = 0
	}
	if client && t.odcid == nil {
		if !IsQUICInitial(p) {
			// STUN (ICE checks before DTLS in WebRTC) may precede the hello for a while;
			// anything else ends the client's chances sooner.
			if !isSTUN(p) {
				d.preamble++
			}
			if d.preamble >= 4 || d.datagrams > maxPreamble {
				t.giveUp(d)
			}
			return
		}
		_, dcid, err := InitialDCID(p)
		if err != nil {
			t.fail(d, fmt.Errorf("client datagram %d: %w", d.datagrams, err))
			return
		}
		t.odcid = bytes.Clone(dcid)
	}
	if !client && t.odcid != nil && len(p) > 6 && p[0]&0x80 != 0 {
		// A Retry moves the Initial keys to the connection ID the server chose.
		if h, typ, err := parseLongHeader(p, 0); err == nil && typ == retryType(h.version) && h.version != 0 {
			if _, _, _, ok := versionParams(h.version); ok {
				t.odcid = bytes.Clone(h.scid)
				t.keys = [2]*initialKeys{}
				return
			}
		}
	}
	if t.odcid == nil || p[0]&0x80 == 0 {
		if d.datagrams > maxPreamble {
			t.giveUp(d)
		}
		return
	}
	keysFor := func(version uint32, dcid []byte) (*initialKeys, error) {
		if k := t.keys[idx]; k != nil && t.keysVer[idx] == version {
			return k, nil
		}
		k, err := newInitialKeys(version, t.odcid, client)
		if err != nil {
			return nil, err
		}
		t.keys[idx], t.keysVer[idx] = k, version
		return k, nil
	}
	pkts, err := parseInitialWith(p, keysFor)
	if err != nil && errors.Is(err, ErrDecrypt) && client && IsQUICInitial(p) {
		// After a Retry the client derives new keys from its new DCID.
		if _, dcid, e := InitialDCID(p); e == nil && !bytes.Equal(dcid, t.odcid) {
			t.odcid = bytes.Clone(dcid)
			t.keys = [2]*initialKeys{}
			pkts, err = parseInitialWith(p, keysFor)
		}
	}
	if err != nil {
		if len(pkts) == 0 && errors.Is(err, ErrDecrypt) && d.datagrams <= maxPreamble {
			return // not ours to read (e.g. another version's keys); keep trying a while
		}
		if len(pkts) == 0 {
			t.fail(d, fmt.Errorf("%s datagram %d: %w", dirName(client), d.datagrams, err))
			return
		}
	}
	if d.crypto == nil {
		d.crypto = NewCryptoStream(MaxHelloBytes)
	}
	for _, pk := range pkts {
		for _, f := range pk.Crypto {
			if e := d.crypto.Add(f); e != nil {
				t.fail(d, fmt.Errorf("%s datagram %d: %w", dirName(client), d.datagrams, e))
				return
			}
		}
	}
	hs := d.crypto.Contiguous()
	if len(hs) >= 4 {
		if hs[0] != wantType(client) {
			t.fail(d, fmt.Errorf("%s crypto stream: %w", dirName(client), errAt("quic crypto stream", 0, ErrNotHello)))
			return
		}
		m := int(hs[1])<<16 | int(hs[2])<<8 | int(hs[3])
		if len(hs) >= 4+m {
			if err := t.hello(d, client, hs[:4+m], true); err != nil {
				t.fail(d, fmt.Errorf("%s hello in QUIC Initial: %w", dirName(client), err))
			}
			return
		}
	}
	if d.datagrams > maxPreamble {
		t.giveUp(d)
	}
}

// looksLikeDTLS reports whether a datagram starts with a DTLS handshake record of epoch 0.
func looksLikeDTLS(p []byte) bool {
	return len(p) >= 25 && p[0] == 0x16 && p[1] == 0xfe && p[2] >= 0xfc && p[3] == 0 && p[4] == 0
}

// dtlsDatagram reads the DTLS records of one datagram and reassembles the direction's hello
// from its handshake fragments (RFC 6347 4.2.2, RFC 9147 5.2).
func (t *Tracker) dtlsDatagram(d *dirState, client bool, p []byte) {
	d.datagrams++
	want := wantType(client)
	for off := 0; off+13 <= len(p); {
		typ, major, n := p[off], p[off+1], int(p[off+11])<<8|int(p[off+12])
		epoch0 := p[off+3] == 0 && p[off+4] == 0
		if off+13+n > len(p) {
			t.fail(d, fmt.Errorf("%s datagram %d: %w", dirName(client), d.datagrams,
				errAt("dtls record", off+11, fmt.Errorf("length %d beyond datagram: %w", n, ErrTruncated))))
			return
		}
		rec, recOff := p[off+13:off+13+n], off+13
		off += 13 + n
		if typ != 0x16 || major != 0xfe || !epoch0 {
			continue
		}
		for hs := 0; hs+12 <= len(rec); {
			mt := rec[hs]
			mlen := int(rec[hs+1])<<16 | int(rec[hs+2])<<8 | int(rec[hs+3])
			fragOff := int(rec[hs+6])<<16 | int(rec[hs+7])<<8 | int(rec[hs+8])
			fragLen := int(rec[hs+9])<<16 | int(rec[hs+10])<<8 | int(rec[hs+11])
			if hs+12+fragLen > len(rec) {
				t.fail(d, fmt.Errorf("%s datagram %d: %w", dirName(client), d.datagrams,
					errAt("dtls handshake", recOff+hs+9, fmt.Errorf("fragment length %d beyond record: %w", fragLen, ErrTruncated))))
				return
			}
			frag := rec[hs+12 : hs+12+fragLen]
			hs += 12 + fragLen
			if mt != want {
				continue // e.g. HelloVerifyRequest
			}
			if mlen > MaxHelloBytes {
				t.fail(d, fmt.Errorf("%s datagram %d: %w", dirName(client), d.datagrams,
					errAt("dtls handshake", recOff+hs-12-fragLen+1, fmt.Errorf("hello of %d bytes: %w", mlen, ErrTooLarge))))
				return
			}
			if d.crypto == nil {
				d.crypto, d.dtlsLen = NewCryptoStream(MaxHelloBytes), mlen
			} else if mlen != d.dtlsLen {
				continue // another hello (a retry after HelloVerifyRequest): the first one counts
			}
			if err := d.crypto.Add(CryptoFrame{Offset: uint64(fragOff), Data: frag}); err != nil {
				t.fail(d, fmt.Errorf("%s datagram %d: %w", dirName(client), d.datagrams, err))
				return
			}
			if body := d.crypto.Contiguous(); len(body) >= mlen {
				msg := make([]byte, 4+mlen)
				msg[0], msg[1], msg[2], msg[3] = mt, byte(mlen>>16), byte(mlen>>8), byte(mlen)
				copy(msg[4:], body)
				if err := t.hello(d, client, msg, false); err != nil {
					t.fail(d, fmt.Errorf("%s hello in DTLS: %w", dirName(client), err))
				}
				return
			}
		}
	}
	if d.datagrams > maxPreamble {
		t.giveUp(d)
	}
}

// isSTUN reports whether a datagram is a STUN message (RFC 5389: two zero bits, then the
// magic cookie 0x2112a442 at offset 4).
func isSTUN(p []byte) bool {
	return len(p) >= 20 && p[0]&0xc0 == 0 && p[4] == 0x21 && p[5] == 0x12 && p[6] == 0xa4 && p[7] == 0x42
}
