package tlsfp

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// seedCaptures are the shared captures whose hellos seed the fuzz corpora at run time.
var seedCaptures = []string{
	"ja4/pcap/tls12.pcap",
	"ja4/pcap/tls-alpn-h2.pcap",
	"ja4/pcap/quic-with-several-tls-frames.pcapng",
	"ja4/pcap/chrome-cloudflare-quic-with-secrets.pcapng",
	"suricata-verify/tests/quic-v2-ja3/input.pcap",
	"suricata-verify/tests/tls/tls13-draft18/tls13_draft18.pcap",
	"suricata-verify/tests/bug-5713-01/TLSv1-Extracted-MaliciousC2.pcap",
}

// captureSeeds returns the first payloads of each direction of the seed captures' flows:
// TCP payloads that start a TLS record, and UDP datagrams.
func captureSeeds(tb testing.TB) (tcp, udp [][]byte) {
	for _, c := range seedCaptures {
		rs, err := track(tb, filepath.Join(sharedData, c))
		if err != nil {
			continue // shared data absent: the committed corpus and the synthetic seeds remain
		}
		for _, r := range rs {
			for _, p := range r.f.Packets {
				switch {
				case r.f.UDP && len(p.Payload) > 0 && len(udp) < 12:
					udp = append(udp, p.Payload)
				case !r.f.UDP && len(p.Payload) > 5 && p.Payload[0] == 0x16 && len(tcp) < 24:
					tcp = append(tcp, p.Payload)
				}
			}
		}
	}
	return tcp, udp
}

// records returns the handshake messages of TLS record payloads that start with one.
func handshakeMessages(recs [][]byte, typ byte) [][]byte {
	var out [][]byte
	for _, r := range recs {
		if len(r) > 5 && r[5] == typ {
			out = append(out, r[5:])
		}
	}
	return out
}

func FuzzParseClientHello(f *testing.F) {
	ch, _ := testHellos(f)
	f.Add(ch[5:])
	tcp, _ := captureSeeds(f)
	for _, m := range handshakeMessages(tcp, typeClientHello) {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseClientHello(b)
		if err != nil {
			if !strings.Contains(err.Error(), "offset") {
				t.Fatalf("error without offset: %v", err)
			}
			return
		}
		ja4 := JA4(h, false)
		if len(ja4) != 36 || ja4[10] != '_' || ja4[23] != '_' {
			t.Fatalf("bad JA4 %q", ja4)
		}
		if JA3(h) == "" || JA4R(h, true) == "" || !strings.HasPrefix(JA4R(h, true), "q"+ja4[1:10]) {
			t.Fatalf("inconsistent fingerprints for %x", b)
		}
	})
}

func FuzzParseServerHello(f *testing.F) {
	_, sh := testHellos(f)
	f.Add(sh[5:])
	tcp, _ := captureSeeds(f)
	for _, m := range handshakeMessages(tcp, typeServerHello) {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseServerHello(b)
		if err != nil {
			if !strings.Contains(err.Error(), "offset") {
				t.Fatalf("error without offset: %v", err)
			}
			return
		}
		if s := JA4S(h, false); len(s) != 25 || s[7] != '_' || s[12] != '_' {
			t.Fatalf("bad JA4S %q", s)
		}
		_ = JA3S(h)
	})
}

func FuzzQUICInitial(f *testing.F) {
	odcid := []byte{0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08}
	ch, _ := testHellos(f)
	f.Add(sealInitial(f, QUICv1, odcid, odcid, nil, true, 0, cryptoFrame(0, ch[5:])), true)
	f.Add(sealInitial(f, QUICv2, odcid, odcid, nil, true, 3, cryptoFrame(0, ch[5:])), true)
	_, udp := captureSeeds(f)
	for _, d := range udp {
		f.Add(d, true)
	}
	f.Fuzz(func(t *testing.T, d []byte, client bool) {
		orig := string(d)
		pkts, err := ParseInitial(d, client, nil)
		if string(d) != orig {
			t.Fatal("ParseInitial modified its input")
		}
		if err == nil {
			for _, p := range pkts {
				for _, c := range p.Crypto {
					_ = c.Data
				}
			}
		}
		tr := NewTracker(UDP)
		tr.Packet(client, 0, d)
		_ = tr.Result()
	})
}

func FuzzTracker(f *testing.F) {
	ch, sh := testHellos(f)
	f.Add(ch, sh, uint8(7), false)
	f.Add(ch, sh, uint8(255), false)
	dch, dsh := dtlsBody(ch[9:]), sh[9:]
	f.Add(dtlsRecord(1, dch, 0, 0, len(dch)), dtlsRecord(2, dsh, 0, 0, len(dsh)), uint8(255), true)
	tcp, udp := captureSeeds(f)
	for i := 0; i+1 < len(tcp); i += 2 {
		f.Add(tcp[i], tcp[i+1], uint8(i*13), false)
	}
	for i := 0; i+1 < len(udp); i += 2 {
		f.Add(udp[i], udp[i+1], uint8(0), true)
	}
	f.Fuzz(func(t *testing.T, c, s []byte, cut uint8, udp bool) {
		tr := NewTracker(TCP)
		if udp {
			tr = NewTracker(UDP)
		}
		// The same input through a Memo that already holds the crypto/tls hellos' fingerprints.
		memo := NewMemo()
		warm := memo.NewTracker(TCP)
		warm.Packet(true, 1, ch)
		warm.Packet(false, 1, sh)
		mtr := memo.NewTracker(tr.transport)
		n := int(cut)%97 + 1
		feed := func(client bool, b []byte, seq uint32) {
			// Segments go in out of order: odd ones first, then even ones.
			for _, parity := range []int{1, 0} {
				for i, off := 0, 0; off < len(b); i, off = i+1, off+n {
					if i%2 == parity {
						tr.Packet(client, seq+uint32(off), b[off:min(off+n, len(b))])
						mtr.Packet(client, seq+uint32(off), b[off:min(off+n, len(b))])
					}
				}
			}
		}
		feed(true, c, 4000000000)
		feed(false, s, 17)
		r := tr.Result()
		if mr := mtr.Result(); mr != r {
			t.Fatalf("memo tracker gives %+v, plain %+v", mr, r)
		}
		if r.JA4 != "" && len(r.JA4) != 36 {
			t.Fatalf("bad JA4 %q", r.JA4)
		}
		if tr.Err() != nil && tr.Err().Error() == "" {
			t.Fatal("empty error")
		}
	})
}

// TestWriteFuzzCorpus writes the capture seeds into testdata/fuzz so that the corpus is
// there without the shared data (go test -run TestWriteFuzzCorpus -update).
func TestWriteFuzzCorpus(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite testdata/fuzz from the shared captures")
	}
	needData(t)
	tcp, udp := captureSeeds(t)
	write := func(target string, i int, args ...string) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		body := "go test fuzz v1\n" + strings.Join(args, "\n") + "\n"
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("capture-%02d", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	q := func(b []byte) string { return "[]byte(" + strconv.Quote(string(b)) + ")" }
	for i, m := range handshakeMessages(tcp, typeClientHello) {
		write("FuzzParseClientHello", i, q(m))
	}
	for i, m := range handshakeMessages(tcp, typeServerHello) {
		write("FuzzParseServerHello", i, q(m))
	}
	for i, d := range udp {
		write("FuzzQUICInitial", i, q(d), "bool(true)")
	}
	for i := 0; i+1 < len(tcp); i += 2 {
		write("FuzzTracker", i, q(tcp[i]), q(tcp[i+1]), fmt.Sprintf("byte('\\x%02x')", byte(i*13)), "bool(false)")
	}
}
