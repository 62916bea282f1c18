// Package flow turns packet captures into flow records: it reads pcap and pcapng files (also
// gzip-compressed), decodes link, network and transport headers, groups packets into
// bidirectional flows, computes each flow's counters, statistics and first-N sequences, runs a
// TLS/QUIC handshake tracker (package data/tlsfp) over each flow's first payload packets, applies
// labels and the privacy options, and emits one data.Record per flow.
//
// The pieces:
//   - Reader reads capture files. pcapng goes through gopacket's pcapgo.NgReader. Classic pcap
//     is read by a small hand-written reader: pcapgo's reader copies every record and cannot
//     tell the byte offset of a bad record, and it does not recognise the "modified pcap"
//     layout (24-byte record headers behind the standard magic) that Wireshark detects and
//     some public captures use. Uncompressed files are memory-mapped and parsed in place.
//   - Decoder decodes one frame into a Packet with gopacket's DecodingLayerParser (Ethernet,
//     802.1Q, Linux SLL/SLL2, loopback/null, raw IP; IPv4, IPv6, TCP, UDP). The common frames
//     (Ethernet or raw IP, IPv4 without options or IPv6 without extension headers, TCP or UDP)
//     take a hand-written fast path instead, several times faster; FuzzDecode and a test over
//     every shared capture check that it decodes exactly what the parser decodes.
//   - Table is the bidirectional flow table (idle and active timeouts, FIN/RST, bounded memory).
//     Its index is a hand-written open-addressing hash table (flowmap.go) rather than a Go map:
//     the key is hashed and compared as five machine words kept in registers, which on the
//     per-packet path costs a fraction of hashing and copying a 37-byte struct key. Percentiles
//     come from a partial radix bucketing (only the buckets holding the needed ranks sorted).
//   - Input digests (SHA-256, for the footer) are computed beside the extraction, or read from a
//     digest cache keyed by file identity (digest.go explains why an entry can be trusted).
//   - Extract and ExtractToFile run the whole pipeline; Options carries the command-line flags
//     that etch extract, etch classify and etch data synth share.
//
// No payload byte is stored: the handshake tracker sees the first payload packets of a flow and
// only its result (SNI, ALPN, fingerprints) is kept.
package flow
