package synth

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/etchlab/etch/data/tlsfp"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

type tupleKey struct {
	client, server netip.AddrPort
}

// decodedFlow collects what a test needs of one flow's packets.
type decodedFlow struct {
	info    FlowInfo
	tracker *tlsfp.Tracker
	pkts    int
	// Per direction (0 client→server, 1 server→client): next expected sequence number.
	nextSeq [2]uint32
	seqInit [2]bool
	lastTS  time.Time
	first   time.Time
	fin     [2]bool
	syn     int
}

// decodeAll runs the lab and decodes every frame with gopacket, checking TCP sequence continuity
// per direction, timestamp order, checksums and that each frame belongs to an announced flow.
func decodeAll(t *testing.T, cfg Config) map[tupleKey]*decodedFlow {
	t.Helper()
	flows := map[tupleKey]*decodedFlow{}
	var eth layers.Ethernet
	var ip4 layers.IPv4
	var ip6 layers.IPv6
	var tcp layers.TCP
	var udp layers.UDP
	var pl gopacket.Payload
	parser := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip4, &ip6, &tcp, &udp, &pl)
	parser.IgnoreUnsupported = true
	var decoded []gopacket.LayerType
	var prev time.Time
	cfg.OnFlow = func(fi FlowInfo) error {
		k := tupleKey{fi.Client, fi.Server}
		if _, dup := flows[k]; dup {
			return fmt.Errorf("flow %d reuses the 5-tuple of another flow", fi.Index)
		}
		tr := tlsfp.TCP
		if fi.Proto == "udp" {
			tr = tlsfp.UDP
		}
		flows[k] = &decodedFlow{info: fi, tracker: tlsfp.NewTracker(tr)}
		return nil
	}
	n := 0
	err := Generate(context.Background(), cfg, func(ts time.Time, frame []byte) error {
		n++
		if ts.Before(prev) {
			return fmt.Errorf("frame %d: time goes back %v → %v", n, prev, ts)
		}
		prev = ts
		if err := parser.DecodeLayers(frame, &decoded); err != nil {
			return fmt.Errorf("frame %d: %w", n, err)
		}
		isV6 := eth.EthernetType == layers.EthernetTypeIPv6
		var src, dst netip.Addr
		var proto layers.IPProtocol
		ipHdr := ipv4Len
		if isV6 {
			ipHdr = ipv6Len
			if int(ip6.Length) != len(frame)-ethLen-ipv6Len {
				return fmt.Errorf("frame %d: IPv6 payload length %d, frame %d", n, ip6.Length, len(frame))
			}
			src, _ = netip.AddrFromSlice(ip6.SrcIP)
			dst, _ = netip.AddrFromSlice(ip6.DstIP)
			proto = ip6.NextHeader
		} else {
			if int(ip4.Length) != len(frame)-ethLen {
				return fmt.Errorf("frame %d: IP length %d, frame %d", n, ip4.Length, len(frame))
			}
			if c := csumFold(csumAdd(0, frame[ethLen:ethLen+ipv4Len])); c != 0 {
				return fmt.Errorf("frame %d: bad IPv4 checksum", n)
			}
			src, _ = netip.AddrFromSlice(ip4.SrcIP)
			dst, _ = netip.AddrFromSlice(ip4.DstIP)
			proto = ip4.Protocol
		}
		var sp, dp uint16
		var payload []byte
		isTCP := proto == layers.IPProtocolTCP
		if isTCP {
			sp, dp, payload = uint16(tcp.SrcPort), uint16(tcp.DstPort), tcp.Payload
		} else {
			sp, dp, payload = uint16(udp.SrcPort), uint16(udp.DstPort), udp.Payload
		}
		// Transport checksum over the pseudo-header must verify to zero.
		l4 := frame[ethLen+ipHdr:]
		var ps uint32
		if isV6 {
			ps = csumAdd(ps, frame[ethLen+8:ethLen+40])
		} else {
			ps = csumAdd(ps, frame[ethLen+12:ethLen+20])
		}
		ps += uint32(proto) + uint32(len(l4))
		if c := csumFold(csumAdd(ps, l4)); c != 0 {
			return fmt.Errorf("frame %d: bad transport checksum", n)
		}
		a, b := netip.AddrPortFrom(src, sp), netip.AddrPortFrom(dst, dp)
		dir := 0
		f := flows[tupleKey{a, b}]
		if f == nil {
			f, dir = flows[tupleKey{b, a}], 1
		}
		if f == nil {
			return fmt.Errorf("frame %d: %v→%v belongs to no announced flow", n, a, b)
		}
		if f.pkts == 0 {
			f.first = ts
			if !ts.Equal(f.info.Start) {
				return fmt.Errorf("flow %d: first packet at %v, announced %v", f.info.Index, ts, f.info.Start)
			}
		}
		f.pkts++
		f.lastTS = ts
		if isTCP {
			adv := uint32(len(payload))
			if tcp.SYN {
				f.syn++
				adv++
			}
			if tcp.FIN {
				f.fin[dir] = true
				adv++
			}
			if f.seqInit[dir] && tcp.Seq != f.nextSeq[dir] {
				return fmt.Errorf("flow %d dir %d packet %d: seq %d, want %d", f.info.Index, dir, f.pkts, tcp.Seq, f.nextSeq[dir])
			}
			f.seqInit[dir] = true
			f.nextSeq[dir] = tcp.Seq + adv
			if tcp.ACK && dir == 1 && f.seqInit[0] && int32(tcp.Ack-f.nextSeq[0]) > 0 {
				return fmt.Errorf("flow %d: server acknowledges unsent data", f.info.Index)
			}
			if tcp.ACK && dir == 0 && f.seqInit[1] && int32(tcp.Ack-f.nextSeq[1]) > 0 {
				return fmt.Errorf("flow %d: client acknowledges unsent data", f.info.Index)
			}
			if len(payload) > 0 {
				f.tracker.Packet(dir == 0, tcp.Seq, payload)
			}
		} else if len(payload) > 0 {
			f.tracker.Packet(dir == 0, 0, payload)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return flows
}

func TestGenerateDecodes(t *testing.T) {
	flows := decodeAll(t, Config{Classes: 32, Flows: 600, Seed: 7, IPv6: 0.3})
	if len(flows) != 600 {
		t.Fatalf("%d flows announced, want 600", len(flows))
	}
	quic, resumed, v6 := 0, 0, 0
	for _, f := range flows {
		if f.info.Client.Addr().Is6() {
			v6++
		}
		r := f.tracker.Result()
		if err := f.tracker.Err(); err != nil {
			t.Errorf("flow %d (%s): tlsfp: %v", f.info.Index, f.info.Service, err)
		}
		if r.SNI != f.info.SNI {
			t.Errorf("flow %d (%s): tlsfp SNI %q, want %q", f.info.Index, f.info.Service, r.SNI, f.info.SNI)
		}
		if r.JA4 == "" || r.TLSVersion == "" {
			t.Errorf("flow %d (%s): no JA4/version: %+v", f.info.Index, f.info.Service, r)
		}
		if f.info.Proto == "udp" {
			quic++
			if !r.QUIC || r.JA4[0] != 'q' {
				t.Errorf("flow %d: QUIC flow not recognised: %+v", f.info.Index, r)
			}
			continue
		}
		if r.JA3S == "" {
			t.Errorf("flow %d (%s): no ServerHello fingerprint", f.info.Index, f.info.Service)
		}
		if f.syn != 2 {
			t.Errorf("flow %d: %d SYNs", f.info.Index, f.syn)
		}
		if f.info.Resumed {
			resumed++
		}
	}
	if quic == 0 || resumed == 0 || v6 == 0 || v6 == len(flows) {
		t.Errorf("quic flows %d, resumed flows %d, IPv6 flows %d: want some of each", quic, resumed, v6)
	}
}

func TestPcapRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lab.pcap")
	cfg := Config{Classes: 10, Flows: 50, Seed: 3}
	if err := WritePcap(context.Background(), cfg, path); err != nil {
		t.Fatal(err)
	}
	var want [][]byte
	var wantTS []time.Time
	if err := Generate(context.Background(), cfg, func(ts time.Time, frame []byte) error {
		want = append(want, append([]byte(nil), frame...))
		wantTS = append(wantTS, ts)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if r.LinkType() != layers.LinkTypeEthernet {
		t.Fatalf("link type %v", r.LinkType())
	}
	i := 0
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		if i >= len(want) {
			t.Fatalf("pcap has more than %d packets", len(want))
		}
		if len(data) != len(want[i]) || !ci.Timestamp.Equal(wantTS[i]) {
			t.Fatalf("packet %d: %d bytes at %v, want %d at %v", i, len(data), ci.Timestamp, len(want[i]), wantTS[i])
		}
		i++
	}
	if i != len(want) {
		t.Fatalf("pcap has %d packets, want %d", i, len(want))
	}
}

// shapeHash hashes everything about the generated traffic that features can depend on: times,
// lengths, headers; TLS randoms, key shares and encrypted bytes vary from run to run (Go's
// crypto ignores custom random sources), so payload bytes are left out.
func shapeHash(t *testing.T, cfg Config) string {
	h := sha256.New()
	var b [8]byte
	err := Generate(context.Background(), cfg, func(ts time.Time, frame []byte) error {
		binary.LittleEndian.PutUint64(b[:], uint64(ts.UnixMicro()))
		h.Write(b[:])
		ipHdr, proto := ipv4Len, frame[ethLen+9]
		if frame[12] == 0x86 {
			ipHdr, proto = ipv6Len, frame[ethLen+6]
		}
		if proto == 6 {
			hdr := ethLen + ipHdr + int(frame[ethLen+ipHdr+12]>>4)*4
			h.Write(frame[:ethLen+ipHdr+16]) // the TCP checksum covers payload bytes: left out
			h.Write(frame[ethLen+ipHdr+20 : hdr])
		} else {
			h.Write(frame[:ethLen+ipHdr+6])
		}
		binary.LittleEndian.PutUint64(b[:], uint64(len(frame)))
		h.Write(b[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestDeterministic(t *testing.T) {
	cfg := Config{Classes: 32, Flows: 300, Seed: 11, IPv6: 0.2}
	a := shapeHash(t, cfg)
	cfg.Workers = 1
	if b := shapeHash(t, cfg); a != b {
		t.Fatalf("same seed, different traffic: %s vs %s", a, b)
	}
	cfg.Seed = 12
	if c := shapeHash(t, cfg); a == c {
		t.Fatal("different seeds gave identical traffic")
	}
}

func TestClassSkew(t *testing.T) {
	counts := map[string]int{}
	cfg := Config{Classes: 30, Flows: 6000, Seed: 5, Rate: 5000}
	cfg.OnFlow = func(fi FlowInfo) error { counts[fi.Service]++; return nil }
	l, err := NewLab(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for sp := range l.specs {
		fi := l.info(&sp)
		counts[fi.Service]++
	}
	w := l.Weights()
	svcs := l.Services()
	for i, s := range svcs {
		exp := w[i] * float64(cfg.Flows)
		sd := math.Sqrt(exp * (1 - w[i]))
		if d := math.Abs(float64(counts[s.Name]) - exp); d > 5*sd+1 {
			t.Errorf("%s (rank %d): %d flows, expected %.0f±%.0f", s.Name, i+1, counts[s.Name], exp, sd)
		}
	}
	if !(counts[svcs[0].Name] > 5*counts[svcs[len(svcs)-1].Name]) {
		t.Errorf("no skew: rank 1 %d flows, rank %d %d flows", counts[svcs[0].Name], len(svcs), counts[svcs[len(svcs)-1].Name])
	}
}
