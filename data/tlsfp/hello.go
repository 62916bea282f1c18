package tlsfp

import (
	"fmt"
	"strings"
)

// Handshake message types.
const (
	typeClientHello = 1
	typeServerHello = 2
)

// Extension types that the parser decodes.
const (
	extServerName          = 0x0000
	extSupportedGroups     = 0x000a
	extECPointFormats      = 0x000b
	extSignatureAlgorithms = 0x000d
	extALPN                = 0x0010
	extSupportedVersions   = 0x002b
	extQUICTransportParams = 0x0039
)

// Extension is one hello extension as sent: its type and its raw body. Data aliases the
// slice given to the parser.
type Extension struct {
	Type uint16
	Data []byte
}

// ClientHello holds the fields of a ClientHello in wire order, GREASE values included.
// Byte slices alias the input of ParseClientHello.
type ClientHello struct {
	Version             uint16 // legacy_version
	CipherSuites        []uint16
	CompressionMethods  []byte
	Extensions          []Extension
	ServerName          string   // first host_name of server_name, "" if none
	ALPN                []string // application_layer_protocol_negotiation, in order
	SupportedVersions   []uint16
	SupportedGroups     []uint16
	ECPointFormats      []uint8
	SignatureAlgorithms []uint16
	DTLS                bool // parsed from DTLS: JA4 uses the 'd' prefix
	// ExtensionErr is the first malformed extension body (an *OffsetError). The extension
	// list itself was intact, so the fingerprints are still computed; the fields that
	// extension feeds may be incomplete.
	ExtensionErr  error
	hasServerName bool
}

// ServerHello holds the fields of a ServerHello (or HelloRetryRequest) in wire order.
type ServerHello struct {
	Version           uint16 // legacy_version
	CipherSuite       uint16
	CompressionMethod uint8
	Extensions        []Extension
	SupportedVersion  uint16 // selected_version of supported_versions, 0 if absent
	ALPN              string // selected protocol, "" if absent
	DTLS              bool   // read from DTLS: JA4S uses the 'd' prefix
	ExtensionErr      error  // first malformed extension body, as in ClientHello
}

// reader is a bounds-checked big-endian cursor; the first failure sticks.
type reader struct {
	b    []byte
	off  int // absolute offset of b[0] within the parser's input
	pos  int
	what string
	err  error
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = errAt(r.what, r.off+r.pos, err)
	}
}

func (r *reader) u8() uint8 {
	if r.err != nil || r.pos+1 > len(r.b) {
		r.fail(ErrTruncated)
		return 0
	}
	v := r.b[r.pos]
	r.pos++
	return v
}

func (r *reader) u16() uint16 {
	if r.err != nil || r.pos+2 > len(r.b) {
		r.fail(ErrTruncated)
		return 0
	}
	v := uint16(r.b[r.pos])<<8 | uint16(r.b[r.pos+1])
	r.pos += 2
	return v
}

func (r *reader) u24() int {
	if r.err != nil || r.pos+3 > len(r.b) {
		r.fail(ErrTruncated)
		return 0
	}
	v := int(r.b[r.pos])<<16 | int(r.b[r.pos+1])<<8 | int(r.b[r.pos+2])
	r.pos += 3
	return v
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil || n < 0 || r.pos+n > len(r.b) {
		r.fail(ErrTruncated)
		return nil
	}
	v := r.b[r.pos : r.pos+n]
	r.pos += n
	return v
}

// sub returns a reader over the next n bytes, advancing r past them.
func (r *reader) sub(n int, what string) reader {
	start := r.pos
	b := r.bytes(n)
	s := reader{b: b, off: r.off + start, what: what}
	if r.err != nil {
		s.err = r.err
	}
	return s
}

func (r *reader) empty() bool { return r.pos >= len(r.b) }

// handshakeBody checks the 4-byte handshake header and returns a reader over the body.
func handshakeBody(b []byte, want uint8, what string) (reader, error) {
	r := reader{b: b, what: what}
	t := r.u8()
	n := r.u24()
	if r.err != nil {
		return reader{}, r.err
	}
	if t != want {
		return reader{}, errAt(what, 0, ErrNotHello)
	}
	if n > len(b)-4 {
		return reader{}, errAt(what, 1, fmt.Errorf("length %d, only %d bytes: %w", n, len(b)-4, ErrTruncated))
	}
	return r.sub(n, what), nil
}

// ParseClientHello parses a ClientHello handshake message: b starts with the handshake
// type byte (1) and its 3-byte length, as found in a TLS record or a QUIC CRYPTO stream.
// Bytes after the message are ignored. Errors are *OffsetError wrapping ErrTruncated,
// ErrMalformed or ErrNotHello.
func ParseClientHello(b []byte) (*ClientHello, error) { return parseClientHello(nil, b, false) }

// ParseDTLSClientHello parses a DTLS ClientHello given as a TLS-style handshake message
// (type, 3-byte length, body): the DTLS fragments reassembled, without the 8 extra header
// bytes of DTLS (message sequence, fragment offset and length). The body has the DTLS
// cookie after the session ID; the result has DTLS set.
func ParseDTLSClientHello(b []byte) (*ClientHello, error) { return parseClientHello(nil, b, true) }

// parseClientHello parses into ch when it is not nil (its slices reused, everything else
// reset), else into a new ClientHello.
func parseClientHello(ch *ClientHello, b []byte, dtls bool) (*ClientHello, error) {
	r, err := handshakeBody(b, typeClientHello, "client hello")
	if err != nil {
		return nil, err
	}
	if ch == nil {
		ch = &ClientHello{DTLS: dtls}
	} else {
		*ch = ClientHello{DTLS: dtls, CipherSuites: ch.CipherSuites[:0], Extensions: ch.Extensions[:0],
			ALPN: ch.ALPN[:0], SupportedVersions: ch.SupportedVersions[:0], SupportedGroups: ch.SupportedGroups[:0],
			ECPointFormats: ch.ECPointFormats[:0], SignatureAlgorithms: ch.SignatureAlgorithms[:0]}
	}
	ch.Version = r.u16()
	r.bytes(32) // random
	r.bytes(int(r.u8()))
	if dtls {
		r.bytes(int(r.u8())) // cookie
	}
	cs := r.sub(int(r.u16()), "client hello cipher suites")
	if cs.err == nil && len(cs.b)%2 != 0 {
		return nil, errAt(cs.what, cs.off, ErrMalformed)
	}
	if cs.err == nil && cap(ch.CipherSuites) < len(cs.b)/2 {
		ch.CipherSuites = make([]uint16, 0, len(cs.b)/2)
	}
	for !cs.empty() && cs.err == nil {
		ch.CipherSuites = append(ch.CipherSuites, cs.u16())
	}
	ch.CompressionMethods = r.bytes(int(r.u8()))
	if r.err != nil {
		return nil, r.err
	}
	if r.empty() { // no extensions block (SSL 3.0 / early TLS)
		return ch, nil
	}
	ext := r.sub(int(r.u16()), "client hello extensions")
	if ext.err != nil {
		return nil, ext.err
	}
	if ch.Extensions == nil {
		ch.Extensions = make([]Extension, 0, 24)
	}
	for !ext.empty() {
		typ := ext.u16()
		body := ext.sub(int(ext.u16()), ext.what)
		if ext.err != nil {
			return nil, ext.err
		}
		ch.Extensions = append(ch.Extensions, Extension{Type: typ, Data: body.b})
		ch.clientExtension(typ, &body)
		if body.err != nil && ch.ExtensionErr == nil {
			ch.ExtensionErr = body.err
		}
	}
	return ch, nil
}

func (ch *ClientHello) clientExtension(typ uint16, r *reader) {
	switch typ {
	case extServerName:
		ch.hasServerName = true
		list := r.sub(int(r.u16()), "server_name")
		for !list.empty() && list.err == nil {
			t := list.u8()
			name := list.bytes(int(list.u16()))
			if t == 0 && ch.ServerName == "" && list.err == nil {
				ch.ServerName = printable(name)
			}
		}
		r.err = list.err
	case extALPN:
		list := r.sub(int(r.u16()), "alpn")
		for !list.empty() && list.err == nil {
			p := list.bytes(int(list.u8()))
			if list.err == nil {
				ch.ALPN = append(ch.ALPN, string(p))
			}
		}
		r.err = list.err
	case extSupportedVersions:
		list := r.sub(int(r.u8()), "supported_versions")
		ch.SupportedVersions = u16list(&list, ch.SupportedVersions)
		r.err = list.err
	case extSupportedGroups:
		list := r.sub(int(r.u16()), "supported_groups")
		ch.SupportedGroups = u16list(&list, ch.SupportedGroups)
		r.err = list.err
	case extSignatureAlgorithms:
		list := r.sub(int(r.u16()), "signature_algorithms")
		ch.SignatureAlgorithms = u16list(&list, ch.SignatureAlgorithms)
		r.err = list.err
	case extECPointFormats:
		ch.ECPointFormats = append(ch.ECPointFormats, r.bytes(int(r.u8()))...)
	}
}

func u16list(r *reader, dst []uint16) []uint16 {
	if r.err == nil && len(r.b)%2 != 0 {
		r.fail(ErrMalformed)
		return dst
	}
	if dst == nil {
		dst = make([]uint16, 0, len(r.b)/2)
	}
	for !r.empty() && r.err == nil {
		dst = append(dst, r.u16())
	}
	return dst
}

// HasServerName reports whether the server_name extension is present (even if empty).
func (ch *ClientHello) HasServerName() bool { return ch.hasServerName }

// ParseServerHello parses a ServerHello handshake message (type 2, with its 4-byte header).
// Bytes after the message are ignored.
func ParseServerHello(b []byte) (*ServerHello, error) {
	r, err := handshakeBody(b, typeServerHello, "server hello")
	if err != nil {
		return nil, err
	}
	sh := &ServerHello{}
	sh.Version = r.u16()
	r.bytes(32)
	// TLS 1.3 drafts before -22 put the draft version (or, in the earliest drafts, 0x0304)
	// in legacy_version and dropped legacy_session_id_echo and legacy_compression_method.
	draft := sh.Version>>8 == 0x7f && sh.Version&0xff < 22 || sh.Version == 0x0304
	if !draft {
		r.bytes(int(r.u8()))
	}
	sh.CipherSuite = r.u16()
	if !draft {
		sh.CompressionMethod = r.u8()
	}
	if r.err != nil {
		return nil, r.err
	}
	if r.empty() {
		return sh, nil
	}
	ext := r.sub(int(r.u16()), "server hello extensions")
	if ext.err != nil {
		return nil, ext.err
	}
	for !ext.empty() {
		typ := ext.u16()
		er := ext.sub(int(ext.u16()), ext.what)
		if ext.err != nil {
			return nil, ext.err
		}
		sh.Extensions = append(sh.Extensions, Extension{Type: typ, Data: er.b})
		switch typ {
		case extSupportedVersions:
			sh.SupportedVersion = er.u16()
		case extALPN:
			list := er.sub(int(er.u16()), "alpn")
			p := list.bytes(int(list.u8()))
			if list.err == nil && sh.ALPN == "" {
				sh.ALPN = string(p)
			}
			er.err = list.err
		}
		if er.err != nil && sh.ExtensionErr == nil {
			sh.ExtensionErr = er.err
		}
	}
	return sh, nil
}

// printable returns b as a string, with bytes outside printable ASCII escaped as \xNN so
// that names taken from the wire are safe to print and store.
func printable(b []byte) string {
	ok := true
	for _, c := range b {
		if c < 0x20 || c > 0x7e || c == '\\' {
			ok = false
			break
		}
	}
	if ok {
		return string(b)
	}
	var sb strings.Builder
	const hexdig = "0123456789abcdef"
	for _, c := range b {
		if c < 0x20 || c > 0x7e || c == '\\' {
			sb.WriteString(`\x`)
			sb.WriteByte(hexdig[c>>4])
			sb.WriteByte(hexdig[c&15])
			continue
		}
		sb.WriteByte(c)
	}
	return sb.String()
}
