package synth

import "testing"

// FuzzSplitRecords: splitRecords (TLS record framing of recorded handshake writes) never panics,
// and the records it returns are whole and lie within the input.
func FuzzSplitRecords(f *testing.F) {
	f.Add([]byte{22, 3, 1, 0, 2, 1, 0})
	f.Add([]byte{23, 3, 3, 0, 0, 22, 3, 3, 0, 1, 9, 1})
	f.Add([]byte{23, 3, 3, 0xff, 0xff})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		total := 0
		for _, n := range splitRecords(b) {
			if n < 5 {
				t.Fatalf("record of %d bytes", n)
			}
			total += n
		}
		if total > len(b) {
			t.Fatalf("records cover %d bytes of %d", total, len(b))
		}
	})
}
