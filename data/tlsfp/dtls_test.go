package tlsfp

import (
	"errors"
	"testing"
)

// dtlsRecord wraps handshake fragments of one message into a DTLS 1.2 record of epoch 0.
func dtlsRecord(msgType byte, body []byte, msgSeq, fragOff, fragLen int) []byte {
	n := len(body)
	hs := []byte{msgType, byte(n >> 16), byte(n >> 8), byte(n), byte(msgSeq >> 8), byte(msgSeq),
		byte(fragOff >> 16), byte(fragOff >> 8), byte(fragOff), byte(fragLen >> 16), byte(fragLen >> 8), byte(fragLen)}
	hs = append(hs, body[fragOff:fragOff+fragLen]...)
	rec := []byte{0x16, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, byte(msgSeq), byte(len(hs) >> 8), byte(len(hs))}
	return append(rec, hs...)
}

// dtlsBody turns a TLS ClientHello body into a DTLS one by adding an empty cookie after the
// session ID.
func dtlsBody(tlsBody []byte) []byte {
	sid := 2 + 32
	end := sid + 1 + int(tlsBody[sid])
	out := append([]byte(nil), tlsBody[:end]...)
	out = append(out, 0)
	return append(out, tlsBody[end:]...)
}

func TestDTLSTracker(t *testing.T) {
	ch, sh := testHellos(t)
	tlsCH, err := ParseClientHello(ch[5:])
	if err != nil {
		t.Fatal(err)
	}
	body := dtlsBody(ch[9:])
	half := len(body) / 2
	hvr := dtlsRecord(3, []byte{0xfe, 0xff, 2, 0xaa, 0xbb}, 0, 0, 5)
	shBody := sh[9:]
	tr := NewTracker(UDP)
	// ICE connectivity checks (STUN binding requests) come first, as in WebRTC.
	stun := append([]byte{0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42}, make([]byte, 12)...)
	for range 6 {
		tr.Packet(true, 0, stun)
		tr.Packet(false, 0, stun)
	}
	// Second fragment first, then the first; the server's HelloVerifyRequest; the retried
	// ClientHello (ignored); the ServerHello.
	tr.Packet(true, 0, dtlsRecord(1, body, 0, half, len(body)-half))
	tr.Packet(true, 0, dtlsRecord(1, body, 0, 0, half))
	tr.Packet(false, 0, hvr)
	tr.Packet(true, 0, dtlsRecord(1, append(body, 0), 1, 0, len(body)+1))
	tr.Packet(false, 0, dtlsRecord(2, shBody, 1, 0, len(shBody)))
	if !tr.Done() || tr.Err() != nil {
		t.Fatalf("done=%v err=%v", tr.Done(), tr.Err())
	}
	r := tr.Result()
	if want := "d" + JA4(tlsCH, false)[1:]; r.JA4 != want || r.SNI != "example.test" || r.JA4S == "" || r.JA4S[0] != 'd' || r.QUIC {
		t.Errorf("result %+v, want JA4 %s", r, want)
	}

	bad := NewTracker(UDP)
	rec := dtlsRecord(1, body, 0, 0, len(body))
	bad.Packet(true, 0, rec[:len(rec)-10])
	if err := bad.Err(); !errors.Is(err, ErrTruncated) {
		t.Errorf("truncated DTLS record: %v", err)
	}
}
