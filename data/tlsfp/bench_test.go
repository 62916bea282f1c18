package tlsfp

import (
	"testing"
)

// BenchmarkClientHello measures parsing a crypto/tls ClientHello and computing all its
// fingerprints (JA3 string and hash, JA4, JA4_r).
func BenchmarkClientHello(b *testing.B) {
	ch, _ := testHellos(b)
	msg := ch[5:]
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		h, err := ParseClientHello(msg)
		if err != nil {
			b.Fatal(err)
		}
		_ = JA3(h)
		_ = JA4(h, false)
		_ = JA4R(h, false)
	}
}

// BenchmarkParseClientHello measures the parser alone.
func BenchmarkParseClientHello(b *testing.B) {
	ch, _ := testHellos(b)
	msg := ch[5:]
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseClientHello(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTrackerTCP measures a Tracker over a TCP flow whose hellos each fit in one
// segment: the per-flow cost the flow extractor pays for a TLS flow.
func BenchmarkTrackerTCP(b *testing.B) {
	ch, sh := testHellos(b)
	b.ReportAllocs()
	for b.Loop() {
		tr := NewTracker(TCP)
		tr.Packet(true, 1, ch)
		tr.Packet(false, 1, sh)
		if !tr.Done() {
			b.Fatal("not done")
		}
	}
}

// BenchmarkTrackerNonTLS measures how much a non-TLS TCP flow costs before it is given up.
func BenchmarkTrackerNonTLS(b *testing.B) {
	p := []byte("GET /index.html HTTP/1.1\r\nHost: example.test\r\n\r\n")
	b.ReportAllocs()
	for b.Loop() {
		tr := NewTracker(TCP)
		for seq := uint32(1); !tr.Done(); seq += uint32(len(p)) {
			tr.Packet(true, seq, p)
		}
	}
}

// BenchmarkTrackerQUIC measures decrypting a client Initial and fingerprinting it.
func BenchmarkTrackerQUIC(b *testing.B) {
	ch, _ := testHellos(b)
	odcid := []byte{0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08}
	d := sealInitial(b, QUICv1, odcid, odcid, nil, true, 0, cryptoFrame(0, ch[5:]))
	b.SetBytes(int64(len(d)))
	b.ReportAllocs()
	for b.Loop() {
		tr := NewTracker(UDP)
		tr.Packet(true, 0, d)
		if tr.Result().JA4 == "" {
			b.Fatal("no JA4")
		}
	}
}
