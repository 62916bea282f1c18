package flow

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/etchlab/etch/data"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// sharedData is ../shared/data seen from this package; tests that need it skip without it.
const sharedData = "../../../shared/data"

func needShared(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(sharedData); err != nil {
		t.Skipf("no %s (shared test captures): %v", sharedData, err)
	}
}

// smallPcap returns a classic pcap of n packets of synthetic traffic.
func smallPcap(t testing.TB, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	pw := newPcapWriter(&buf)
	synthTraffic(n, 1, nil, func(p *synthPkt) { pw.write(p) })
	if err := pw.flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readAll reads a capture both as a stream and in memory, checks that both agree, and returns
// the packet count and the error that ended the reading (nil at a clean end).
func readAll(t testing.TB, b []byte) (n int, err error) {
	t.Helper()
	n, err = readAllFrom(NewReader(bytes.NewReader(b), "mem"))
	n2, err2 := readAllFrom(NewReaderBytes(b, "mem"))
	if n != n2 || errClass(err) != errClass(err2) {
		t.Errorf("stream read %d packets (%v), in memory %d (%v)", n, err, n2, err2)
	}
	return n, err
}

// errClass summarises an error as its kind and offset.
func errClass(err error) string {
	var ce *CaptureError
	if !errors.As(err, &ce) {
		return fmt.Sprint(err)
	}
	return fmt.Sprint(errors.Is(err, ErrTruncated), errors.Is(err, ErrCapture), ce.Offset)
}

func readAllFrom(r *Reader, err error) (n int, _ error) {
	if err != nil {
		return 0, err
	}
	for {
		_, _, _, err := r.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}

func TestReaderFormats(t *testing.T) {
	classic := smallPcap(t, 300)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(classic)
	zw.Close()
	// The same packets as pcapng (through pcapgo's writer) and as raw IPv4 (link type 101).
	var ng, raw bytes.Buffer
	nw, err := pcapgo.NewNgWriter(&ng, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	rw := pcapgo.NewWriter(&raw)
	rw.WriteFileHeader(65535, layers.LinkTypeRaw)
	r, _ := NewReader(bytes.NewReader(classic), "x")
	for {
		frame, ts, _, err := r.Next()
		if err != nil {
			break
		}
		ci := gopacket.CaptureInfo{Timestamp: timeUS(ts), CaptureLength: len(frame), Length: len(frame)}
		nw.WritePacket(ci, frame)
		ci.CaptureLength, ci.Length = len(frame)-14, len(frame)-14
		rw.WritePacket(ci, frame[14:])
	}
	nw.Flush()
	for _, tc := range []struct {
		name string
		b    []byte
	}{{"pcap", classic}, {"pcap.gz", gz.Bytes()}, {"pcapng", ng.Bytes()}, {"raw", raw.Bytes()}} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := readAll(t, tc.b)
			if err != nil || n != 300 {
				t.Fatalf("read %d packets, err %v; want 300", n, err)
			}
			r, _ := NewReader(bytes.NewReader(tc.b), tc.name)
			d := NewDecoder()
			var p Packet
			dec := 0
			for {
				frame, _, lt, err := r.Next()
				if err != nil {
					break
				}
				if d.Decode(lt, frame, &p) {
					dec++
				}
			}
			if dec != 300 {
				t.Errorf("decoded %d of 300", dec)
			}
		})
	}
}

func TestReaderErrors(t *testing.T) {
	classic := smallPcap(t, 50)
	bad := bytes.Clone(classic)
	// Second record's length field: a huge capture length.
	first := 24 + 16 + int(le32(classic[24+8:]))
	copy(bad[first+8:], []byte{0xff, 0xff, 0xff, 0x7f})
	for _, tc := range []struct {
		name    string
		b       []byte
		want    error
		offset  int64
		packets int
	}{
		{"empty", nil, ErrCapture, 0, 0},
		{"text", []byte("hello, this is not a capture file at all"), ErrCapture, 0, 0},
		{"truncated header", classic[:30], ErrTruncated, 24, 0},
		{"truncated data", classic[:first-5], ErrTruncated, 24, 0},
		{"garbage record", bad, ErrCapture, int64(first), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := readAll(t, tc.b)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			var ce *CaptureError
			if !errors.As(err, &ce) || ce.Offset != tc.offset || ce.Name != "mem" {
				t.Errorf("error %v: want offset %d naming mem", err, tc.offset)
			}
			if n != tc.packets {
				t.Errorf("read %d packets before the error, want %d", n, tc.packets)
			}
		})
	}
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// TestTruncatedCaptureKeepsFlows cuts a capture in the middle of a record: Extract warns with
// the file and offset and keeps the flows read so far.
func TestTruncatedCaptureKeepsFlows(t *testing.T) {
	full := smallPcap(t, 2000)
	dir := t.TempDir()
	path := filepath.Join(dir, "cut.pcap")
	if err := os.WriteFile(path, full[:len(full)*2/3+7], 0o644); err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	flows := 0
	sum, err := Extract(context.Background(), []string{path}, Config{Log: newTextLogger(&logBuf)}, func(*data.Record) error {
		flows++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Truncated) != 1 || flows == 0 || sum.Packets < 1000 || sum.Packets >= 2000 {
		t.Errorf("truncated %v, flows %d, packets %d", sum.Truncated, flows, sum.Packets)
	}
	if s := logBuf.String(); !strings.Contains(s, "truncated") || !strings.Contains(s, "cut.pcap") || !strings.Contains(s, "offset=") {
		t.Errorf("warning %q lacks file and offset", s)
	}
}

// TestSharedCaptures processes every capture under ../shared/data: none may panic; each either
// succeeds or fails with a CaptureError naming the file and an offset.
func TestSharedCaptures(t *testing.T) {
	needShared(t)
	var files []string
	filepath.WalkDir(sharedData, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			switch strings.ToLower(filepath.Ext(p)) {
			case ".pcap", ".pcapng", ".cap", ".gz":
				files = append(files, p)
			}
		}
		return nil
	})
	if len(files) < 50 {
		t.Fatalf("found only %d captures under %s", len(files), sharedData)
	}
	for _, f := range files {
		sum, err := Extract(context.Background(), []string{f}, Config{Log: newTextLogger(io.Discard)}, func(*data.Record) error { return nil })
		if err != nil {
			var ce *CaptureError
			if !errors.As(err, &ce) || ce.Name != f {
				t.Errorf("%s: error without file and offset: %v", f, err)
			}
			continue
		}
		if sum.Packets == 0 {
			t.Errorf("%s: no packets", f)
		}
	}
}

// TestModifiedPcap: three matousp-ja3s captures use 24-byte record headers behind the
// standard magic; the reader recognises the layout and reads every packet (capinfos counts).
func TestModifiedPcap(t *testing.T) {
	needShared(t)
	for _, tc := range []struct {
		file     string
		packets  int
		modified bool
	}{
		{"xz1_discord.pcap", 621, false}, {"xz1_messenger.pcap", 531, false},
		{"xz1_slack.pcap", 527, true}, {"xz1_telegram_filtered.pcap", 357, true}, {"xz1_wa_merged.pcap", 441, true},
	} {
		b, err := os.ReadFile(filepath.Join(sharedData, "matousp-ja3s/pcap/ma1", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		n, err := readAll(t, b)
		r, _ := NewReader(bytes.NewReader(b), tc.file)
		if err != nil || n != tc.packets || r.Modified() != tc.modified {
			t.Errorf("%s: %d packets, modified %v, err %v; want %d, %v", tc.file, n, r.Modified(), err, tc.packets, tc.modified)
		}
	}
}

// TestDecodeAgreesOnSharedCaptures runs every frame of the shared captures through the fast
// path and gopacket's parser.
func TestDecodeAgreesOnSharedCaptures(t *testing.T) {
	needShared(t)
	files, _ := filepath.Glob(filepath.Join(sharedData, "ja4/pcap/*"))
	more, _ := filepath.Glob(filepath.Join(sharedData, "matousp-ja3s/*/*/*.pcap*"))
	files = append(files, more...)
	d := NewDecoder()
	n := 0
	for _, f := range files {
		r, err := Open(f)
		if err != nil {
			continue
		}
		for {
			frame, _, lt, err := r.Next()
			if err != nil {
				break
			}
			var fast, slow Packet
			okFast, done := fastDecode(lt, frame, &fast)
			if !done {
				continue
			}
			n++
			okSlow := d.decodeLayers(lt, frame, &slow)
			same := bytes.Equal(fast.Payload, slow.Payload)
			fast.Payload, slow.Payload = nil, nil
			if okFast != okSlow || (okFast && (!reflect.DeepEqual(fast, slow) || !same)) {
				t.Errorf("%s packet %d: fast %v %+v, parser %v %+v", f, r.Packets(), okFast, fast, okSlow, slow)
			}
		}
		r.Close()
	}
	if n < 10000 {
		t.Errorf("only %d frames took the fast path", n)
	}
}

func TestExtractCanceled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.pcap")
	os.WriteFile(path, smallPcap(t, 100), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Extract(ctx, []string{path}, Config{}, func(*data.Record) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
	out := filepath.Join(t.TempDir(), "flows.parquet")
	if _, err := ExtractToFile(ctx, []string{path}, out, Config{}); !errors.Is(err, context.Canceled) {
		t.Errorf("ExtractToFile: err %v", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("canceled extraction left %s", out)
	}
}

func TestEmitErrorStops(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.pcap")
	os.WriteFile(path, smallPcap(t, 3000), 0o644)
	boom := errors.New("disk full")
	n := 0
	_, err := Extract(context.Background(), []string{path}, Config{}, func(*data.Record) error {
		n++
		return boom
	})
	if !errors.Is(err, boom) || !errors.Is(err, ErrEmit) || n != 1 {
		t.Errorf("err %v after %d emits", err, n)
	}
}
