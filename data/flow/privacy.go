package flow

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/etchlab/etch/data"
)

// ErrKey reports an unusable key file.
var ErrKey = errors.New("bad key file")

// MinKeyBytes is the least number of bytes a key file must hold.
const MinKeyBytes = 16

// Privacy decides what a record reveals about endpoints and server names. A nil *Privacy drops
// addresses and keeps SNI in clear.
type Privacy struct {
	// KeepIPs writes client and server addresses in clear.
	KeepIPs bool
	// IPs, when set, writes keyed prefix-preserving pseudonyms instead (KeepIPs is ignored).
	IPs *Pseudonymizer
	// SNI, when set, replaces SNI (and an SNI label) with a keyed hash.
	SNI *SNIHasher
}

// Mode describes the privacy mode for the footer, e.g. "ips=drop sni=clear".
func (p *Privacy) Mode() string {
	ips, sni := "drop", "clear"
	if p != nil {
		switch {
		case p.IPs != nil:
			ips = "pseudonymized(cryptopan-aes128,key=" + p.IPs.id + ")"
		case p.KeepIPs:
			ips = "keep"
		}
		if p.SNI != nil {
			sni = "hmac-sha256(key=" + p.SNI.id + ")"
		}
	}
	return "ips=" + ips + " sni=" + sni
}

func (p *Privacy) apply(r *data.Record, cli, srv *[16]byte, ipv uint8) {
	if p == nil {
		return
	}
	switch {
	case p.IPs != nil:
		r.SrcIP = p.IPs.Addr(addrOf(cli, ipv)).String()
		r.DstIP = p.IPs.Addr(addrOf(srv, ipv)).String()
	case p.KeepIPs:
		r.SrcIP = addrOf(cli, ipv).String()
		r.DstIP = addrOf(srv, ipv).String()
	}
	if p.SNI != nil && r.SNI != "" {
		h := p.SNI.Hash(r.SNI)
		if r.Label == r.SNI {
			r.Label = h
		}
		r.SNI = h
	}
}

func addrOf(b *[16]byte, ipv uint8) netip.Addr {
	if ipv == 4 {
		return netip.AddrFrom4([4]byte(b[:4]))
	}
	return netip.AddrFrom16(*b)
}

// readKey reads a key file; keys shorter than MinKeyBytes are refused. Surrounding whitespace
// is kept: the key is the file's bytes.
func readKey(file string) ([]byte, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	if len(strings.TrimSpace(string(b))) < MinKeyBytes {
		return nil, fmt.Errorf("%s: %w: want at least %d bytes", file, ErrKey, MinKeyBytes)
	}
	return b, nil
}

// derive returns 32 bytes for purpose from key (HMAC-SHA256 as a KDF).
func derive(key []byte, purpose string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("etch/" + purpose))
	return m.Sum(nil)
}

// keyID is a short public identifier of a key (it does not reveal the key): datasets with the
// same key id are joinable.
func keyID(key []byte) string { return hex.EncodeToString(derive(key, "key-id")[:4]) }

// Pseudonymizer maps IP addresses to keyed prefix-preserving pseudonyms with the Crypto-PAn
// construction (Xu, Fan, Ammar, Moon 2002): output bit i is input bit i XOR the first bit of
// AES_K(pad with the first i input bits in front). Two addresses sharing a k-bit prefix map to
// pseudonyms sharing a k-bit prefix; the same key always gives the same pseudonym.
type Pseudonymizer struct {
	block cipher.Block
	pad   [16]byte
	id    string
}

// NewPseudonymizer derives the AES key and pad from key (at least MinKeyBytes bytes).
func NewPseudonymizer(key []byte) (*Pseudonymizer, error) {
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("%w: want at least %d bytes", ErrKey, MinKeyBytes)
	}
	block, err := aes.NewCipher(derive(key, "ip-aes")[:16])
	if err != nil {
		return nil, err
	}
	p := &Pseudonymizer{block: block, id: keyID(key)}
	block.Encrypt(p.pad[:], derive(key, "ip-pad")[:16])
	return p, nil
}

// LoadPseudonymizer reads a key file and returns its pseudonymizer.
func LoadPseudonymizer(file string) (*Pseudonymizer, error) {
	k, err := readKey(file)
	if err != nil {
		return nil, err
	}
	return NewPseudonymizer(k)
}

// Addr returns a's pseudonym (IPv4 stays IPv4, IPv6 stays IPv6).
func (p *Pseudonymizer) Addr(a netip.Addr) netip.Addr {
	if a.Is4() {
		b := a.As4()
		p.anon(b[:])
		return netip.AddrFrom4(b)
	}
	b := a.As16()
	p.anon(b[:])
	return netip.AddrFrom16(b)
}

// anon rewrites addr (4 or 16 bytes) in place.
func (p *Pseudonymizer) anon(addr []byte) {
	nbits := len(addr) * 8
	orig := make([]byte, len(addr))
	copy(orig, addr)
	var in, out [16]byte
	var flip [16]byte
	for i := 0; i < nbits; i++ {
		// in = first i bits of orig, then the pad's bits.
		in = p.pad
		for j := 0; j < i/8; j++ {
			in[j] = orig[j]
		}
		if r := i % 8; r > 0 {
			mask := byte(0xff << (8 - r))
			in[i/8] = orig[i/8]&mask | p.pad[i/8]&^mask
		}
		p.block.Encrypt(out[:], in[:])
		flip[i/8] |= (out[0] >> 7) << (7 - i%8)
	}
	for j := range addr {
		addr[j] = orig[j] ^ flip[j]
	}
}

// SNIHasher replaces server names with a keyed hash: the first 16 bytes of
// HMAC-SHA256(key, lower-case name), hex-encoded.
type SNIHasher struct {
	key []byte
	id  string
}

// NewSNIHasher returns a hasher for key (at least MinKeyBytes bytes).
func NewSNIHasher(key []byte) (*SNIHasher, error) {
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("%w: want at least %d bytes", ErrKey, MinKeyBytes)
	}
	return &SNIHasher{key: derive(key, "sni"), id: keyID(key)}, nil
}

// LoadSNIHasher reads a key file and returns its hasher.
func LoadSNIHasher(file string) (*SNIHasher, error) {
	k, err := readKey(file)
	if err != nil {
		return nil, err
	}
	return NewSNIHasher(k)
}

// Hash returns the keyed hash of name.
func (h *SNIHasher) Hash(name string) string {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(strings.ToLower(name)))
	return hex.EncodeToString(m.Sum(nil)[:16])
}
