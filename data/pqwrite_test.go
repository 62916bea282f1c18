package data

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"
	"github.com/parquet-go/parquet-go/format"
)

// randomRecords returns n records with every kind of value the writer handles: repeated and
// empty strings (dictionary columns), extreme integers, infinities, empty lists, lists of
// uneven lengths and one list longer than a page.
func randomRecords(n int, seed uint64) []Record {
	rng := rand.New(rand.NewPCG(seed, 7))
	words := []string{"", "a", "example.com", "xn--caf-dma.example", "日本.jp", "z", "t13d1516h2_8daaf6152771_e5627efa2ab1"}
	str := func() string {
		if rng.IntN(8) == 0 {
			b := make([]byte, rng.IntN(40))
			for i := range b {
				b[i] = byte(rng.IntN(256))
			}
			return string(b)
		}
		return words[rng.IntN(len(words))]
	}
	i32 := func() int32 {
		switch rng.IntN(10) {
		case 0:
			return math.MinInt32
		case 1:
			return math.MaxInt32
		}
		return int32(rng.IntN(3000)) - 1500
	}
	f64 := func() float64 {
		switch rng.IntN(20) {
		case 0:
			return math.Inf(1)
		case 1:
			return math.Inf(-1)
		}
		return rng.NormFloat64() * 1e3
	}
	list := func(l int) []int32 {
		v := make([]int32, l)
		for i := range v {
			v[i] = i32()
		}
		return v
	}
	recs := make([]Record, n)
	for i := range recs {
		r := &recs[i]
		r.Capture, r.Proto, r.SrcIP, r.DstIP, r.EndReason = str(), str(), str(), str(), str()
		r.SNI, r.ALPN, r.TLSVersion, r.JA3, r.JA3Full, r.JA4 = str(), str(), str(), str(), str(), str()
		r.Label, r.Service, r.Category = str(), str(), str()
		r.StartUS, r.EndUS = rng.Int64(), -rng.Int64()
		r.QUIC = rng.IntN(3) == 0
		r.IPVersion, r.SrcPort, r.DstPort, r.SYN = i32(), i32(), i32(), i32()
		r.PktsFwd, r.BytesBwd = rng.Int64N(1e9), math.MinInt64+rng.Int64N(10)
		r.DurationS, r.PktsPerS = f64(), f64()
		r.SizeFwdP25, r.IatAllP75, r.PayloadBwdVar = f64(), f64(), f64()
		l := rng.IntN(12)
		if i == n/2 {
			l = pageBytes/4 + 1000 // a row longer than a page
		}
		if rng.IntN(6) > 0 {
			r.SeqSize, r.SeqPayload, r.SeqIATUS, r.SeqDir = list(l), list(l), list(l/2), list(1)
		}
		if rng.IntN(3) == 0 {
			r.Extra = []float32{float32(rng.NormFloat64()), float32(math.Inf(1))}
		}
	}
	return recs
}

// writeParquetGo writes recs with parquet-go's own GenericWriter: the reference the flows
// writer is checked against.
func writeParquetGo(t *testing.T, path string, recs []Record, rowGroupRows int64) {
	t.Helper()
	var buf bytes.Buffer
	opts := []parquet.WriterOption{parquet.Compression(&zstd.Codec{}), parquet.MaxRowsPerRowGroup(rowGroupRows)}
	for k, v := range (&Meta{SeqLen: 20}).KeyValues() {
		opts = append(opts, parquet.KeyValueMetadata(k, v))
	}
	w := parquet.NewGenericWriter[Record](&buf, opts...)
	if _, err := w.Write(recs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// emptyLists turns nil lists into empty ones, as readers return them.
func emptyLists(recs []Record) {
	for i := range recs {
		r := &recs[i]
		for _, p := range []*[]int32{&r.SeqSize, &r.SeqPayload, &r.SeqIATUS, &r.SeqDir} {
			if *p == nil {
				*p = []int32{}
			}
		}
		if r.Extra == nil {
			r.Extra = []float32{}
		}
	}
}

func footer(t *testing.T, path string) *format.FileMetaData {
	t.Helper()
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return f.Parquet().Metadata()
}

// TestFlowsWriterMatchesParquetGo writes the same records with the flows writer and with
// parquet-go's GenericWriter (several row groups, many pages, a row longer than a page) and
// checks that both read back as the records written, with the same schema and statistics.
func TestFlowsWriterMatchesParquetGo(t *testing.T) {
	for _, tc := range []struct {
		name      string
		rows      int
		groupRows int64
	}{
		{"empty", 0, 100},
		{"one", 1, 100},
		{"one group", 700, 1000},
		{"three groups", 1000, 400},
		{"page-sized groups", 3000, 65536},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			want := randomRecords(tc.rows, uint64(tc.rows))
			ours, ref := filepath.Join(dir, "ours.parquet"), filepath.Join(dir, "ref.parquet")
			w, err := create(ours, Meta{Source: "test", SeqLen: 12}, tc.groupRows)
			if err != nil {
				t.Fatal(err)
			}
			for b := want; len(b) > 0; b = b[min(len(b), 333):] {
				if err := w.Write(b[:min(len(b), 333)]); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			writeParquetGo(t, ref, want, tc.groupRows)

			got, meta, err := ReadAll(ours)
			if err != nil {
				t.Fatal(err)
			}
			if meta.Source != "test" || meta.SeqLen != 12 {
				t.Errorf("footer metadata = %+v", meta)
			}
			refGot, _, err := ReadAll(ref)
			if err != nil {
				t.Fatal(err)
			}
			emptyLists(want)
			if len(got) != len(want) || len(refGot) != len(want) {
				t.Fatalf("read %d and %d records, wrote %d", len(got), len(refGot), len(want))
			}
			for i := range want {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("record %d:\n got %+v\nwant %+v", i, got[i], want[i])
				}
				if !reflect.DeepEqual(refGot[i], want[i]) {
					t.Fatalf("parquet-go's record %d differs from the one written", i)
				}
			}

			a, b := footer(t, ours), footer(t, ref)
			if !reflect.DeepEqual(a.Schema, b.Schema) || !reflect.DeepEqual(a.ColumnOrders, b.ColumnOrders) {
				t.Errorf("schema differs from parquet-go's")
			}
			if a.NumRows != b.NumRows || len(a.RowGroups) != len(b.RowGroups) {
				t.Fatalf("rows %d in %d groups, parquet-go %d in %d", a.NumRows, len(a.RowGroups), b.NumRows, len(b.RowGroups))
			}
			for g := range a.RowGroups {
				if a.RowGroups[g].NumRows != b.RowGroups[g].NumRows {
					t.Errorf("row group %d: %d rows, parquet-go %d", g, a.RowGroups[g].NumRows, b.RowGroups[g].NumRows)
				}
				for c, cc := range a.RowGroups[g].Columns {
					m, r := cc.MetaData, b.RowGroups[g].Columns[c].MetaData
					if m.Codec != r.Codec || m.NumValues != r.NumValues || m.Type != r.Type {
						t.Errorf("group %d column %v: codec %v values %d, parquet-go %v %d", g, m.PathInSchema, m.Codec, m.NumValues, r.Codec, r.NumValues)
					}
					if m.Statistics.NullCount != r.Statistics.NullCount {
						t.Errorf("group %d column %v: %d nulls, parquet-go %d", g, m.PathInSchema, m.Statistics.NullCount, r.Statistics.NullCount)
					}
					if m.Type == format.Int32 && len(m.PathInSchema) > 1 {
						continue // int32 lists carry no min/max
					}
					if !sameBound(m.Type, m.Statistics.MinValue, r.Statistics.MinValue) || !sameBound(m.Type, m.Statistics.MaxValue, r.Statistics.MaxValue) {
						t.Errorf("group %d column %v: min/max %v/%v, parquet-go %v/%v", g, m.PathInSchema,
							m.Statistics.MinValue, m.Statistics.MaxValue, r.Statistics.MinValue, r.Statistics.MaxValue)
					}
				}
			}
		})
	}
}

// sameBound compares two statistics bounds; floating-point zeros compare equal (the flows
// writer writes a zero minimum as -0, as the format asks, and parquet-go as +0).
func sameBound(t format.Type, a, b []byte) bool {
	switch {
	case t == format.Double && len(a) == 8 && len(b) == 8:
		return math.Float64frombits(binary.LittleEndian.Uint64(a)) == math.Float64frombits(binary.LittleEndian.Uint64(b))
	case t == format.Float && len(a) == 4 && len(b) == 4:
		return math.Float32frombits(binary.LittleEndian.Uint32(a)) == math.Float32frombits(binary.LittleEndian.Uint32(b))
	}
	return bytes.Equal(a, b)
}

// TestFlowsWriterLoad checks that Load reads the flows writer's files exactly as it reads
// parquet-go's.
func TestFlowsWriterLoad(t *testing.T) {
	dir := t.TempDir()
	recs := randomRecords(2000, 3)
	for i := range recs {
		r := &recs[i]
		r.Label = []string{"a", "b", "c"}[i%3]
		r.SeqSize, r.SeqPayload, r.SeqIATUS, r.SeqDir = make([]int32, 20), make([]int32, 20), make([]int32, 20), make([]int32, 20)
		for j := range 20 {
			r.SeqSize[j], r.SeqIATUS[j], r.SeqDir[j] = int32(i*j%1500), int32(j*7), int32(1-2*(j%2))
		}
		r.Extra = nil
	}
	ours, ref := filepath.Join(dir, "ours.parquet"), filepath.Join(dir, "ref.parquet")
	w, err := create(ours, Meta{SeqLen: 20}, 700)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(recs); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	writeParquetGo(t, ref, recs, 700)
	opts := LoadOptions{Features: []string{"seq_size", "seq_iat_us", "seq_dir", "size_fwd_p25", "duration_s", "pkts_fwd"}}
	a, err := Load(t.Context(), ours, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load(t.Context(), ref, opts)
	if err != nil {
		t.Fatal(err)
	}
	if a.N != 2000 || !reflect.DeepEqual(a.Y, b.Y) || !reflect.DeepEqual(a.ClassNames, b.ClassNames) {
		t.Fatalf("labels differ: %d rows", a.N)
	}
	if !reflect.DeepEqual(a.Seq, b.Seq) || !reflect.DeepEqual(a.Tab, b.Tab) {
		t.Fatal("features differ from those loaded from parquet-go's file")
	}
}

// BenchmarkFlowsWriter encodes 20k flows with 100-long sequences (the shape `etch extract`
// writes) into Parquet, discarding the bytes.
func BenchmarkFlowsWriter(b *testing.B) {
	recs := randomRecords(20000, 1)
	seq := make([]int32, 400)
	for i := range seq {
		seq[i] = int32(i%200) - 100
	}
	for i := range recs {
		r := &recs[i]
		r.SeqSize, r.SeqPayload, r.SeqIATUS, r.SeqDir = seq[:100], seq[100:200], seq[200:300], seq[300:]
		r.Extra = nil
	}
	for b.Loop() {
		e, err := newPQEncoder(io.Discard, map[string]string{"k": "v"}, RowGroupRows, RowGroupBytes)
		if err != nil {
			b.Fatal(err)
		}
		for r := recs; len(r) > 0; r = r[min(len(r), 1024):] {
			if err := e.encode(r[:min(len(r), 1024)]); err != nil {
				b.Fatal(err)
			}
		}
		if err := e.close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "flows/s")
}
