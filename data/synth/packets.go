package synth

import "encoding/binary"

// Frames are built by hand rather than with gopacket's SerializeLayers: the lab writes a few
// million small frames per second, and filling fixed Ethernet/IPv4/TCP/UDP headers in place (with
// real checksums) avoids gopacket's per-layer allocations. Tests decode every frame back with
// gopacket.

// TCP flags.
const (
	flagFIN = 0x01
	flagSYN = 0x02
	flagRST = 0x04
	flagPSH = 0x08
	flagACK = 0x10
)

const (
	ethLen  = 14
	ipv4Len = 20
	ipv6Len = 40
	tcpLen  = 20
	udpLen  = 8
)

// host is one end of a flow on the wire: IPv4 (ip) or IPv6 (v6 set, ip6).
type host struct {
	mac  [6]byte
	ip   [4]byte
	ip6  [16]byte
	v6   bool
	port uint16
	ttl  uint8 // TTL or hop limit
	ipid uint16
	// flowLabel is the IPv6 flow label (20 bits).
	flowLabel uint32
}

func macFor(ip [16]byte) [6]byte {
	return [6]byte{0x02, 0x42, ip[12], ip[13], ip[14], ip[15]}
}

func csumAdd(sum uint32, b []byte) uint32 {
	// Sum 32-bit big-endian words into a 64-bit accumulator (the carries land in the upper
	// bits and are folded once), which is the same ones' complement sum as 16-bit words.
	var acc uint64
	for len(b) >= 8 {
		v := binary.BigEndian.Uint64(b)
		acc += v>>32 + v&0xffffffff
		b = b[8:]
	}
	if len(b) >= 4 {
		acc += uint64(binary.BigEndian.Uint32(b))
		b = b[4:]
	}
	if len(b) >= 2 {
		acc += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		acc += uint64(b[0]) << 8
	}
	for acc>>16 != 0 {
		acc = acc&0xffff + acc>>16
	}
	s := uint64(sum) + acc
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint32(s)
}

func csumFold(sum uint32) uint16 {
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// appendIP appends Ethernet and IPv4 or IPv6 headers for a transport segment of l4len bytes.
func appendIP(buf []byte, src, dst *host, proto byte, l4len int) []byte {
	if !src.v6 {
		buf, _ = appendIPv4(buf, src, dst, proto, l4len)
		return buf
	}
	buf = append(buf, dst.mac[:]...)
	buf = append(buf, src.mac[:]...)
	buf = append(buf, 0x86, 0xdd)
	fl := src.flowLabel & 0xfffff
	buf = append(buf, 0x60, byte(fl>>16), byte(fl>>8), byte(fl), byte(l4len>>8), byte(l4len), proto, src.ttl)
	buf = append(buf, src.ip6[:]...)
	return append(buf, dst.ip6[:]...)
}

// appendIPv4 appends Ethernet and IPv4 headers for a transport segment of l4len bytes and returns
// the extended buffer and the offset of the IPv4 header.
func appendIPv4(buf []byte, src, dst *host, proto byte, l4len int) ([]byte, int) {
	buf = append(buf, dst.mac[:]...)
	buf = append(buf, src.mac[:]...)
	buf = append(buf, 0x08, 0x00)
	ip := len(buf)
	total := ipv4Len + l4len
	src.ipid++
	buf = append(buf,
		0x45, 0, byte(total>>8), byte(total), byte(src.ipid>>8), byte(src.ipid), 0x40, 0,
		src.ttl, proto, 0, 0)
	buf = append(buf, src.ip[:]...)
	buf = append(buf, dst.ip[:]...)
	binary.BigEndian.PutUint16(buf[ip+10:], csumFold(csumAdd(0, buf[ip:ip+ipv4Len])))
	return buf, ip
}

func pseudoSum(src, dst *host, proto byte, l4len int) uint32 {
	var s uint32
	if src.v6 {
		s = csumAdd(s, src.ip6[:])
		s = csumAdd(s, dst.ip6[:])
	} else {
		s = csumAdd(s, src.ip[:])
		s = csumAdd(s, dst.ip[:])
	}
	return s + uint32(proto) + uint32(l4len)
}

// appendTCP appends an Ethernet/IPv4/TCP frame carrying payload.
// The segment carries plen payload bytes on the wire, of which the frame holds payload (all of
// them, or none when the frame is cut like a capture with a short snap length). Without csum
// (or when the payload is cut) the TCP checksum is left zero.
func appendTCP(buf []byte, src, dst *host, flags byte, seq, ack uint32, win uint16, opts, payload []byte, plen int, csum bool) []byte {
	hl := tcpLen + len(opts)
	buf = appendIP(buf, src, dst, 6, hl+plen)
	t := len(buf)
	buf = append(buf, byte(src.port>>8), byte(src.port), byte(dst.port>>8), byte(dst.port),
		byte(seq>>24), byte(seq>>16), byte(seq>>8), byte(seq),
		byte(ack>>24), byte(ack>>16), byte(ack>>8), byte(ack),
		byte(hl/4)<<4, flags, byte(win>>8), byte(win), 0, 0, 0, 0)
	buf = append(buf, opts...)
	buf = append(buf, payload...)
	if csum && len(payload) == plen {
		sum := csumAdd(pseudoSum(src, dst, 6, hl+len(payload)), buf[t:])
		binary.BigEndian.PutUint16(buf[t+16:], csumFold(sum))
	}
	return buf
}

// appendUDP appends an Ethernet/IPv4/UDP frame carrying payload.
// Without csum the UDP checksum is left zero (meaning "none" in IPv4).
func appendUDP(buf []byte, src, dst *host, payload []byte, csum bool) []byte {
	l := udpLen + len(payload)
	buf = appendIP(buf, src, dst, 17, l)
	u := len(buf)
	buf = append(buf, byte(src.port>>8), byte(src.port), byte(dst.port>>8), byte(dst.port),
		byte(l>>8), byte(l), 0, 0)
	buf = append(buf, payload...)
	if csum {
		c := csumFold(csumAdd(pseudoSum(src, dst, 17, l), buf[u:]))
		if c == 0 {
			c = 0xffff
		}
		binary.BigEndian.PutUint16(buf[u+6:], c)
	}
	return buf
}

// synOptions are the TCP options of a SYN: MSS, SACK permitted, window scale.
func synOptions(mss int, wscale byte) []byte {
	return []byte{2, 4, byte(mss >> 8), byte(mss), 4, 2, 1, 3, 3, wscale, 0, 0}[:12]
}
