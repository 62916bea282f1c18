package flow

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etchlab/etch/data"
)

func commonPrefix(a, b netip.Addr) int {
	x, y := a.AsSlice(), b.AsSlice()
	n := 0
	for i := range x {
		d := x[i] ^ y[i]
		if d == 0 {
			n += 8
			continue
		}
		for d&0x80 == 0 {
			n++
			d <<= 1
		}
		return n
	}
	return n
}

func TestPseudonymizerPrefixPreserving(t *testing.T) {
	p, err := NewPseudonymizer([]byte("0123456789abcdef-key"))
	if err != nil {
		t.Fatal(err)
	}
	q, _ := NewPseudonymizer([]byte("another key of 16+ bytes"))
	addrs := []string{"10.0.0.1", "10.0.0.2", "10.0.1.1", "10.128.0.1", "192.168.1.1", "8.8.8.8",
		"2001:db8::1", "2001:db8::2", "2001:db8:1::1", "fe80::1"}
	for i, as := range addrs {
		a := netip.MustParseAddr(as)
		pa := p.Addr(a)
		if pa == a || pa.Is4() != a.Is4() {
			t.Errorf("%s → %s", a, pa)
		}
		if p.Addr(a) != pa {
			t.Errorf("%s: pseudonym not stable", a)
		}
		if q.Addr(a) == pa {
			t.Errorf("%s: same pseudonym under two keys", a)
		}
		for _, bs := range addrs[i+1:] {
			b := netip.MustParseAddr(bs)
			if a.Is4() != b.Is4() {
				continue
			}
			if got, want := commonPrefix(pa, p.Addr(b)), commonPrefix(a, b); got != want {
				t.Errorf("%s, %s share %d prefix bits; pseudonyms share %d", a, b, want, got)
			}
		}
	}
}

func TestPrivacyModes(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	os.WriteFile(key, []byte("a secret key that is long enough\n"), 0o600)
	short := filepath.Join(dir, "short")
	os.WriteFile(short, []byte("short"), 0o600)
	if _, err := LoadSNIHasher(short); err == nil {
		t.Error("short key accepted")
	}
	ps, err := LoadPseudonymizer(key)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := LoadSNIHasher(key)
	var cli, srv [16]byte
	copy(cli[:], []byte{10, 0, 0, 1})
	copy(srv[:], []byte{192, 0, 2, 7})
	for _, tc := range []struct {
		p        *Privacy
		src, sni string
		mode     string
	}{
		{nil, "", "a.example", "ips=drop sni=clear"},
		{&Privacy{KeepIPs: true}, "10.0.0.1", "a.example", "ips=keep sni=clear"},
		{&Privacy{IPs: ps}, ps.Addr(netip.MustParseAddr("10.0.0.1")).String(), "a.example", "ips=pseudonymized"},
		{&Privacy{SNI: h}, "", h.Hash("A.example"), "sni=hmac-sha256"},
	} {
		r := data.Record{SNI: "a.example", Label: "a.example"}
		tc.p.apply(&r, &cli, &srv, 4)
		if r.SrcIP != tc.src || r.SNI != tc.sni || r.Label != tc.sni || !strings.Contains(tc.p.Mode(), tc.mode) {
			t.Errorf("%s: src %q sni %q label %q", tc.p.Mode(), r.SrcIP, r.SNI, r.Label)
		}
	}
	if strings.Contains(h.Hash("a.example"), "example") || len(h.Hash("x")) != 32 {
		t.Error("hash leaks the name or has the wrong length")
	}
}
