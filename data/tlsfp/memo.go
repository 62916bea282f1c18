package tlsfp

import (
	"encoding/binary"
	"strings"
)

// memoEntries bounds each of a Memo's two tables; hellos met after that are fingerprinted
// without being remembered.
const memoEntries = 1 << 14

// Memo remembers the fingerprint strings of the hellos its trackers parsed, keyed by every
// field that the fingerprints are computed from (transport, version, cipher suites, extension
// types, groups, point formats, signature algorithms, supported versions and ALPN list for a
// ClientHello; version, cipher, extension types, selected version and ALPN for a
// ServerHello). Flows from the same TLS stack then share one copy of each string, and JA3's
// MD5, JA4's SHA-256 and the string building run once per distinct stack instead of once per
// flow. The SNI is per flow and never remembered. A Memo serves the trackers of one goroutine
// (a flow table); it is not safe for concurrent use.
type Memo struct {
	client map[string]*clientPrints
	server map[string]*serverPrints
	key    []byte
	free   []*Tracker  // released trackers, reused by NewTracker
	hello  ClientHello // the trackers parse ClientHellos into it, reusing its slices
}

type clientPrints struct {
	alpn, ja3Full, ja3, ja4, ja4r string
	version                       uint16
}

type serverPrints struct {
	ja3sFull, ja3s, ja4s string
	version              uint16
}

// NewMemo returns an empty memo.
func NewMemo() *Memo {
	return &Memo{client: make(map[string]*clientPrints), server: make(map[string]*serverPrints)}
}

// NewTracker returns a Tracker for a flow over transport t whose fingerprints go through m.
// Its results equal those of a Tracker from the package's NewTracker. It reuses a tracker given
// back with Release when there is one.
func (m *Memo) NewTracker(t Transport) *Tracker {
	if n := len(m.free); n > 0 {
		tr := m.free[n-1]
		m.free = m.free[:n-1]
		*tr = Tracker{transport: t, memo: m}
		return tr
	}
	return &Tracker{transport: t, memo: m}
}

// maxFree bounds the trackers a Memo keeps for reuse.
const maxFree = 1024

// Release gives a tracker made by Memo.NewTracker back for reuse once its Result was taken;
// the tracker must not be used afterwards. Trackers from the package's NewTracker ignore it.
func (t *Tracker) Release() {
	if m := t.memo; m != nil && len(m.free) < maxFree {
		m.free = append(m.free, t)
	}
}

// clientPrints returns the fingerprints of ch, computed or remembered (m may be nil).
func (m *Memo) clientPrints(ch *ClientHello, quic bool) *clientPrints {
	if m == nil {
		return computeClientPrints(ch, quic)
	}
	k := append(m.key[:0], flagBits(quic, ch.DTLS, ch.hasServerName))
	k = binary.BigEndian.AppendUint16(k, ch.Version)
	k = appendU16s(k, ch.CipherSuites)
	k = binary.BigEndian.AppendUint32(k, uint32(len(ch.Extensions)))
	for _, e := range ch.Extensions {
		k = binary.BigEndian.AppendUint16(k, e.Type)
	}
	k = appendU16s(k, ch.SupportedGroups)
	k = binary.BigEndian.AppendUint32(k, uint32(len(ch.ECPointFormats)))
	k = append(k, ch.ECPointFormats...)
	k = appendU16s(k, ch.SignatureAlgorithms)
	k = appendU16s(k, ch.SupportedVersions)
	k = binary.BigEndian.AppendUint32(k, uint32(len(ch.ALPN)))
	for _, p := range ch.ALPN {
		k = binary.BigEndian.AppendUint32(k, uint32(len(p)))
		k = append(k, p...)
	}
	m.key = k
	if p := m.client[string(k)]; p != nil {
		return p
	}
	p := computeClientPrints(ch, quic)
	if len(m.client) < memoEntries {
		m.client[string(k)] = p
	}
	return p
}

// serverPrints returns the fingerprints of sh, computed or remembered (m may be nil).
func (m *Memo) serverPrints(sh *ServerHello, quic bool) *serverPrints {
	if m == nil {
		return computeServerPrints(sh, quic)
	}
	k := append(m.key[:0], flagBits(quic, sh.DTLS, false))
	k = binary.BigEndian.AppendUint16(k, sh.Version)
	k = binary.BigEndian.AppendUint16(k, sh.CipherSuite)
	k = binary.BigEndian.AppendUint16(k, sh.SupportedVersion)
	k = binary.BigEndian.AppendUint32(k, uint32(len(sh.Extensions)))
	for _, e := range sh.Extensions {
		k = binary.BigEndian.AppendUint16(k, e.Type)
	}
	k = append(k, sh.ALPN...)
	m.key = k
	if p := m.server[string(k)]; p != nil {
		return p
	}
	p := computeServerPrints(sh, quic)
	if len(m.server) < memoEntries {
		m.server[string(k)] = p
	}
	return p
}

func flagBits(quic, dtls, sni bool) byte {
	var b byte
	if quic {
		b |= 1
	}
	if dtls {
		b |= 2
	}
	if sni {
		b |= 4
	}
	return b
}

func appendU16s(k []byte, vs []uint16) []byte {
	k = binary.BigEndian.AppendUint32(k, uint32(len(vs)))
	for _, v := range vs {
		k = binary.BigEndian.AppendUint16(k, v)
	}
	return k
}

func computeClientPrints(ch *ClientHello, quic bool) *clientPrints {
	p := &clientPrints{version: ch.clientVersion()}
	alpn := make([]string, len(ch.ALPN))
	for i, a := range ch.ALPN {
		alpn[i] = printable([]byte(a))
	}
	p.alpn = strings.Join(alpn, ",")
	p.ja3Full = JA3Full(ch)
	p.ja3 = md5hex(p.ja3Full)
	head, cs, es := ja4Parts(ch, quic)
	p.ja4 = head + "_" + hash12(cs) + "_" + hash12(es)
	p.ja4r = head + "_" + cs + "_" + es
	return p
}

func computeServerPrints(sh *ServerHello, quic bool) *serverPrints {
	p := &serverPrints{version: sh.NegotiatedVersion()}
	p.ja3sFull = JA3SFull(sh)
	p.ja3s = md5hex(p.ja3sFull)
	p.ja4s = JA4S(sh, quic)
	return p
}
