package tlsfp

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// QUIC versions with known Initial keys.
const (
	QUICv1 uint32 = 0x00000001 // RFC 9000/9001
	QUICv2 uint32 = 0x6b3343cf // RFC 9369
)

var (
	saltV1      = []byte{0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a}
	saltV2      = []byte{0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9}
	saltDraft29 = []byte{0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99}
	saltDraft21 = []byte{0x7f, 0xbc, 0xdb, 0x0e, 0x7c, 0x66, 0xbb, 0xe9, 0x19, 0x3a, 0x96, 0xcd, 0x21, 0x51, 0x9e, 0xbd, 0x7a, 0x02, 0x64, 0x4a}
	saltDraft23 = []byte{0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7, 0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65, 0xbe, 0xf9, 0xf5, 0x02}
)

// versionParams returns the Initial salt, the label prefix and the long-header packet type
// of Initial packets for a QUIC version; ok is false for unknown versions.
func versionParams(v uint32) (salt []byte, prefix string, initialType byte, ok bool) {
	switch {
	case v == QUICv1:
		return saltV1, "quic ", 0, true
	case v == QUICv2:
		return saltV2, "quicv2 ", 1, true
	case v >= 0xff00001d && v <= 0xff000022: // drafts 29-34
		return saltDraft29, "quic ", 0, true
	case v >= 0xff000017 && v <= 0xff00001c, v == 0xfaceb002, v == 0xfaceb00e: // drafts 23-28; mvfst d27
		return saltDraft23, "quic ", 0, true
	case v == 0xff000015 || v == 0xff000016 || v == 0xfaceb001: // drafts 21-22; mvfst d22
		return saltDraft21, "quic ", 0, true
	}
	return nil, "", 0, false
}

// expandLabel is TLS 1.3's HKDF-Expand-Label with an empty context (RFC 8446 7.1).
func expandLabel(secret []byte, label string, n int) []byte {
	full := "tls13 " + label
	info := make([]byte, 0, 4+len(full))
	info = append(info, byte(n>>8), byte(n), byte(len(full)))
	info = append(info, full...)
	info = append(info, 0)
	out, err := hkdf.Expand(sha256.New, secret, string(info), n)
	if err != nil { // only for n > 255*32, which never happens here
		panic(err)
	}
	return out
}

// initialKeys are the packet protection keys of one direction's Initial packets.
type initialKeys struct {
	aead cipher.AEAD
	iv   []byte
	hp   cipher.Block
}

// deriveInitial returns the AEAD key, IV and header protection key of the client's or
// server's Initial packets, derived from the Destination Connection ID of the client's
// first Initial packet (RFC 9001 5.2, RFC 9369 3.3).
func deriveInitial(version uint32, dcid []byte, client bool) (key, iv, hp []byte, err error) {
	salt, prefix, _, ok := versionParams(version)
	if !ok {
		return nil, nil, nil, fmt.Errorf("version 0x%08x: %w", version, ErrUnsupportedVersion)
	}
	initial, err := hkdf.Extract(sha256.New, dcid, salt)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("initial secret: %w", err)
	}
	label := "server in"
	if client {
		label = "client in"
	}
	secret := expandLabel(initial, label, 32)
	return expandLabel(secret, prefix+"key", 16), expandLabel(secret, prefix+"iv", 12), expandLabel(secret, prefix+"hp", 16), nil
}

// newInitialKeys derives and sets up the Initial packet protection of one direction.
func newInitialKeys(version uint32, dcid []byte, client bool) (*initialKeys, error) {
	key, iv, hpKey, err := deriveInitial(version, dcid, client)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("initial key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("initial key: %w", err)
	}
	hp, err := aes.NewCipher(hpKey)
	if err != nil {
		return nil, fmt.Errorf("initial hp key: %w", err)
	}
	return &initialKeys{aead: aead, iv: iv, hp: hp}, nil
}

// CryptoFrame is the content of one QUIC CRYPTO frame: handshake bytes at Offset of the
// packet number space's crypto stream.
type CryptoFrame struct {
	Offset uint64
	Data   []byte
}

// InitialPacket is one decrypted QUIC Initial packet.
type InitialPacket struct {
	Version      uint32
	DCID, SCID   []byte
	PacketNumber uint64
	Crypto       []CryptoFrame // CRYPTO frames, in packet order
}

// longHeader is a parsed QUIC long header, before header protection is removed.
type longHeader struct {
	start      int // offset of the packet's first byte within the datagram
	first      byte
	version    uint32
	dcid, scid []byte
	pnOffset   int // offset of the packet number within the datagram
	end        int // offset just past this packet within the datagram
}

// parseLongHeader reads the long header of the packet at off; typ is the two type bits.
func parseLongHeader(d []byte, off int) (h longHeader, typ byte, err error) {
	r := &reader{b: d[off:], off: off, what: "quic long header"}
	h.start = off
	h.first = r.u8()
	if r.err == nil && h.first&0x80 == 0 {
		return h, 0, errAt(r.what, off, ErrMalformed)
	}
	if r.err == nil && h.first&0x40 == 0 {
		return h, 0, errAt(r.what, off, fmt.Errorf("fixed bit is 0: %w", ErrMalformed))
	}
	h.version = uint32(r.u16())<<16 | uint32(r.u16())
	h.dcid = r.bytes(int(r.u8()))
	h.scid = r.bytes(int(r.u8()))
	if r.err != nil {
		return h, 0, r.err
	}
	if len(h.dcid) > 20 || len(h.scid) > 20 {
		return h, 0, errAt(r.what, off+5, fmt.Errorf("connection ID longer than 20: %w", ErrMalformed))
	}
	typ = h.first >> 4 & 3
	_, _, initialType, ok := versionParams(h.version)
	if !ok {
		return h, typ, nil
	}
	if typ == initialType {
		tok, ok := r.varint()
		if !ok || tok > uint64(len(d)) {
			return h, typ, errAt(r.what, off+r.pos, ErrTruncated)
		}
		r.bytes(int(tok))
	}
	if typ == retryType(h.version) {
		h.end = len(d)
		return h, typ, nil
	}
	n, ok := r.varint()
	if !ok || r.err != nil {
		return h, typ, errAt(r.what, off+r.pos, ErrTruncated)
	}
	h.pnOffset = off + r.pos
	if n > uint64(len(d)-h.pnOffset) {
		return h, typ, errAt(r.what, off+r.pos, fmt.Errorf("length %d beyond datagram: %w", n, ErrTruncated))
	}
	h.end = h.pnOffset + int(n)
	return h, typ, nil
}

func retryType(v uint32) byte {
	if v == QUICv2 {
		return 0
	}
	return 3
}

// varint reads a QUIC variable-length integer (RFC 9000 16).
func (r *reader) varint() (uint64, bool) {
	if r.err != nil || r.pos >= len(r.b) {
		r.fail(ErrTruncated)
		return 0, false
	}
	n := 1 << (r.b[r.pos] >> 6)
	if r.pos+n > len(r.b) {
		r.fail(ErrTruncated)
		return 0, false
	}
	v := uint64(r.b[r.pos] & 0x3f)
	for i := 1; i < n; i++ {
		v = v<<8 | uint64(r.b[r.pos+i])
	}
	r.pos += n
	return v, true
}

// IsQUICInitial reports whether a UDP payload starts with a QUIC long-header Initial
// packet of a version whose keys are known.
func IsQUICInitial(d []byte) bool {
	if len(d) < 7 || d[0]&0xc0 != 0xc0 {
		return false
	}
	v := binary.BigEndian.Uint32(d[1:5])
	_, _, it, ok := versionParams(v)
	return ok && d[0]>>4&3 == it
}

// InitialDCID returns the version and Destination Connection ID of the first packet of a
// datagram that starts with a QUIC Initial packet.
func InitialDCID(d []byte) (version uint32, dcid []byte, err error) {
	h, _, err := parseLongHeader(d, 0)
	if err != nil {
		return 0, nil, err
	}
	return h.version, h.dcid, nil
}

// ParseInitial decrypts the Initial packets coalesced in one UDP datagram and returns
// their CRYPTO frames. keyDCID is the Destination Connection ID the Initial keys derive
// from: the DCID of the client's first Initial packet (nil: the first packet's own DCID,
// which is right for a client's first datagram). fromClient selects the client or server
// keys. Other packet types (Handshake, 0-RTT, Retry, short header) are skipped. d is left
// unmodified; frame data lives in fresh buffers.
func ParseInitial(d []byte, fromClient bool, keyDCID []byte) ([]InitialPacket, error) {
	var keys *initialKeys
	var keysVersion uint32
	return parseInitialWith(d, func(version uint32, dcid []byte) (*initialKeys, error) {
		if keys != nil && keysVersion == version {
			return keys, nil
		}
		kd := keyDCID
		if kd == nil {
			kd = dcid
		}
		k, err := newInitialKeys(version, kd, fromClient)
		if err == nil {
			keys, keysVersion = k, version
		}
		return k, err
	})
}

// parseInitialWith is ParseInitial with the keys chosen by keysFor (version and the
// packet's own DCID as arguments).
func parseInitialWith(d []byte, keysFor func(version uint32, dcid []byte) (*initialKeys, error)) ([]InitialPacket, error) {
	var out []InitialPacket
	for off := 0; off < len(d); {
		if d[off]&0x80 == 0 { // short header: the rest of the datagram
			break
		}
		h, typ, err := parseLongHeader(d, off)
		if err != nil {
			return out, err
		}
		if h.version == 0 { // version negotiation
			break
		}
		_, _, initialType, ok := versionParams(h.version)
		if !ok {
			if len(out) == 0 {
				return nil, errAt("quic long header", off+1, fmt.Errorf("version 0x%08x: %w", h.version, ErrUnsupportedVersion))
			}
			break
		}
		if h.end <= off {
			break
		}
		if typ != initialType {
			off = h.end
			continue
		}
		keys, err := keysFor(h.version, h.dcid)
		if err != nil {
			return out, err
		}
		p, err := keys.open(d, h)
		if err != nil {
			return out, err
		}
		out = append(out, p)
		off = h.end
	}
	return out, nil
}

// open removes header protection and decrypts one Initial packet, then parses its frames.
func (k *initialKeys) open(d []byte, h longHeader) (InitialPacket, error) {
	p := InitialPacket{Version: h.version, DCID: h.dcid, SCID: h.scid}
	sampleAt := h.pnOffset + 4
	if sampleAt+16 > h.end {
		return p, errAt("quic initial", h.pnOffset, fmt.Errorf("too short for header protection sample: %w", ErrTruncated))
	}
	var mask [16]byte
	k.hp.Encrypt(mask[:], d[sampleAt:sampleAt+16])
	first := h.first ^ mask[0]&0x0f
	pnLen := int(first&3) + 1
	// The unprotected header is the AAD; work on a copy so that d stays intact.
	buf := make([]byte, h.end-h.start)
	copy(buf, d[h.start:h.end])
	buf[0] = first
	pnAt := h.pnOffset - h.start
	var pn uint64
	for i := 0; i < pnLen; i++ {
		b := buf[pnAt+i] ^ mask[1+i]
		buf[pnAt+i] = b
		pn = pn<<8 | uint64(b)
	}
	p.PacketNumber = pn
	hdrLen := pnAt + pnLen
	var nonce [12]byte
	copy(nonce[:], k.iv)
	for i := 0; i < 8; i++ {
		nonce[11-i] ^= byte(pn >> (8 * i))
	}
	plain, err := k.aead.Open(buf[hdrLen:hdrLen], nonce[:], buf[hdrLen:], buf[:hdrLen])
	if err != nil {
		return p, errAt("quic initial", h.start, ErrDecrypt)
	}
	p.Crypto, err = cryptoFrames(plain, h.start+hdrLen)
	return p, err
}

// cryptoFrames walks the frames of a decrypted Initial payload and returns its CRYPTO
// frames. Initial packets may carry only PADDING, PING, ACK, CRYPTO and CONNECTION_CLOSE
// (RFC 9000 12.4); anything else is an error. base is the payload's offset in the datagram.
func cryptoFrames(b []byte, base int) ([]CryptoFrame, error) {
	var out []CryptoFrame
	r := &reader{b: b, off: base, what: "quic initial frames"}
	for !r.empty() {
		at := r.pos
		t, _ := r.varint()
		switch {
		case t == 0x00: // PADDING
		case t == 0x01: // PING
		case t == 0x02 || t == 0x03: // ACK
			r.varint() // largest acknowledged
			r.varint() // delay
			n, _ := r.varint()
			r.varint() // first range
			if n > uint64(len(b)) {
				return out, errAt(r.what, base+at, fmt.Errorf("ack range count %d: %w", n, ErrMalformed))
			}
			for i := uint64(0); i < n && r.err == nil; i++ {
				r.varint()
				r.varint()
			}
			if t == 0x03 {
				r.varint()
				r.varint()
				r.varint()
			}
		case t == 0x06: // CRYPTO
			off, _ := r.varint()
			n, _ := r.varint()
			if r.err == nil && n > uint64(len(b)) {
				return out, errAt(r.what, base+at, fmt.Errorf("crypto length %d: %w", n, ErrTruncated))
			}
			data := r.bytes(int(n))
			if r.err == nil {
				out = append(out, CryptoFrame{Offset: off, Data: data})
			}
		case t == 0x1c || t == 0x1d: // CONNECTION_CLOSE
			r.varint()
			if t == 0x1c {
				r.varint()
			}
			n, _ := r.varint()
			if r.err == nil && n > uint64(len(b)) {
				return out, errAt(r.what, base+at, ErrTruncated)
			}
			r.bytes(int(n))
		default:
			return out, errAt(r.what, base+at, fmt.Errorf("frame type 0x%x not allowed in Initial: %w", t, ErrMalformed))
		}
		if r.err != nil {
			return out, r.err
		}
	}
	return out, nil
}

// CryptoStream reassembles a crypto stream from CRYPTO frames that arrive in any order,
// possibly overlapping or duplicated, up to a fixed size limit.
type CryptoStream struct {
	buf   []byte
	have  []bool
	limit int
	next  int // length of the contiguous prefix
}

// NewCryptoStream returns a CryptoStream that accepts bytes below limit.
func NewCryptoStream(limit int) *CryptoStream { return &CryptoStream{limit: limit} }

// Add stores a frame's data; it returns ErrTooLarge for data beyond the limit.
func (s *CryptoStream) Add(f CryptoFrame) error {
	if f.Offset > uint64(s.limit) || f.Offset+uint64(len(f.Data)) > uint64(s.limit) {
		return fmt.Errorf("crypto frame at %d+%d beyond %d bytes: %w", f.Offset, len(f.Data), s.limit, ErrTooLarge)
	}
	end := int(f.Offset) + len(f.Data)
	if end > len(s.buf) {
		s.buf = append(s.buf, make([]byte, end-len(s.buf))...)
		s.have = append(s.have, make([]bool, end-len(s.have))...)
	}
	copy(s.buf[f.Offset:end], f.Data)
	for i := int(f.Offset); i < end; i++ {
		s.have[i] = true
	}
	for s.next < len(s.have) && s.have[s.next] {
		s.next++
	}
	return nil
}

// Contiguous returns the stream's bytes from offset 0 up to the first gap.
func (s *CryptoStream) Contiguous() []byte { return s.buf[:s.next] }
