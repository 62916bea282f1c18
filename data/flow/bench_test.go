package flow

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/etchlab/etch/data"
	"github.com/gopacket/gopacket/layers"
)

// benchPackets is the size of the synthetic benchmark capture.
const benchPackets = 1_000_000

// realHellos returns n (ClientHello, server first flight) payload pairs from real crypto/tls
// handshakes over in-memory pipes, with varying SNI, ALPN and versions. The server flight is cut
// at 1400 bytes (one segment); the ServerHello is its first record.
func realHellos(t testing.TB, n int) [][2][]byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bench"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"*"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	alpns := [][]string{{"h2", "http/1.1"}, {"http/1.1"}, nil}
	out := make([][2][]byte, n)
	for i := range out {
		c, s := net.Pipe()
		cr, sr := &firstWrite{Conn: c}, &firstWrite{Conn: s}
		ccfg := &tls.Config{ServerName: fmt.Sprintf("svc%d.example%d.com", i, i%7), InsecureSkipVerify: true,
			NextProtos: alpns[i%3]}
		if i%4 == 3 {
			ccfg.MaxVersion = tls.VersionTLS12
		}
		scfg := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			tls.Server(sr, scfg).Handshake()
			s.Close()
		}()
		tls.Client(cr, ccfg).Handshake()
		c.Close()
		wg.Wait()
		srv := sr.get()
		if len(srv) > 1400 {
			srv = srv[:1400]
		}
		out[i] = [2][]byte{cr.get(), srv}
	}
	return out
}

// firstWrite records the first Write on a connection.
type firstWrite struct {
	net.Conn
	mu  sync.Mutex
	buf []byte
}

func (f *firstWrite) Write(p []byte) (int, error) {
	f.mu.Lock()
	if f.buf == nil {
		f.buf = append([]byte{}, p...)
	}
	f.mu.Unlock()
	return f.Conn.Write(p)
}

func (f *firstWrite) get() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.buf
}

// writeBenchCapture writes the synthetic benchmark capture: n packets of interleaved TLS
// connections (real hellos) and DNS-like UDP flows.
func writeBenchCapture(t testing.TB, path string, n int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pw := newPcapWriter(f)
	synthTraffic(n, 42, realHellos(t, 64), func(p *synthPkt) { pw.write(p) })
	if err := pw.flush(); err != nil {
		t.Fatal(err)
	}
}

// TestWriteBenchCapture writes the benchmark capture to $ETCH_BENCH_PCAP (for make
// bench-tshark); skipped when unset.
func TestWriteBenchCapture(t *testing.T) {
	path := os.Getenv("ETCH_BENCH_PCAP")
	if path == "" || os.Getenv("ETCH_BENCH_WRITE") == "" {
		t.Skip("ETCH_BENCH_PCAP and ETCH_BENCH_WRITE not set")
	}
	writeBenchCapture(t, path, benchPackets)
}

var benchCapture struct {
	once sync.Once
	path string
}

// benchFile returns the benchmark capture: $ETCH_BENCH_PCAP when that file exists, else one
// generated into a temporary directory (once per test binary).
func benchFile(b *testing.B) string {
	if p := os.Getenv("ETCH_BENCH_PCAP"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	benchCapture.once.Do(func() {
		dir, err := os.MkdirTemp("", "etch-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchCapture.path = filepath.Join(dir, "bench.pcap")
		writeBenchCapture(b, benchCapture.path, benchPackets)
	})
	b.Cleanup(func() {}) // the file lives until the test binary exits; see TestMain
	return benchCapture.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchCapture.path != "" {
		os.RemoveAll(filepath.Dir(benchCapture.path))
	}
	os.Exit(code)
}

// BenchmarkExtractParquet measures pcap → flows.parquet (TLS fingerprints, SHA-256 of the
// input, zstd Parquet) on a synthetic capture of 1M packets. Run single-core with -cpu 1.
func BenchmarkExtractParquet(b *testing.B) {
	in := benchFile(b)
	out := filepath.Join(b.TempDir(), "flows.parquet")
	st, _ := os.Stat(in)
	b.SetBytes(st.Size())
	hashCPU := hashCost(b, in)
	b.ResetTimer()
	cpu0 := cpuTime()
	var sum Summary
	for range b.N {
		var err error
		sum, err = ExtractToFile(context.Background(), []string{in}, out, Config{})
		if err != nil {
			b.Fatal(err)
		}
	}
	reportRates(b, sum, cpu0, hashCPU)
}

// BenchmarkExtractParquetDigestCached is BenchmarkExtractParquet with a digest cache
// (Config.DigestCache) that holds the input's SHA-256 after the first run: the whole
// pipeline on one core without the hashing (pkts/cpu-s is then the pipeline's rate).
func BenchmarkExtractParquetDigestCached(b *testing.B) {
	in := benchFile(b)
	out := filepath.Join(b.TempDir(), "flows.parquet")
	st, _ := os.Stat(in)
	b.SetBytes(st.Size())
	cfg := Config{DigestCache: b.TempDir()}
	if _, err := ExtractToFile(context.Background(), []string{in}, out, cfg); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	var sum Summary
	for range b.N {
		var err error
		sum, err = ExtractToFile(context.Background(), []string{in}, out, cfg)
		if err != nil {
			b.Fatal(err)
		}
	}
	if sum.DigestsCached != 1 {
		b.Logf("input digest not cached (capture changed in the last %v?)", digestSettle)
	}
	reportRates(b, sum, cpu0, 0)
}

// BenchmarkExtractOnly measures reading, decoding and the flow table without writing.
func BenchmarkExtractOnly(b *testing.B) {
	in := benchFile(b)
	hashCPU := hashCost(b, in)
	b.ResetTimer()
	cpu0 := cpuTime()
	var sum Summary
	for range b.N {
		var err error
		sum, err = Extract(context.Background(), []string{in}, Config{}, func(*data.Record) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
	}
	reportRates(b, sum, cpu0, hashCPU)
}

// hashCost returns the CPU time of hashing the input once (what Extract's parallel SHA-256
// goroutine spends per run).
func hashCost(b *testing.B, in string) time.Duration {
	best := time.Duration(1 << 62)
	for range 3 {
		c0 := cpuTime()
		if _, err := hashFile(in); err != nil {
			b.Fatal(err)
		}
		best = min(best, cpuTime()-c0)
	}
	return best
}

// reportRates reports packets per wall-clock second, per CPU second of the whole process
// (every goroutine, the parallel SHA-256 included), and per CPU second of the pipeline alone
// (process CPU time less the SHA-256's, measured apart): on a shared machine the CPU figures are
// the ones to compare with a single-core target.
func reportRates(b *testing.B, sum Summary, cpu0, hashCPU time.Duration) {
	pk := float64(sum.Packets) * float64(b.N)
	cpu := cpuTime() - cpu0
	b.ReportMetric(pk/b.Elapsed().Seconds(), "pkts/s")
	b.ReportMetric(pk/cpu.Seconds(), "pkts/cpu-s")
	b.ReportMetric(pk/(cpu-time.Duration(b.N)*hashCPU).Seconds(), "pkts/pipeline-cpu-s")
	b.ReportMetric(float64(sum.Flows), "flows")
}

// BenchmarkTable measures the flow table alone (no reading, no TLS, no writing) on 200k
// pre-decoded packets of the synthetic traffic.
func BenchmarkTable(b *testing.B) {
	type tsPkt struct {
		ts int64
		p  Packet
	}
	var pkts []tsPkt
	d := NewDecoder()
	var frame []byte
	synthTraffic(200_000, 7, nil, func(sp *synthPkt) {
		frame = appendFrame(frame[:0], sp)
		var p Packet
		if d.Decode(layers.LinkTypeEthernet, frame, &p) {
			p.Payload = nil
			pkts = append(pkts, tsPkt{sp.tsUS, p})
		}
	})
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		tab := NewTable(Config{NoTLS: true}, func(*data.Record) error { return nil })
		for i := range pkts {
			tab.AddUS(pkts[i].ts, &pkts[i].p)
		}
		tab.Flush()
	}
	b.ReportMetric(float64(len(pkts))*float64(b.N)/b.Elapsed().Seconds(), "pkts/s")
	b.ReportMetric(float64(len(pkts))*float64(b.N)/(cpuTime()-cpu0).Seconds(), "pkts/cpu-s")
}
