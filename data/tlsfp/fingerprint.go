package tlsfp

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
)

// IsGREASE reports whether v is one of the 16 GREASE values of RFC 8701 (0x0a0a ... 0xfafa).
func IsGREASE(v uint16) bool {
	return v&0x0f0f == 0x0a0a && v>>8 == v&0xff
}

// JA3Full returns the JA3 string of a ClientHello (Salesforce JA3): legacy version,
// cipher suites, extension types, supported groups and EC point formats, each in wire order
// as decimals joined by '-', the five fields joined by ','; GREASE values are removed.
func JA3Full(ch *ClientHello) string {
	var sb strings.Builder
	sb.Grow(6 * (len(ch.CipherSuites) + len(ch.Extensions) + len(ch.SupportedGroups) + 4))
	sb.WriteString(strconv.Itoa(int(ch.Version)))
	sb.WriteByte(',')
	writeDec(&sb, ch.CipherSuites, true)
	sb.WriteByte(',')
	first := true
	for _, e := range ch.Extensions {
		if IsGREASE(e.Type) {
			continue
		}
		if !first {
			sb.WriteByte('-')
		}
		first = false
		sb.WriteString(strconv.Itoa(int(e.Type)))
	}
	sb.WriteByte(',')
	writeDec(&sb, ch.SupportedGroups, true)
	sb.WriteByte(',')
	for i, f := range ch.ECPointFormats {
		if i > 0 {
			sb.WriteByte('-')
		}
		sb.WriteString(strconv.Itoa(int(f)))
	}
	return sb.String()
}

// JA3 returns the JA3 fingerprint: the MD5 of JA3Full in lower-case hex.
func JA3(ch *ClientHello) string { return md5hex(JA3Full(ch)) }

// JA3SFull returns the JA3S string of a ServerHello: legacy version, the selected cipher
// suite and the extension types in wire order (GREASE removed), joined by ','.
func JA3SFull(sh *ServerHello) string {
	var sb strings.Builder
	sb.WriteString(strconv.Itoa(int(sh.Version)))
	sb.WriteByte(',')
	sb.WriteString(strconv.Itoa(int(sh.CipherSuite)))
	sb.WriteByte(',')
	first := true
	for _, e := range sh.Extensions {
		if IsGREASE(e.Type) {
			continue
		}
		if !first {
			sb.WriteByte('-')
		}
		first = false
		sb.WriteString(strconv.Itoa(int(e.Type)))
	}
	return sb.String()
}

// JA3S returns the JA3S fingerprint: the MD5 of JA3SFull in lower-case hex.
func JA3S(sh *ServerHello) string { return md5hex(JA3SFull(sh)) }

func writeDec(sb *strings.Builder, vs []uint16, dropGREASE bool) {
	first := true
	for _, v := range vs {
		if dropGREASE && IsGREASE(v) {
			continue
		}
		if !first {
			sb.WriteByte('-')
		}
		first = false
		sb.WriteString(strconv.Itoa(int(v)))
	}
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// hash12 is JA4's truncated SHA-256; the empty list hashes to twelve zeros.
func hash12(s string) string {
	if s == "" {
		return "000000000000"
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}

// ja4Version maps a TLS version to JA4's two characters.
func ja4Version(v uint16) string {
	switch v {
	case 0x0304:
		return "13"
	case 0x0303:
		return "12"
	case 0x0302:
		return "11"
	case 0x0301:
		return "10"
	case 0x0300:
		return "s3"
	case 0x0002:
		return "s2"
	case 0xfeff:
		return "d1"
	case 0xfefd:
		return "d2"
	case 0xfefc:
		return "d3"
	}
	return "00"
}

// clientVersion is the highest non-GREASE supported_versions entry when that extension is
// present, else the legacy version.
func (ch *ClientHello) clientVersion() uint16 {
	if !ch.hasExt(extSupportedVersions) {
		return ch.Version
	}
	var best uint16
	for _, v := range ch.SupportedVersions {
		if !IsGREASE(v) && v > best {
			best = v
		}
	}
	return best
}

func (ch *ClientHello) hasExt(t uint16) bool {
	for _, e := range ch.Extensions {
		if e.Type == t {
			return true
		}
	}
	return false
}

// NegotiatedVersion is the version the server selected: supported_versions when present,
// else the legacy version.
func (sh *ServerHello) NegotiatedVersion() uint16 {
	for _, e := range sh.Extensions {
		if e.Type == extSupportedVersions {
			return sh.SupportedVersion
		}
	}
	return sh.Version
}

// alpnChars returns JA4's two ALPN characters for the first ALPN value: "00" without ALPN;
// otherwise its first and last bytes, where a non-ASCII byte (>= 0x80) becomes '9' as in the
// FoxIO Rust reference, and any other byte that is not an ASCII alphanumeric becomes a hex
// nibble (high nibble of the first byte, low nibble of the last) as the JA4 text says.
// A one-byte value gives its character followed by '0' (Rust reference).
func alpnChars(p string) string {
	if p == "" {
		return "00"
	}
	const hexdig = "0123456789abcdef"
	conv := func(c byte, nibble byte) byte {
		switch {
		case isAlnum(c):
			return c
		case c >= 0x80:
			return '9'
		}
		return hexdig[nibble]
	}
	a := conv(p[0], p[0]>>4)
	if len(p) == 1 {
		return string([]byte{a, '0'})
	}
	z := p[len(p)-1]
	return string([]byte{a, conv(z, z&15)})
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func count2(n int) string {
	n = min(n, 99)
	return string([]byte{byte('0' + n/10), byte('0' + n%10)})
}

func hex4(sb *strings.Builder, vs []uint16) {
	const hexdig = "0123456789abcdef"
	for i, v := range vs {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte(hexdig[v>>12])
		sb.WriteByte(hexdig[v>>8&15])
		sb.WriteByte(hexdig[v>>4&15])
		sb.WriteByte(hexdig[v&15])
	}
}

// ja4Parts returns JA4's first chunk, the sorted cipher list and the sorted extension list
// followed by '_' and the signature algorithms (no '_' when there are none).
func ja4Parts(ch *ClientHello, quic bool) (head, ciphers, extsSigs string) {
	var csBuf, extBuf, sigBuf [64]uint16
	cs := csBuf[:0]
	for _, c := range ch.CipherSuites {
		if !IsGREASE(c) {
			cs = append(cs, c)
		}
	}
	exts := extBuf[:0]
	n := 0
	for _, e := range ch.Extensions {
		if IsGREASE(e.Type) {
			continue
		}
		n++
		if e.Type != extServerName && e.Type != extALPN {
			exts = append(exts, e.Type)
		}
	}
	sigs := sigBuf[:0]
	for _, s := range ch.SignatureAlgorithms {
		if !IsGREASE(s) {
			sigs = append(sigs, s)
		}
	}
	slices.Sort(cs)
	slices.Sort(exts)

	var sb strings.Builder
	sb.WriteByte(protoChar(quic, ch.DTLS))
	sb.WriteString(ja4Version(ch.clientVersion()))
	if ch.hasServerName {
		sb.WriteByte('d')
	} else {
		sb.WriteByte('i')
	}
	sb.WriteString(count2(len(cs)))
	sb.WriteString(count2(n))
	alpn := ""
	if len(ch.ALPN) > 0 {
		alpn = ch.ALPN[0]
	}
	sb.WriteString(alpnChars(alpn))
	head = sb.String()

	sb = strings.Builder{}
	sb.Grow(5 * len(cs))
	hex4(&sb, cs)
	ciphers = sb.String()

	sb = strings.Builder{}
	sb.Grow(5 * (len(exts) + len(sigs) + 1))
	hex4(&sb, exts)
	if len(sigs) > 0 {
		sb.WriteByte('_')
		hex4(&sb, sigs)
	}
	extsSigs = sb.String()
	return head, ciphers, extsSigs
}

// protoChar is JA4's first character: 'q' for QUIC, 'd' for DTLS, 't' for TLS over TCP.
func protoChar(quic, dtls bool) byte {
	switch {
	case quic:
		return 'q'
	case dtls:
		return 'd'
	}
	return 't'
}

// JA4 returns the FoxIO JA4 fingerprint of a ClientHello; quic selects the 'q' prefix
// (QUIC) instead of 't' (TLS over TCP), and a DTLS hello (ch.DTLS) gets 'd'.
func JA4(ch *ClientHello, quic bool) string {
	head, cs, es := ja4Parts(ch, quic)
	return head + "_" + hash12(cs) + "_" + hash12(es)
}

// JA4R returns JA4_r, the raw form of JA4: the same first chunk followed by the sorted
// cipher and extension lists and the signature algorithms in hex instead of their hashes.
func JA4R(ch *ClientHello, quic bool) string {
	head, cs, es := ja4Parts(ch, quic)
	return head + "_" + cs + "_" + es
}

// JA4S returns the FoxIO JA4S fingerprint of a ServerHello: protocol, negotiated version,
// extension count and ALPN characters, the selected cipher in hex, and the truncated
// SHA-256 of the extension types in wire order.
func JA4S(sh *ServerHello, quic bool) string {
	head, exts := ja4sParts(sh, quic)
	return head + "_" + hash12(exts)
}

// JA4SR returns JA4S_r, the raw form of JA4S (extension list in hex instead of its hash).
func JA4SR(sh *ServerHello, quic bool) string {
	head, exts := ja4sParts(sh, quic)
	return head + "_" + exts
}

func ja4sParts(sh *ServerHello, quic bool) (head, exts string) {
	var sb strings.Builder
	sb.WriteByte(protoChar(quic, sh.DTLS))
	sb.WriteString(ja4Version(sh.NegotiatedVersion()))
	sb.WriteString(count2(len(sh.Extensions)))
	sb.WriteString(alpnChars(sh.ALPN))
	sb.WriteByte('_')
	hex4(&sb, []uint16{sh.CipherSuite})
	head = sb.String()
	types := make([]uint16, len(sh.Extensions))
	for i, e := range sh.Extensions {
		types[i] = e.Type
	}
	sb.Reset()
	hex4(&sb, types)
	return head, sb.String()
}

// VersionString names a TLS version: "1.3", "1.2", "1.1", "1.0", "ssl3", "ssl2",
// "1.3-draft-NN" for TLS 1.3 drafts, "dtls1.0"/"dtls1.2"/"dtls1.3", else "0x" and 4 hex
// digits; "" for 0.
func VersionString(v uint16) string {
	switch {
	case v == 0:
		return ""
	case v == 0x0304:
		return "1.3"
	case v == 0x0303:
		return "1.2"
	case v == 0x0302:
		return "1.1"
	case v == 0x0301:
		return "1.0"
	case v == 0x0300:
		return "ssl3"
	case v == 0x0002:
		return "ssl2"
	case v == 0xfeff:
		return "dtls1.0"
	case v == 0xfefd:
		return "dtls1.2"
	case v == 0xfefc:
		return "dtls1.3"
	case v>>8 == 0x7f:
		return "1.3-draft-" + strconv.Itoa(int(v&0xff))
	}
	var sb strings.Builder
	sb.WriteString("0x")
	hex4(&sb, []uint16{v})
	return sb.String()
}
