package flow

import (
	"encoding/binary"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// IP protocol numbers of the transports the flow table keeps.
const (
	ProtoTCP = 6
	ProtoUDP = 17
)

// TCP flag bits of Packet.Flags.
const (
	FlagFIN = 1 << iota
	FlagSYN
	FlagRST
	FlagPSH
	FlagACK
	FlagURG
)

// Packet is one decoded TCP or UDP packet: what the flow table needs and nothing more.
// Payload aliases the frame it was decoded from.
type Packet struct {
	// Src and Dst are the addresses; IPv4 addresses are stored in the first 4 bytes.
	Src, Dst         [16]byte
	SrcPort, DstPort uint16
	IPVersion        uint8 // 4 or 6
	Proto            uint8 // ProtoTCP or ProtoUDP
	Flags            uint8 // TCP flags (FlagSYN, ...)
	// IPLen is the IP packet length from the IP header (header included), independent of how
	// many bytes were captured.
	IPLen int
	// PayloadLen is the transport payload length from the headers (IP length minus IP and
	// transport headers).
	PayloadLen int
	// Seq is the TCP sequence number (0 for UDP).
	Seq uint32
	// Payload is the captured part of the transport payload.
	Payload []byte
}

// Decoder decodes frames of one capture into Packets. It reuses its layer structs; it is not
// safe for concurrent use.
type Decoder struct {
	eth   layers.Ethernet
	dot1q layers.Dot1Q
	sll   layers.LinuxSLL
	sll2  layers.LinuxSLL2
	lo    layers.Loopback
	ip4   layers.IPv4
	ip6   layers.IPv6
	ext   layers.IPv6ExtensionSkipper
	tcp   layers.TCP
	udp   layers.UDP

	parsers map[gopacket.LayerType]*gopacket.DecodingLayerParser
	decoded []gopacket.LayerType
}

// NewDecoder returns a decoder.
func NewDecoder() *Decoder {
	d := &Decoder{parsers: map[gopacket.LayerType]*gopacket.DecodingLayerParser{}}
	for _, first := range []gopacket.LayerType{layers.LayerTypeEthernet, layers.LayerTypeLinuxSLL,
		layers.LayerTypeLinuxSLL2, layers.LayerTypeLoopback, layers.LayerTypeIPv4, layers.LayerTypeIPv6} {
		p := gopacket.NewDecodingLayerParser(first, &d.eth, &d.dot1q, &d.sll, &d.sll2, &d.lo,
			&d.ip4, &d.ip6, &d.ext, &d.tcp, &d.udp)
		p.IgnoreUnsupported = true
		d.parsers[first] = p
	}
	d.decoded = make([]gopacket.LayerType, 0, 12)
	return d
}

// SupportedLink reports whether the decoder reads frames of link type lt.
func SupportedLink(lt layers.LinkType) bool { return firstLayer(lt, nil) != gopacket.LayerTypeZero }

// firstLayer maps a link type to the first layer to decode; raw IP looks at the version nibble.
func firstLayer(lt layers.LinkType, data []byte) gopacket.LayerType {
	switch lt {
	case layers.LinkTypeEthernet:
		return layers.LayerTypeEthernet
	case layers.LinkTypeLinuxSLL:
		return layers.LayerTypeLinuxSLL
	case layers.LinkTypeLinuxSLL2:
		return layers.LayerTypeLinuxSLL2
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		return layers.LayerTypeLoopback
	case layers.LinkTypeIPv4:
		return layers.LayerTypeIPv4
	case layers.LinkTypeIPv6:
		return layers.LayerTypeIPv6
	case layers.LinkTypeRaw, 12, 14: // 12 and 14 are raw IP on some BSDs/OpenBSD
		if data == nil {
			return layers.LayerTypeIPv4
		}
		if len(data) > 0 && data[0]>>4 == 6 {
			return layers.LayerTypeIPv6
		}
		return layers.LayerTypeIPv4
	}
	return gopacket.LayerTypeZero
}

// Decode decodes frame (link type lt) into p. It returns false for frames that are not TCP or
// UDP over IP, or whose headers are damaged; such frames are skipped, never an error.
//
// The common frames (Ethernet or raw IP; IPv4 without options or IPv6 without extension
// headers; TCP or UDP) take a hand-written fast path that gives exactly what the
// DecodingLayerParser gives (FuzzDecode checks this) in a fraction of the time; the others go
// through gopacket's DecodingLayerParser.
func (d *Decoder) Decode(lt layers.LinkType, frame []byte, p *Packet) bool {
	if ok, done := fastDecode(lt, frame, p); done {
		return ok
	}
	return d.decodeLayers(lt, frame, p)
}

// decodeLayers decodes with gopacket's DecodingLayerParser.
func (d *Decoder) decodeLayers(lt layers.LinkType, frame []byte, p *Packet) bool {
	parser := d.parsers[firstLayer(lt, frame)]
	if parser == nil {
		return false
	}
	d.decoded = d.decoded[:0]
	// Errors past the transport header (a truncated or unknown inner layer) do not matter
	// once TCP or UDP was decoded.
	_ = parser.DecodeLayers(frame, &d.decoded)
	var ipHdr int
	ipSeen := false
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeIPv4:
			if ipSeen { // tunnels: keep the outermost IP header only
				return false
			}
			ipSeen = true
			p.IPVersion = 4
			p.Src = [16]byte{}
			p.Dst = [16]byte{}
			copy(p.Src[:4], d.ip4.SrcIP)
			copy(p.Dst[:4], d.ip4.DstIP)
			p.IPLen = int(d.ip4.Length)
			ipHdr = int(d.ip4.IHL) * 4
		case layers.LayerTypeIPv6:
			if ipSeen {
				return false
			}
			ipSeen = true
			p.IPVersion = 6
			copy(p.Src[:], d.ip6.SrcIP)
			copy(p.Dst[:], d.ip6.DstIP)
			p.IPLen = 40 + int(d.ip6.Length)
			if d.ip6.Length == 0 { // jumbogram or TSO: trust the captured length
				p.IPLen = len(d.ip6.Contents) + len(d.ip6.Payload)
			}
			ipHdr = 40
			if d.ip6.HopByHop != nil {
				ipHdr += d.ip6.HopByHop.ActualLength
			}
		case layers.LayerTypeIPv6HopByHop, layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6Destination:
			ipHdr += len(d.ext.Contents)
		case layers.LayerTypeTCP:
			if !ipSeen {
				return false
			}
			p.Proto = ProtoTCP
			p.SrcPort, p.DstPort = uint16(d.tcp.SrcPort), uint16(d.tcp.DstPort)
			p.Seq = d.tcp.Seq
			p.Flags = tcpFlags(&d.tcp)
			p.Payload = d.tcp.Payload
			p.PayloadLen = max(p.IPLen-ipHdr-int(d.tcp.DataOffset)*4, 0)
			return true
		case layers.LayerTypeUDP:
			if !ipSeen {
				return false
			}
			p.Proto = ProtoUDP
			p.SrcPort, p.DstPort = uint16(d.udp.SrcPort), uint16(d.udp.DstPort)
			p.Seq = 0
			p.Flags = 0
			p.Payload = d.udp.Payload
			p.PayloadLen = max(p.IPLen-ipHdr-8, 0)
			return true
		}
	}
	return false
}

func tcpFlags(t *layers.TCP) uint8 {
	// The flags byte is at offset 13 of the header; DecodeFromBytes has checked the length.
	if len(t.Contents) >= 14 {
		return t.Contents[13] & 0x3f
	}
	var f uint8
	set := func(b bool, bit uint8) {
		if b {
			f |= bit
		}
	}
	set(t.FIN, FlagFIN)
	set(t.SYN, FlagSYN)
	set(t.RST, FlagRST)
	set(t.PSH, FlagPSH)
	set(t.ACK, FlagACK)
	set(t.URG, FlagURG)
	return f
}

// fastDecode decodes the common frames; done is false when the frame needs the full decoder.
func fastDecode(lt layers.LinkType, frame []byte, p *Packet) (ok, done bool) {
	var ip []byte
	v6 := false
	switch lt {
	case layers.LinkTypeEthernet:
		if len(frame) < 14 {
			return false, false
		}
		switch binary.BigEndian.Uint16(frame[12:]) {
		case 0x0800:
		case 0x86dd:
			v6 = true
		default:
			return false, false
		}
		ip = frame[14:]
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, layers.LinkTypeIPv6, 12, 14:
		ip = frame
		v6 = firstLayer(lt, frame) == layers.LayerTypeIPv6
	default:
		return false, false
	}
	var l4 []byte
	var ipHdr int
	if !v6 {
		if len(ip) < 20 || ip[0]&0x0f != 5 {
			return false, false
		}
		length := int(binary.BigEndian.Uint16(ip[2:]))
		if length == 0 {
			return false, false
		}
		if length < 20 {
			return false, true
		}
		if ip[6]&0x20 != 0 || binary.BigEndian.Uint16(ip[6:])&0x1fff != 0 {
			return false, true // a fragment
		}
		p.IPVersion = 4
		// 8-byte stores, which the flow table's 8-byte loads of the addresses are forwarded from.
		putLE64(p.Src[:8], uint64(binary.LittleEndian.Uint32(ip[12:16])))
		putLE64(p.Src[8:], 0)
		putLE64(p.Dst[:8], uint64(binary.LittleEndian.Uint32(ip[16:20])))
		putLE64(p.Dst[8:], 0)
		p.IPLen = length
		p.Proto = ip[9]
		ipHdr = 20
		l4 = ip[20:min(length, len(ip))]
	} else {
		if len(ip) < 40 || (ip[6] != ProtoTCP && ip[6] != ProtoUDP) {
			return false, false
		}
		plen := int(binary.BigEndian.Uint16(ip[4:]))
		if plen == 0 {
			return false, false
		}
		p.IPVersion = 6
		copy(p.Src[:], ip[8:24])
		copy(p.Dst[:], ip[24:40])
		p.IPLen = 40 + plen
		p.Proto = ip[6]
		ipHdr = 40
		l4 = ip[40:min(40+plen, len(ip))]
	}
	switch p.Proto {
	case ProtoTCP:
		if len(l4) < 20 {
			return false, true
		}
		off := int(l4[12]>>4) * 4
		if off < 20 || off > len(l4) {
			return false, true
		}
		setPorts(p, binary.BigEndian.Uint16(l4), binary.BigEndian.Uint16(l4[2:]))
		p.Seq = binary.BigEndian.Uint32(l4[4:])
		p.Flags = l4[13] & 0x3f
		p.Payload = l4[off:]
		p.PayloadLen = max(p.IPLen-ipHdr-off, 0)
		return true, true
	case ProtoUDP:
		if len(l4) < 8 {
			return false, true
		}
		ulen := int(binary.BigEndian.Uint16(l4[4:]))
		switch {
		case ulen >= 8:
			p.Payload = l4[8:min(ulen, len(l4))]
		case ulen == 0:
			p.Payload = l4[8:]
		default:
			return false, true
		}
		setPorts(p, binary.BigEndian.Uint16(l4), binary.BigEndian.Uint16(l4[2:]))
		p.Seq, p.Flags = 0, 0
		p.PayloadLen = max(p.IPLen-ipHdr-8, 0)
		return true, true
	}
	return false, true
}
