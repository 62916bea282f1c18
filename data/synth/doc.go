// Package synth is etch's traffic lab: it generates realistic encrypted traffic, packet by
// packet, for classes (services) whose behaviour is known, so that models can be trained and
// tested where no capture exists, and so that CI has data that ships with etch.
//
// Each service is a profile: a TLS client family (versions, cipher suites, groups, ALPN, ticket
// support, SNI: distinct but overlapping JA3/JA4 across families), a server profile (certificate
// chain length and size, versions, ALPN, network distance), request/response size and timing
// distributions (log-normal), a number of exchanges, TCP or QUIC. Class frequencies follow a
// Zipf-like skew. Groups of services share a CDN-like profile (client family, server, nearly
// equal distributions), so some classes are genuinely hard to tell apart.
//
// Handshakes are real: crypto/tls runs client and server over an in-memory, turn-based
// connection (deterministic write order), and QUIC handshakes go through tls.QUICClient and
// tls.QUICServer. Certificates are Ed25519 (deterministic keys and fixed-length signatures), so
// every handshake message has the same size for a given seed. Because a full handshake costs
// far more than building a flow's packets, each (service, SNI) records one full and one resumed
// handshake when the lab is built, and every flow replays those exact bytes with its own TCP
// framing, sequence numbers, timing and application data. Application records carry correct
// TLS record headers and AEAD expansion, but their bodies are filler rather than ciphertext
// (no feature reads them); QUIC Initial packets are protected exactly as RFC 9001 says, so any
// passive parser recovers the ClientHello, while Handshake and 1-RTT packets carry filler.
//
// What varies between runs with the same seed: TLS randoms, key shares, session IDs, ticket
// contents and the ciphertext of the recorded handshakes (Go's crypto ignores custom random
// sources). Sizes, timing,
// headers, SNI, ALPN and all JA3/JA4 fingerprints are a function of the seed alone, so the
// decoded dataset is identical. One caveat: crypto/tls orders its TLS 1.3 cipher suites, and
// its server picks one, by whether the CPU has AES-GCM hardware, so JA3, JA3S and JA4S (not JA4,
// which sorts suites) can differ between machines.
//
// Frames (Ethernet, IPv4 or IPv6, TCP/UDP with real checksums) are built by hand rather than with
// gopacket's SerializeLayers, which allocates per layer; the tests decode them with gopacket.
// Generate streams frames in capture-time order; WritePcap writes them with pcapgo.
//
// Records (etch data synth to a flows file) runs the frames through data/flow's Decoder and
// Table, one table per worker and one flow at a time, in parallel: the lab never has two open
// flows on one 5-tuple, so this equals one table over the merged capture (a test compares them
// record by record). On that path frames skip checksums and are cut after the TCP header where
// they carry application data (like a short snap length): the extractor reads neither.
package synth
