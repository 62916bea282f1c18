package flow

import "github.com/etchlab/etch/data/tlsfp"

// TLSResult is what a handshake tracker found in a flow (tlsfp's result type).
type TLSResult = tlsfp.Result

// defaultTracker returns the tracker of a new flow when Config.NewTracker is nil: tlsfp's,
// sharing the table's memo of fingerprint strings.
func (t *Table) defaultTracker(udp bool) HandshakeTracker {
	if t.memo == nil {
		t.memo = tlsfp.NewMemo()
	}
	if udp {
		return t.memo.NewTracker(tlsfp.UDP)
	}
	return t.memo.NewTracker(tlsfp.TCP)
}
