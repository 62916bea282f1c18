package tlsfp

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestInitialKeys checks key derivation against RFC 9001 A.1 and RFC 9369 A.1.
func TestInitialKeys(t *testing.T) {
	tests := []struct {
		name        string
		version     uint32
		client      bool
		key, iv, hp string
	}{
		{"v1 client", QUICv1, true, "1f369613dd76d5467730efcbe3b1a22d", "fa044b2f42a3fd3b46fb255c", "9f50449e04a0e810283a1e9933adedd2"},
		{"v1 server", QUICv1, false, "cf3a5331653c364c88f0f379b6067e37", "0ac1493ca1905853b0bba03e", "c206b8d9b9f0f37644430b490eeaa314"},
		{"v2 client", QUICv2, true, "8b1a0bc121284290a29e0971b5cd045d", "91f73e2351d8fa91660e909f", "45b95e15235d6f45a6b19cbcb0294ba9"},
		{"v2 server", QUICv2, false, "82db637861d55e1d011f19ea71d5d2a7", "dd13c276499c0249d3310652", "edf6d05c83121201b436e16877593c3a"},
	}
	dcid := unhex(t, "8394c8f03e515708")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key, iv, hp, err := deriveInitial(tc.version, dcid, tc.client)
			if err != nil {
				t.Fatal(err)
			}
			if hex.EncodeToString(key) != tc.key || hex.EncodeToString(iv) != tc.iv || hex.EncodeToString(hp) != tc.hp {
				t.Errorf("key %x iv %x hp %x", key, iv, hp)
			}
		})
	}
	if _, _, _, err := deriveInitial(0x51303530, dcid, true); !errors.Is(err, ErrUnsupportedVersion) {
		t.Errorf("gQUIC Q050: %v", err)
	}
}

// sealInitial builds a protected Initial packet as a QUIC endpoint would (RFC 9001 5),
// with a 2-byte packet number, carrying the given frames padded to at least 64 bytes.
func sealInitial(t testing.TB, version uint32, keyDCID, dcid, scid []byte, client bool, pn uint16, frames []byte) []byte {
	t.Helper()
	key, iv, hpKey, err := deriveInitial(version, keyDCID, client)
	if err != nil {
		t.Fatal(err)
	}
	for len(frames) < 64 {
		frames = append(frames, 0) // PADDING
	}
	_, _, typ, _ := versionParams(version)
	hdr := []byte{0xc0 | typ<<4 | 1, byte(version >> 24), byte(version >> 16), byte(version >> 8), byte(version)}
	hdr = append(hdr, byte(len(dcid)))
	hdr = append(hdr, dcid...)
	hdr = append(hdr, byte(len(scid)))
	hdr = append(hdr, scid...)
	hdr = append(hdr, 0) // token length
	n := 2 + len(frames) + 16
	hdr = append(hdr, 0x40|byte(n>>8), byte(n))
	pnOff := len(hdr)
	hdr = append(hdr, byte(pn>>8), byte(pn))
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	nonce := append([]byte(nil), iv...)
	nonce[10] ^= byte(pn >> 8)
	nonce[11] ^= byte(pn)
	pkt := aead.Seal(append([]byte(nil), hdr...), nonce, frames, hdr)
	hp, _ := aes.NewCipher(hpKey)
	var mask [16]byte
	hp.Encrypt(mask[:], pkt[pnOff+4:pnOff+20])
	pkt[0] ^= mask[0] & 0x0f
	pkt[pnOff] ^= mask[1]
	pkt[pnOff+1] ^= mask[2]
	return pkt
}

// cryptoFrame encodes a CRYPTO frame with 4-byte varints.
func cryptoFrame(off int, data []byte) []byte {
	b := []byte{0x06, 0x80 | byte(off>>24), byte(off >> 16), byte(off >> 8), byte(off)}
	n := len(data)
	b = append(b, 0x80|byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	return append(b, data...)
}

func TestQUICTracker(t *testing.T) {
	ch, sh := testHellos(t)
	chMsg, shMsg := ch[5:], sh[5:]
	parsed, err := ParseClientHello(chMsg)
	if err != nil {
		t.Fatal(err)
	}
	odcid := unhex(t, "8394c8f03e515708")
	scid := unhex(t, "c0ffee")
	ack := []byte{0x02, 0, 0, 0, 0}
	for _, version := range []uint32{QUICv1, QUICv2, 0xff00001d} {
		t.Run(fmt.Sprintf("0x%08x", version), func(t *testing.T) {
			half := len(chMsg) / 2
			// The ClientHello is split over two Initial packets in two datagrams, sent in
			// reverse order, the first also carrying a PING and an ACK; the server's
			// Initial is coalesced with an (undecryptable) Handshake packet.
			p1 := sealInitial(t, version, odcid, odcid, scid, true, 0, append([]byte{0x01}, cryptoFrame(0, chMsg[:half])...))
			p2 := sealInitial(t, version, odcid, odcid, scid, true, 1, cryptoFrame(half, chMsg[half:]))
			srv := sealInitial(t, version, odcid, scid, unhex(t, "5e5e"), false, 0, append(ack, cryptoFrame(0, shMsg)...))
			hs := []byte{0xe0, byte(version >> 24), byte(version >> 16), byte(version >> 8), byte(version), 3, 0xc0, 0xff, 0xee, 0, 0x40, 20}
			if version == QUICv2 {
				hs[0] = 0xf0
			}
			hs = append(hs, make([]byte, 20)...)
			tr := NewTracker(UDP)
			tr.Packet(true, 0, p2)
			tr.Packet(true, 0, p1)
			tr.Packet(false, 0, append(srv, hs...))
			if !tr.Done() || tr.Err() != nil {
				t.Fatalf("done=%v err=%v", tr.Done(), tr.Err())
			}
			r := tr.Result()
			if !r.QUIC || r.SNI != "example.test" || r.JA4 != JA4(parsed, true) || !strings.HasPrefix(r.JA4, "q13") || !strings.HasPrefix(r.JA4S, "q13") || r.TLSVersion != "1.3" {
				t.Errorf("result %+v", r)
			}
		})
	}
}

func TestQUICRetry(t *testing.T) {
	ch, sh := testHellos(t)
	odcid := unhex(t, "8394c8f03e515708")
	newID := unhex(t, "bbbbbbbb")
	cscid := unhex(t, "c0ffee")
	retry := append([]byte{0xf0, 0, 0, 0, 1, 3}, cscid...)
	retry = append(append(retry, byte(len(newID))), newID...)
	retry = append(retry, "token"...)
	retry = append(retry, make([]byte, 16)...) // integrity tag (not checked)
	tr := NewTracker(UDP)
	tr.Packet(true, 0, sealInitial(t, QUICv1, odcid, odcid, cscid, true, 0, cryptoFrame(0, ch[5:])))
	tr.Packet(false, 0, retry)
	tr.Packet(false, 0, sealInitial(t, QUICv1, newID, cscid, newID, false, 0, cryptoFrame(0, sh[5:])))
	if r := tr.Result(); r.JA4 == "" || r.JA4S == "" || tr.Err() != nil {
		t.Errorf("after Retry: %+v, err %v", r, tr.Err())
	}
}

func TestParseInitialErrors(t *testing.T) {
	odcid := unhex(t, "8394c8f03e515708")
	good := sealInitial(t, QUICv1, odcid, odcid, nil, true, 7, cryptoFrame(0, []byte{1, 0, 0, 0}))
	pkts, err := ParseInitial(good, true, nil)
	if err != nil || len(pkts) != 1 || pkts[0].PacketNumber != 7 || len(pkts[0].Crypto) != 1 {
		t.Fatalf("good packet: %v %+v", err, pkts)
	}
	tampered := append([]byte(nil), good...)
	tampered[len(tampered)-1] ^= 1
	badFrame := sealInitial(t, QUICv1, odcid, odcid, nil, true, 1, []byte{0x08, 0, 0}) // STREAM frame
	tests := []struct {
		name string
		d    []byte
		want error
	}{
		{"tampered tag", tampered, ErrDecrypt},
		{"wrong direction keys", good, ErrDecrypt},
		{"truncated", good[:len(good)-30], ErrTruncated},
		{"header only", good[:10], ErrTruncated},
		{"frame not allowed", badFrame, ErrMalformed},
		{"unknown version", []byte{0xc0, 0x51, 0x30, 0x35, 0x30, 0, 0}, ErrUnsupportedVersion},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseInitial(tc.d, tc.name != "wrong direction keys", nil)
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			var oe *OffsetError
			if tc.want != ErrUnsupportedVersion && !errors.As(err, &oe) {
				t.Errorf("err %v has no offset", err)
			}
		})
	}
}

func TestCryptoStream(t *testing.T) {
	s := NewCryptoStream(16)
	steps := []struct {
		off  uint64
		data string
		want string
	}{
		{4, "efgh", ""},
		{0, "abc", "abc"},
		{2, "cde", "abcdefgh"},
		{0, "ab", "abcdefgh"},
	}
	for _, st := range steps {
		if err := s.Add(CryptoFrame{Offset: st.off, Data: []byte(st.data)}); err != nil {
			t.Fatal(err)
		}
		if got := string(s.Contiguous()); got != st.want {
			t.Errorf("after %d+%q: %q, want %q", st.off, st.data, got, st.want)
		}
	}
	if err := s.Add(CryptoFrame{Offset: 10, Data: []byte("0123456789")}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("beyond limit: %v", err)
	}
	if err := s.Add(CryptoFrame{Offset: 1 << 62, Data: []byte("x")}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("huge offset: %v", err)
	}
}
