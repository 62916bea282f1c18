package tlsfp

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// seg is one segment of a table-driven tracker test.
type seg struct {
	client bool
	seq    uint32
	data   []byte
}

// split cuts a stream starting at seq into pieces of n bytes.
func split(client bool, seq uint32, b []byte, n int) []seg {
	var out []seg
	for off := 0; off < len(b); off += n {
		end := min(off+n, len(b))
		out = append(out, seg{client, seq + uint32(off), b[off:end]})
	}
	return out
}

func TestTrackerTCPReassembly(t *testing.T) {
	ch, sh := testHellos(t)
	whole := NewTracker(TCP)
	whole.Packet(true, 1000, ch)
	whole.Packet(false, 5000, sh)
	want := whole.Result()
	if !whole.Done() || whole.Err() != nil {
		t.Fatalf("whole hellos: done=%v err=%v", whole.Done(), whole.Err())
	}
	if want.SNI != "example.test" || want.ALPN != "h2,http/1.1" || want.TLSVersion != "1.3" || want.JA4 == "" || want.JA4S == "" || want.JA3S == "" {
		t.Fatalf("unexpected result %+v", want)
	}
	if !strings.HasPrefix(want.JA4, "t13d") || !strings.HasPrefix(want.JA4S, "t13") {
		t.Fatalf("JA4 %s / JA4S %s", want.JA4, want.JA4S)
	}

	const wrap = 0xffffffff - 100 // sequence numbers that wrap inside the hello
	reversed := split(true, 1000, ch, len(ch)/3+1)
	slices.Reverse(reversed)
	firstLast := split(true, 1000, ch, 100)
	firstLast = append(firstLast[1:], firstLast[0])
	dups := split(true, 1000, ch, 60)
	dups = append(dups[:2], dups...)
	overlap := []seg{{true, 1000, ch[:100]}, {true, 1050, ch[50:150]}, {true, 1100, ch[100:]}}
	preamble := []seg{{true, 1, []byte("CONNECT example.test:443 HTTP/1.1\r\n\r\n")}, {true, 38, ch}}
	srvPreamble := []seg{{false, 1, []byte("HTTP/1.1 200 Connection established\r\n\r\n")}}
	tests := []struct {
		name string
		segs []seg
	}{
		{"two segments", split(true, 1000, ch, len(ch)/2+1)},
		{"7-byte segments", split(true, 1000, ch, 7)},
		{"reversed order", reversed},
		{"first segment last", firstLast},
		{"duplicates", dups},
		{"overlapping retransmission", overlap},
		{"sequence wrap", split(true, wrap, ch, 64)},
		{"HTTP CONNECT preamble", append(preamble, srvPreamble...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker(TCP)
			for _, s := range tc.segs {
				tr.Packet(s.client, s.seq, s.data)
			}
			if tr.Done() {
				t.Fatal("done before the ServerHello")
			}
			for _, s := range split(false, 77777, sh, 33) {
				tr.Packet(s.client, s.seq, s.data)
			}
			if !tr.Done() || tr.Err() != nil {
				t.Fatalf("done=%v err=%v", tr.Done(), tr.Err())
			}
			if got := tr.Result(); got != want {
				t.Fatalf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestTrackerGivesUp(t *testing.T) {
	tests := []struct {
		name    string
		tr      Transport
		payload []byte
		wantErr error
	}{
		{"HTTP", TCP, []byte("GET / HTTP/1.1\r\nHost: example.test\r\n\r\n"), nil},
		{"DNS over UDP", UDP, []byte{0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0}, nil},
		{"TLS alert first", TCP, []byte{0x15, 3, 3, 0, 2, 2, 40}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker(tc.tr)
			n := 0
			for seq := uint32(1); !tr.Done() && n < 100; n++ {
				tr.Packet(true, seq, tc.payload)
				seq += uint32(len(tc.payload))
			}
			if !tr.Done() {
				t.Fatal("never done")
			}
			if n > maxPreamble+1 {
				t.Errorf("fed %d packets before giving up", n)
			}
			if tr.Result() != (Result{}) {
				t.Errorf("result from non-TLS: %+v", tr.Result())
			}
			if tr.Err() != nil {
				t.Errorf("err = %v", tr.Err())
			}
		})
	}
}

func TestTrackerErrors(t *testing.T) {
	ch, _ := testHellos(t)
	big := []byte{0x16, 3, 1, 0, 4, 1, 0x02, 0, 0} // announces a 128 KiB ClientHello
	bad := slices.Clone(ch)
	bad[5+4+2+32] = 200 // session ID length beyond the message
	tests := []struct {
		name string
		segs [][]byte
		want error
	}{
		{"hello too large", [][]byte{big}, ErrTooLarge},
		{"malformed hello", [][]byte{bad}, ErrTruncated},
		{"missing segment", [][]byte{ch[:100], nil, make([]byte, 1000)}, ErrTruncated},
		{"record of another type inside the hello", [][]byte{append([]byte{0x16, 3, 1, 0, 10}, ch[5:15]...), {0x17, 3, 3, 0, 1, 0}}, ErrNotHello},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker(TCP)
			seq := uint32(1)
			for _, s := range tc.segs {
				if s == nil { // a lost segment: skip far ahead
					seq += MaxHelloBytes
					continue
				}
				tr.Packet(true, seq, s)
				seq += uint32(len(s))
			}
			err := tr.Err()
			if err == nil {
				t.Fatal("no error")
			}
			var oe *OffsetError
			if !errors.As(err, &oe) && !errors.Is(err, ErrTooLarge) {
				t.Errorf("error %v carries no offset", err)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
		})
	}
}

// TestTrackerServerAfterClientError: a malformed ClientHello ends the client side with an
// error, and the ServerHello is still read.
func TestTrackerServerAfterClientError(t *testing.T) {
	ch, sh := testHellos(t)
	bad := slices.Clone(ch)
	bad[5+4+2+32] = 200 // session ID length beyond the message
	tr := NewTracker(TCP)
	tr.Packet(true, 1, bad)
	if tr.Done() {
		t.Fatal("done before the server spoke")
	}
	tr.Packet(false, 1, sh)
	if !tr.Done() || !errors.Is(tr.Err(), ErrTruncated) || tr.Result().JA4S == "" || tr.Result().JA4 != "" {
		t.Errorf("done=%v err=%v result=%+v", tr.Done(), tr.Err(), tr.Result())
	}
}
