package flow

// TLSResult is what a handshake tracker found in a flow.
type TLSResult struct {
	SNI, ALPN, TLSVersion, JA3, JA3Full, JA3S, JA3SFull, JA4, JA4R, JA4S string
	QUIC                                                                 bool
}

// defaultTracker is the handshake tracker Config.Defaults installs.
func defaultTracker(udp bool) HandshakeTracker { return nil }
