package flow

import (
	"encoding/binary"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// TestDecodeLinkTypes decodes one TCP packet under every supported link type.
func TestDecodeLinkTypes(t *testing.T) {
	p4 := synthPkt{src: ipC, dst: ipS, sport: 40000, dport: 443, proto: ProtoTCP, flags: FlagSYN | FlagACK, seq: 7, payload: []byte("abc")}
	p6 := p4
	p6.ipv6 = true
	eth4 := appendFrame(nil, &p4)
	eth6 := appendFrame(nil, &p6)
	ip4, ip6 := eth4[14:], eth6[14:]

	vlan := append(append(append([]byte{}, eth4[:12]...), 0x81, 0x00, 0x00, 0x64), eth4[12:]...)
	qinq := append(append(append([]byte{}, eth4[:12]...), 0x81, 0x00, 0x00, 0x64, 0x81, 0x00, 0x00, 0x65), eth4[12:]...)
	sll := append([]byte{0, 0, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x08, 0x00}, ip4...)
	sll2 := append([]byte{0x86, 0xdd, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0}, ip6...)
	null4 := append(binary.LittleEndian.AppendUint32(nil, 2), ip4...)
	null6 := append(binary.LittleEndian.AppendUint32(nil, 30), ip6...)
	loop4 := append(binary.BigEndian.AppendUint32(nil, 2), ip4...)
	for _, tc := range []struct {
		name  string
		link  layers.LinkType
		frame []byte
		ipv   uint8
	}{
		{"ethernet ipv4", layers.LinkTypeEthernet, eth4, 4},
		{"ethernet ipv6", layers.LinkTypeEthernet, eth6, 6},
		{"802.1Q", layers.LinkTypeEthernet, vlan, 4},
		{"802.1Q twice", layers.LinkTypeEthernet, qinq, 4},
		{"linux sll", layers.LinkTypeLinuxSLL, sll, 4},
		{"linux sll2", layers.LinkTypeLinuxSLL2, sll2, 6},
		{"null ipv4", layers.LinkTypeNull, null4, 4},
		{"null ipv6", layers.LinkTypeNull, null6, 6},
		{"loop ipv4", layers.LinkTypeLoop, loop4, 4},
		{"raw ipv4", layers.LinkTypeRaw, ip4, 4},
		{"raw ipv6", layers.LinkTypeRaw, ip6, 6},
		{"ipv4", layers.LinkTypeIPv4, ip4, 4},
		{"ipv6", layers.LinkTypeIPv6, ip6, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p Packet
			if !NewDecoder().Decode(tc.link, tc.frame, &p) {
				t.Fatal("not decoded")
			}
			hdr := 20
			if tc.ipv == 6 {
				hdr = 40
			}
			if p.IPVersion != tc.ipv || p.Proto != ProtoTCP || p.SrcPort != 40000 || p.DstPort != 443 ||
				p.Flags != FlagSYN|FlagACK || p.Seq != 7 || string(p.Payload) != "abc" || p.PayloadLen != 3 || p.IPLen != hdr+23 {
				t.Errorf("decoded %+v", p)
			}
			if p.Src[len(p.Src)-1] != 1 && tc.ipv == 6 || tc.ipv == 4 && p.Src[3] != 1 {
				t.Errorf("source %v", p.Src)
			}
		})
	}
	// Not TCP/UDP or damaged: skipped.
	arp := append(append([]byte{}, eth4[:12]...), 0x08, 0x06, 0, 1)
	frag := append([]byte{}, eth4...)
	frag[14+6] = 0x20 // more fragments
	for name, fr := range map[string][]byte{"arp": arp, "fragment": frag, "short": eth4[:20], "empty": nil} {
		var p Packet
		if NewDecoder().Decode(layers.LinkTypeEthernet, fr, &p) {
			t.Errorf("%s decoded", name)
		}
	}
	if SupportedLink(layers.LinkTypeIEEE802_11) || !SupportedLink(layers.LinkTypeLinuxSLL2) {
		t.Error("SupportedLink")
	}
}
