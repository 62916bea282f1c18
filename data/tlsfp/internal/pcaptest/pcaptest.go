// Package pcaptest reads pcap and pcapng files into per-5-tuple flows for tlsfp's tests.
// It is test support only: the real flow extractor is data/flow. Flows are keyed by the
// bidirectional 5-tuple of the outermost IP and TCP/UDP header; the client is the sender of
// the first SYN without ACK, else of the first packet. Tunnels are not decapsulated.
package pcaptest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Packet is one transport payload of a flow.
type Packet struct {
	FromClient bool
	Seq        uint32
	SYN        bool
	Payload    []byte
}

// Flow is one bidirectional 5-tuple with its packets in capture order.
type Flow struct {
	UDP                 bool
	Client, Server      netip.Addr
	ClientPort, SrvPort uint16
	Packets             []Packet
}

type key struct {
	udp    bool
	a, b   netip.Addr
	pa, pb uint16
}

// countingReader counts the bytes read, to name the offset of a read error.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type packetSource interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	LinkType() layers.LinkType
}

// Read returns the flows of a pcap or pcapng file in order of first appearance. When the
// file is damaged it returns the flows read so far and an error naming the file and the
// byte offset reached.
func Read(path string) ([]*Flow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cr := &countingReader{r: bufio.NewReader(f)}
	br := bufio.NewReader(cr)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("%s: read magic: %w", path, err)
	}
	var src packetSource
	if bytes.Equal(magic, []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		src, err = pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
	} else {
		src, err = pcapgo.NewReader(br)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	flows := map[key]*Flow{}
	var order []*Flow
	for i := 1; ; i++ {
		data, _, err := src.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			off := cr.n - int64(br.Buffered())
			return order, fmt.Errorf("%s: packet %d near byte offset %d: %w", path, i, off, err)
		}
		addPacket(flows, &order, src.LinkType(), data)
	}
	return order, nil
}

func addPacket(flows map[key]*Flow, order *[]*Flow, lt layers.LinkType, data []byte) {
	pkt := gopacket.NewPacket(data, lt, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	var src, dst netip.Addr
	if l := pkt.Layer(layers.LayerTypeIPv4); l != nil {
		ip := l.(*layers.IPv4)
		if ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 {
			return
		}
		src, _ = netip.AddrFromSlice(ip.SrcIP.To4())
		dst, _ = netip.AddrFromSlice(ip.DstIP.To4())
	} else if l := pkt.Layer(layers.LayerTypeIPv6); l != nil {
		ip := l.(*layers.IPv6)
		src, _ = netip.AddrFromSlice(ip.SrcIP)
		dst, _ = netip.AddrFromSlice(ip.DstIP)
	} else {
		return
	}
	var p Packet
	var sp, dp uint16
	udp := false
	switch {
	case pkt.Layer(layers.LayerTypeTCP) != nil:
		t := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP)
		sp, dp = uint16(t.SrcPort), uint16(t.DstPort)
		p.Seq, p.Payload, p.SYN = t.Seq, t.Payload, t.SYN && !t.ACK
	case pkt.Layer(layers.LayerTypeUDP) != nil:
		u := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
		sp, dp = uint16(u.SrcPort), uint16(u.DstPort)
		p.Payload = u.Payload
		udp = true
	default:
		return
	}
	k := key{udp: udp, a: src, b: dst, pa: sp, pb: dp}
	rk := key{udp: udp, a: dst, b: src, pa: dp, pb: sp}
	fl := flows[k]
	if fl == nil {
		fl = flows[rk]
	}
	if fl == nil {
		fl = &Flow{UDP: udp, Client: src, Server: dst, ClientPort: sp, SrvPort: dp}
		flows[k] = fl
		*order = append(*order, fl)
	}
	from := fl.Client == src && fl.ClientPort == sp
	if p.SYN && !from && len(fl.Packets) > 0 && !anySYN(fl) {
		// The first SYN names the client even if a stray packet came first.
		fl.Client, fl.Server, fl.ClientPort, fl.SrvPort = fl.Server, fl.Client, fl.SrvPort, fl.ClientPort
		for i := range fl.Packets {
			fl.Packets[i].FromClient = !fl.Packets[i].FromClient
		}
		from = true
	}
	p.FromClient = from
	p.Payload = bytes.Clone(p.Payload)
	fl.Packets = append(fl.Packets, p)
}

func anySYN(f *Flow) bool {
	for _, p := range f.Packets {
		if p.SYN {
			return true
		}
	}
	return false
}
