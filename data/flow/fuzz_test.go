package flow

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/etchlab/etch/data"
	"github.com/gopacket/gopacket/layers"
)

// FuzzReader feeds arbitrary bytes through the capture reader, the decoder and the flow table.
// Nothing may panic; an error must be a *CaptureError (or a read error) with an offset inside
// the stream.
func FuzzReader(f *testing.F) {
	small := smallPcap(f, 40)
	f.Add(small)
	f.Add(small[:len(small)/2])
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(small)
	zw.Close()
	f.Add(gz.Bytes())
	for _, p := range []string{"ja4/pcap/tls-alpn-h2.pcap", "ja4/pcap/ipv6.pcapng", "ja4/pcap/quic-tls-handshake.pcapng"} {
		if b, err := os.ReadFile(filepath.Join(sharedData, p)); err == nil && len(b) < 1<<16 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := readAll(t, b) // stream and in-memory readers agree
		if err != nil {
			checkCaptureErr(t, err, len(b))
		}
		_ = n
		r, err := NewReader(bytes.NewReader(b), "fuzz")
		if err != nil {
			checkCaptureErr(t, err, len(b))
			return
		}
		tab := NewTable(Config{}, func(*data.Record) error { return nil })
		d := NewDecoder()
		var p Packet
		for {
			frame, ts, lt, err := r.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				checkCaptureErr(t, err, -1)
				break
			}
			if d.Decode(lt, frame, &p) {
				tab.AddUS(ts, &p)
			}
		}
		tab.Flush()
	})
}

func checkCaptureErr(t *testing.T, err error, size int) {
	var ce *CaptureError
	if !errors.As(err, &ce) {
		t.Fatalf("error without position: %v", err)
	}
	if ce.Offset < 0 || (size >= 0 && ce.Offset > int64(size)) {
		t.Fatalf("offset %d outside the stream", ce.Offset)
	}
	if !errors.Is(err, ErrCapture) && !errors.Is(err, ErrTruncated) {
		t.Fatalf("error neither ErrCapture nor ErrTruncated: %v", err)
	}
}

// FuzzDecode checks that the fast path and gopacket's DecodingLayerParser decode every frame
// alike.
func FuzzDecode(f *testing.F) {
	for _, proto := range []uint8{ProtoTCP, ProtoUDP} {
		for _, v6 := range []bool{false, true} {
			p := synthPkt{src: ipC, dst: ipS, sport: 1234, dport: 443, proto: proto, flags: FlagSYN, payload: []byte("hello"), ipv6: v6}
			fr := appendFrame(nil, &p)
			f.Add(uint8(layers.LinkTypeEthernet), fr)
			f.Add(uint8(layers.LinkTypeRaw), fr[14:])
			f.Add(uint8(layers.LinkTypeEthernet), fr[:len(fr)-3])
			f.Add(uint8(layers.LinkTypeEthernet), append(fr, 0, 0, 0, 0))
		}
	}
	f.Fuzz(func(t *testing.T, lt uint8, frame []byte) {
		link := layers.LinkType(lt)
		var fast, slow Packet
		okFast, done := fastDecode(link, frame, &fast)
		if !done {
			return
		}
		d := NewDecoder()
		okSlow := d.decodeLayers(link, frame, &slow)
		if okFast != okSlow {
			t.Fatalf("fast %v, parser %v", okFast, okSlow)
		}
		if !okFast {
			return
		}
		if fast.Src != slow.Src || fast.Dst != slow.Dst || fast.SrcPort != slow.SrcPort || fast.DstPort != slow.DstPort ||
			fast.Proto != slow.Proto || fast.IPVersion != slow.IPVersion || fast.Flags != slow.Flags || fast.Seq != slow.Seq ||
			fast.IPLen != slow.IPLen || fast.PayloadLen != slow.PayloadLen || !bytes.Equal(fast.Payload, slow.Payload) {
			t.Fatalf("fast %+v\nparser %+v", fast, slow)
		}
	})
}
