// Package tlsfp parses TLS ClientHello and ServerHello messages, over TCP, inside QUIC
// Initial packets and in DTLS records, and computes the fingerprints etch stores per flow:
// SNI, ALPN, the negotiated TLS version, JA3/JA3S (Salesforce) and JA4/JA4_r/JA4S (FoxIO).
//
// The hello parser is hand-written on purpose. crypto/tls does not expose a peer's raw
// hello; the maintained third-party parsers either normalise the message (dropping GREASE,
// de-duplicating or re-ordering extensions) or do not expose every field in wire order, and
// JA3/JA4 need exactly the bytes on the wire: cipher suites, extension types, groups, point
// formats and signature algorithms in the order sent, GREASE included so that each
// fingerprint can drop it the way its specification says. The QUIC Initial decryption is
// also written here (RFC 9001 for v1, RFC 9369 for v2) on crypto/hkdf, crypto/aes and
// crypto/cipher from the standard library, because no maintained Go library exposes
// passive decryption of someone else's Initial packets.
//
// Only handshake bytes are read: TLS records up to the end of the first handshake message in
// each direction, and the CRYPTO frames of QUIC Initial packets. Nothing else of the payload
// is kept, and Result holds strings only.
//
// A Tracker follows one flow: feed it every transport payload with Packet until Done, then
// read Result and Err. Trackers made by a Memo share the fingerprint strings of identical TLS
// stacks (JA3/JA4 computed once per distinct set of hello fields) and are reused after Release;
// their results equal those of NewTracker's (a test and FuzzTracker compare the two). It reassembles hellos split over several TCP segments (out of order
// and duplicate segments are tolerated, the buffer is bounded) and CRYPTO frames split over
// several QUIC Initial packets or DTLS handshake fragments.
//
// Fingerprint definitions follow the specifications: JA3 from
// https://github.com/salesforce/ja3 (GREASE values of RFC 8701 removed, as tshark and
// Suricata do), JA4 and JA4S from https://github.com/FoxIO-LLC/ja4 technical_details, with
// the FoxIO Rust implementation's output as the reference where the prose is silent.
package tlsfp
