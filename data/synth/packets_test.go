package synth

import (
	"math/rand/v2"
	"testing"
)

// csumRef is the RFC 1071 ones' complement sum, 16 bits at a time.
func csumRef(sum uint32, b []byte) uint32 {
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return sum
}

func TestChecksum(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 200; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		for _, init := range []uint32{0, 1, 0xfffe, 0x1ffff} {
			if got, want := csumFold(csumAdd(init, b)), csumFold(csumRef(init, b)); got != want {
				t.Fatalf("len %d init %#x: %#x, want %#x", n, init, got, want)
			}
		}
	}
}
