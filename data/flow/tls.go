package flow

import "github.com/etchlab/etch/data/tlsfp"

// TLSResult is what a handshake tracker found in a flow (tlsfp's result type).
type TLSResult = tlsfp.Result

// defaultTracker is the handshake tracker Config.Defaults installs: tlsfp's.
func defaultTracker(udp bool) HandshakeTracker {
	if udp {
		return tlsfp.NewTracker(tlsfp.UDP)
	}
	return tlsfp.NewTracker(tlsfp.TCP)
}
