package tlsfp

import (
	"errors"
	"testing"
)

// The FoxIO Rust unit test's ClientHello: Chrome's cipher and extension lists.
func rustTestHello() *ClientHello {
	ch := &ClientHello{
		Version:             0x0303,
		CipherSuites:        []uint16{0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035},
		SignatureAlgorithms: []uint16{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601},
		SupportedVersions:   []uint16{0x0304, 0x0303},
		ALPN:                []string{"h2", "http/1.1"},
		ServerName:          "example.com",
		hasServerName:       true,
	}
	for _, e := range []uint16{0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015} {
		ch.Extensions = append(ch.Extensions, Extension{Type: e})
	}
	return ch
}

func TestJA4Vectors(t *testing.T) {
	ch := rustTestHello()
	greased := rustTestHello()
	greased.CipherSuites = append([]uint16{0x0a0a}, greased.CipherSuites...)
	greased.Extensions = append([]Extension{{Type: 0x1a1a}}, append(greased.Extensions, Extension{Type: 0xfafa})...)
	greased.SupportedVersions = append([]uint16{0x2a2a}, greased.SupportedVersions...)
	// GREASE in signature_algorithms is dropped too (FoxIO ja4 issue #305, Chrome 152+).
	greased.SignatureAlgorithms = append([]uint16{0x3a3a}, greased.SignatureAlgorithms...)
	noSig := rustTestHello()
	noSig.SignatureAlgorithms = nil
	empty := &ClientHello{Version: 0x0301}
	tests := []struct {
		name      string
		ch        *ClientHello
		quic      bool
		ja4, ja4r string
	}{
		{"rust unit test", ch, false, "t13d1516h2_8daaf6152771_e5627efa2ab1",
			"t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601"},
		{"GREASE ignored", greased, false, "t13d1516h2_8daaf6152771_e5627efa2ab1", ""},
		{"QUIC prefix", ch, true, "q13d1516h2_8daaf6152771_e5627efa2ab1", ""},
		{"no signature algorithms", noSig, false, "", "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01"},
		{"nothing", empty, false, "t10i000000_000000000000_000000000000", "t10i000000__"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := JA4(tc.ch, tc.quic); tc.ja4 != "" && got != tc.ja4 {
				t.Errorf("JA4 = %s, want %s", got, tc.ja4)
			}
			if got := JA4R(tc.ch, tc.quic); tc.ja4r != "" && got != tc.ja4r {
				t.Errorf("JA4_r = %s, want %s", got, tc.ja4r)
			}
		})
	}
}

func TestJA4SVector(t *testing.T) {
	// The FoxIO Rust unit test's ServerHello.
	sh := &ServerHello{Version: 0x0303, CipherSuite: 0xc030}
	for _, e := range []uint16{0x0005, 0x0017, 0xff01, 0x0000} {
		sh.Extensions = append(sh.Extensions, Extension{Type: e})
	}
	if got := JA4S(sh, false); got != "t120400_c030_4e8089b08790" {
		t.Errorf("JA4S = %s", got)
	}
	if got := JA4SR(sh, false); got != "t120400_c030_0005,0017,ff01,0000" {
		t.Errorf("JA4S_r = %s", got)
	}
	if got := JA3SFull(sh); got != "771,49200,5-23-65281-0" {
		t.Errorf("JA3S string = %s", got)
	}
}

func TestJA3Vector(t *testing.T) {
	ch := rustTestHello()
	ch.CipherSuites = append([]uint16{0x0a0a}, ch.CipherSuites...)
	ch.SupportedGroups = []uint16{0x2a2a, 29, 23, 24}
	ch.ECPointFormats = []uint8{0}
	want := "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,27-0-51-16-17513-23-45-13-5-35-18-43-65281-11-10-21,29-23-24,0"
	if got := JA3Full(ch); got != want {
		t.Errorf("JA3 string\n got  %s\n want %s", got, want)
	}
	if got := JA3(ch); got != md5hex(want) || len(got) != 32 {
		t.Errorf("JA3 = %s", got)
	}
}

func TestALPNChars(t *testing.T) {
	tests := map[string]string{
		"": "00", "h2": "h2", "http/1.1": "h1", "h3": "h3", "a": "a0",
		"\xbd\xcd": "99", "x\xff": "x9", "/x": "2x", "h/": "hf", "\x00\x00": "00",
	}
	for in, want := range tests {
		if got := alpnChars(in); got != want {
			t.Errorf("alpnChars(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestGREASE(t *testing.T) {
	n := 0
	for v := 0; v <= 0xffff; v++ {
		if IsGREASE(uint16(v)) {
			n++
			if v&0x0f0f != 0x0a0a {
				t.Errorf("0x%04x is not GREASE", v)
			}
		}
	}
	if n != 16 {
		t.Errorf("%d GREASE values, want 16", n)
	}
}

func TestVersionString(t *testing.T) {
	tests := map[uint16]string{0: "", 0x0304: "1.3", 0x0303: "1.2", 0x0302: "1.1", 0x0301: "1.0", 0x0300: "ssl3",
		0x7f12: "1.3-draft-18", 0xfefd: "dtls1.2", 0x1234: "0x1234"}
	for v, want := range tests {
		if got := VersionString(v); got != want {
			t.Errorf("VersionString(0x%04x) = %q, want %q", v, got, want)
		}
	}
}

func TestParseHelloErrors(t *testing.T) {
	ch, sh := testHellos(t)
	chMsg, shMsg := ch[5:], sh[5:]
	// Every truncation is an error with an offset, never a panic.
	for n := 0; n < len(chMsg); n++ {
		_, err := ParseClientHello(chMsg[:n])
		var oe *OffsetError
		if !errors.As(err, &oe) || !errors.Is(err, ErrTruncated) {
			t.Fatalf("ClientHello cut at %d: %v", n, err)
		}
	}
	for n := 0; n < len(shMsg); n++ {
		if _, err := ParseServerHello(shMsg[:n]); !errors.Is(err, ErrTruncated) {
			t.Fatalf("ServerHello cut at %d: %v", n, err)
		}
	}
	if _, err := ParseClientHello(shMsg); !errors.Is(err, ErrNotHello) {
		t.Errorf("ServerHello as ClientHello: %v", err)
	}
	if _, err := ParseServerHello(chMsg); !errors.Is(err, ErrNotHello) {
		t.Errorf("ClientHello as ServerHello: %v", err)
	}
	// A malformed extension body keeps the hello: the fingerprints only need the types.
	bad := []byte{1, 0, 0, 51, 3, 3}
	bad = append(bad, make([]byte, 32)...)
	bad = append(bad, 0, 0, 2, 0x13, 0x01, 1, 0, 0, 8, 0, 0, 0, 4, 0, 9, 0, 'x')
	h, err := ParseClientHello(bad)
	if err != nil || !errors.Is(h.ExtensionErr, ErrTruncated) || JA4(h, false) != "t12d0101"+"00_"+hash12("1301")+"_000000000000" {
		t.Errorf("malformed server_name: err %v, ExtensionErr %v", err, h.ExtensionErr)
	}
	odd := []byte{1, 0, 0, 41, 3, 3}
	odd = append(odd, make([]byte, 32)...)
	odd = append(odd, 0, 0, 3, 0x13, 0x01, 0x13, 1, 0)
	if _, err := ParseClientHello(odd); !errors.Is(err, ErrMalformed) {
		t.Errorf("odd cipher suite length: %v", err)
	}
}
