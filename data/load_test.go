package data

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// genRecords makes n records with seqLen-long sequences whose values encode row and step, labels
// drawn from classes with a skew (class i gets about twice the rows of class i+1).
func genRecords(n, seqLen int, classes []string) []Record {
	recs := make([]Record, n)
	for r := range recs {
		rec := &recs[r]
		rec.Label = classes[min(bits.TrailingZeros(uint(r+1)), len(classes)-1)]
		rec.Service = "svc-" + rec.Label
		rec.Category = "cat"
		rec.Capture = fmt.Sprintf("cap%d.pcap", r%3)
		rec.StartUS = int64(r) * 1_000_000
		rec.DurationS = float64(r) / 2
		rec.PktsFwd = int64(r)
		v := make([]float64, NumStats)
		for j := range v {
			v[j] = float64(r*100 + j)
		}
		rec.SetVector(v)
		rec.SeqSize = make([]int32, seqLen)
		rec.SeqIATUS = make([]int32, seqLen)
		rec.SeqDir = make([]int32, seqLen)
		for t := range seqLen {
			rec.SeqSize[t] = int32(r*1000 + t)
			rec.SeqIATUS[t] = int32(t * 10)
			rec.SeqDir[t] = int32(1 - 2*(t%2))
		}
		rec.Extra = []float32{float32(r), float32(-r), 0.5}
	}
	return recs
}

func writeFile(t testing.TB, path string, meta Meta, recs []Record) {
	t.Helper()
	writeFileRG(t, path, meta, recs, RowGroupRows)
}

func writeFileRG(t testing.TB, path string, meta Meta, recs []Record, rowGroupRows int64) {
	t.Helper()
	w, err := create(path, meta, rowGroupRows)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(recs); i += 4096 {
		if err := w.Write(recs[i:min(i+4096, len(recs))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

var testMeta = Meta{Source: "test", SeqLen: 8, ExtraNames: []string{"e0", "e1", "e2"}}

func TestLoadProjection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.parquet")
	recs := genRecords(300, 8, []string{"a", "b", "c", "d"})
	writeFile(t, path, testMeta, recs)
	d, err := Load(context.Background(), path, LoadOptions{
		Features: []string{"seq_dir", "duration_s", "stats", "seq_size", "e1", "pkts_fwd"},
		Group:    "capture",
	})
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 300 || d.Rows != 300 || d.SeqLen != 8 || !reflect.DeepEqual(d.SeqChannels, []string{"seq_dir", "seq_size"}) {
		t.Fatalf("shape: N=%d rows=%d L=%d ch=%v", d.N, d.Rows, d.SeqLen, d.SeqChannels)
	}
	wantTab := slices.Concat([]string{"duration_s"}, StatNames[:], []string{"e1", "pkts_fwd"})
	if !reflect.DeepEqual(d.TabNames, wantTab) {
		t.Fatalf("TabNames = %v", d.TabNames)
	}
	td := d.TabDim()
	for r, rec := range recs {
		row := d.Tab[r*td : (r+1)*td]
		if row[0] != float32(rec.DurationS) || row[1] != float32(rec.SizeFwdCount) ||
			row[48] != float32(rec.PayloadAllVar) || row[49] != -float32(r) || row[50] != float32(rec.PktsFwd) {
			t.Fatalf("row %d tab = %v", r, row)
		}
		for s := range 8 {
			dir, size := d.Seq[(r*8+s)*2], d.Seq[(r*8+s)*2+1]
			if dir != float32(rec.SeqDir[s]) || size != float32(rec.SeqSize[s]) {
				t.Fatalf("row %d step %d: dir %v size %v", r, s, dir, size)
			}
		}
		if d.ClassNames[d.Y[r]] != rec.Label {
			t.Fatalf("row %d class %q, want %q", r, d.ClassNames[d.Y[r]], rec.Label)
		}
		if d.GroupNames[d.Groups[r]] != rec.Capture {
			t.Fatalf("row %d group %q", r, d.GroupNames[d.Groups[r]])
		}
	}
	// Vocabulary: by count descending.
	if !reflect.DeepEqual(d.ClassNames, []string{"a", "b", "c", "d"}) || d.ClassCounts[0] < d.ClassCounts[1] {
		t.Errorf("classes %v counts %v", d.ClassNames, d.ClassCounts)
	}
}

func TestLoadFilters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.parquet")
	recs := genRecords(200, 8, []string{"a", "b", "c", "d", "e"})
	writeFile(t, path, testMeta, recs)
	count := map[string]int{}
	for _, r := range recs {
		count[r.Label]++
	}
	for _, tc := range []struct {
		name    string
		opts    LoadOptions
		classes []string
	}{
		{"all", LoadOptions{}, []string{"a", "b", "c", "d", "e"}},
		{"top2", LoadOptions{TopN: 2}, []string{"a", "b"}},
		{"min", LoadOptions{MinCount: count["c"]}, []string{"a", "b", "c"}},
		{"min+top", LoadOptions{MinCount: count["d"], TopN: 2}, []string{"a", "b"}},
		{"other", LoadOptions{TopN: 2, Other: true}, []string{"a", "b", OtherClass}},
		{"service", LoadOptions{Label: "service", TopN: 1}, []string{"svc-a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Features = []string{"seq_size", "pkts_fwd"}
			tc.opts.Packets = 3
			tc.opts.Group = "time:10"
			d, err := Load(context.Background(), path, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(d.ClassNames, tc.classes) {
				t.Fatalf("classes %v, want %v", d.ClassNames, tc.classes)
			}
			n := 0
			for i, c := range d.ClassNames {
				if c != OtherClass && d.ClassCounts[i] != count[strings.TrimPrefix(c, "svc-")] {
					t.Errorf("class %s count %d", c, d.ClassCounts[i])
				}
				n += d.ClassCounts[i]
			}
			if d.N != n || len(d.Y) != n || len(d.Index) != n || len(d.Seq) != n*3 || len(d.Tab) != n || len(d.Groups) != n {
				t.Fatalf("N=%d n=%d y=%d seq=%d tab=%d", d.N, n, len(d.Y), len(d.Seq), len(d.Tab))
			}
			for k, r := range d.Index {
				rec := recs[r]
				if d.Tab[k] != float32(rec.PktsFwd) || d.Seq[k*3+2] != float32(rec.SeqSize[2]) {
					t.Fatalf("row %d (file %d): tab %v seq %v", k, r, d.Tab[k], d.Seq[k*3:k*3+3])
				}
				name := d.ClassNames[d.Y[k]]
				if name != OtherClass && strings.TrimPrefix(name, "svc-") != rec.Label {
					t.Fatalf("row %d class %s, want %s", k, name, rec.Label)
				}
				if g := d.GroupNames[d.Groups[k]]; g != fmt.Sprint(int(r)/10*10) {
					t.Fatalf("row %d (file %d) group %s", k, r, g)
				}
			}
		})
	}
}

// Files with several row groups load the same as with one.
func TestLoadRowGroups(t *testing.T) {
	dir := t.TempDir()
	recs := genRecords(1000, 8, []string{"a", "b", "c"})
	one, many := filepath.Join(dir, "one.parquet"), filepath.Join(dir, "many.parquet")
	writeFileRG(t, one, testMeta, recs, 1<<20)
	writeFileRG(t, many, testMeta, recs, 77)
	for _, opts := range []LoadOptions{
		{Features: []string{"stats", "seq_size", "seq_dir", "extra"}, Group: "capture"},
		{Features: []string{"seq_iat_us", "pkts_fwd"}, TopN: 2},
	} {
		a, err := Load(context.Background(), one, opts)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Load(context.Background(), many, opts)
		if err != nil {
			t.Fatal(err)
		}
		f, _ := Open(many)
		rgs := len(f.Parquet().RowGroups())
		f.Close()
		if rgs < 10 || a.ContentHash() != b.ContentHash() || !reflect.DeepEqual(a.Index, b.Index) {
			t.Errorf("%d row groups: loads differ", rgs)
		}
	}
}

// A file whose lists vary in length goes through the general path: short rows are zero padded,
// long rows truncated.
func TestLoadRaggedSequences(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.parquet")
	recs := genRecords(50, 8, []string{"a"})
	for r := range recs {
		recs[r].SeqSize = recs[r].SeqSize[:r%9]
		recs[r].Extra = recs[r].Extra[:r%4]
	}
	writeFile(t, path, testMeta, recs)
	d, err := Load(context.Background(), path, LoadOptions{Features: []string{"seq_size", "extra"}})
	if err != nil {
		t.Fatal(err)
	}
	for r, rec := range recs {
		for s := range 8 {
			want := float32(0)
			if s < len(rec.SeqSize) {
				want = float32(rec.SeqSize[s])
			}
			if got := d.Seq[r*8+s]; got != want {
				t.Fatalf("row %d step %d = %v, want %v", r, s, got, want)
			}
		}
		for e := range 3 {
			want := float32(0)
			if e < len(rec.Extra) {
				want = rec.Extra[e]
			}
			if got := d.Tab[r*3+e]; got != want {
				t.Fatalf("row %d extra %d = %v, want %v", r, e, got, want)
			}
		}
	}
}

// otherSchema is a Parquet file that is not a flows file of ours.
type otherSchema struct {
	Label   int64   `parquet:"label"`
	SeqSize []int32 `parquet:"seq_size"`
	Stat    string  `parquet:"size_fwd_count"`
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.parquet")
	writeFile(t, good, testMeta, genRecords(10, 8, []string{"a"}))
	bad := filepath.Join(dir, "bad.parquet")
	f, err := os.Create(bad)
	if err != nil {
		t.Fatal(err)
	}
	kv := testMeta.KeyValues()
	var wopts []parquet.WriterOption
	for k, v := range kv {
		wopts = append(wopts, parquet.KeyValueMetadata(k, v))
	}
	pw := parquet.NewGenericWriter[otherSchema](f, wopts...)
	if _, err := pw.Write([]otherSchema{{Label: 1, SeqSize: []int32{1}, Stat: "x"}}); err != nil {
		t.Fatal(err)
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	noMeta := filepath.Join(dir, "nometa.parquet")
	if err := parquet.WriteFile(noMeta, []Record{{Label: "a"}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		path   string
		opts   LoadOptions
		schema bool
		want   string
	}{
		{"missing column", good, LoadOptions{Features: []string{"nope"}}, true, `column "nope"`},
		{"string feature", good, LoadOptions{Features: []string{"sni"}}, true, `column "sni"`},
		{"label type", bad, LoadOptions{Features: []string{"seq_dir"}}, true, `column "seq_dir"`},
		{"label int", bad, LoadOptions{Features: []string{"size_fwd_count"}}, true, `column "size_fwd_count"`},
		{"seq not list", bad, LoadOptions{Features: []string{"seq_size"}}, true, `column "seq_size"`},
		{"no footer", noMeta, LoadOptions{Features: []string{"stats"}}, true, "schema_version"},
		{"unknown extra", good, LoadOptions{Features: []string{"extra:zz"}}, true, "extra:zz"},
		{"twice", good, LoadOptions{Features: []string{"stats", "size_fwd_p25"}}, false, "twice"},
		{"packets", good, LoadOptions{Features: []string{"seq_size"}, Packets: 9}, false, "packets 9"},
		{"label", good, LoadOptions{Features: []string{"stats"}, Label: "sni"}, false, "label column"},
		{"group", good, LoadOptions{Features: []string{"stats"}, Group: "x"}, false, `group "x"`},
		{"none", good, LoadOptions{}, false, "no features"},
		{"not parquet", filepath.Join(dir, "missing.parquet"), LoadOptions{Features: []string{"stats"}}, false, "missing.parquet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(context.Background(), tc.path, tc.opts)
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, ErrSchema) != tc.schema || !strings.Contains(err.Error(), tc.want) ||
				!strings.Contains(err.Error(), filepath.Base(tc.path)) {
				t.Errorf("error %v (schema %v, want %v, containing %q and the file)", err, errors.Is(err, ErrSchema), tc.schema, tc.want)
			}
		})
	}
}

func TestLoadCancelled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.parquet")
	writeFile(t, path, testMeta, genRecords(10, 8, []string{"a"}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Load(ctx, path, LoadOptions{Features: []string{"stats"}}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

func TestContentHash(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.parquet"), filepath.Join(dir, "b.parquet")
	recs := genRecords(40, 8, []string{"a", "b"})
	writeFile(t, a, testMeta, recs)
	m := testMeta
	m.Source = "other footer, same content"
	writeFile(t, b, m, recs)
	opts := LoadOptions{Features: []string{"stats", "seq_size"}}
	load := func(p string, o LoadOptions) *Dataset {
		d, err := Load(context.Background(), p, o)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	da, db := load(a, opts), load(b, opts)
	if da.ContentHash() != db.ContentHash() {
		t.Error("same content, different hashes")
	}
	dc := load(a, LoadOptions{Features: []string{"stats", "seq_size"}, Packets: 7})
	if dc.ContentHash() == da.ContentHash() {
		t.Error("different content, same hash")
	}
	db.Seq[5]++
	if da.ContentHash() == db.ContentHash() {
		t.Error("changed value, same hash")
	}
	keys := da.RowKeys()
	if len(keys) != da.N || keys[0] == keys[1] {
		t.Errorf("row keys %v", keys[:2])
	}
}

func ExampleLoad() {
	dir, _ := os.MkdirTemp("", "etch-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "flows.parquet")
	w, _ := Create(path, Meta{Source: "example", SeqLen: 3})
	_ = w.Write([]Record{
		{Label: "video", SeqSize: []int32{100, -1500, -1500}, SeqDir: []int32{1, -1, -1}},
		{Label: "chat", SeqSize: []int32{80, -90, 70}, SeqDir: []int32{1, -1, 1}},
		{Label: "video", SeqSize: []int32{120, -1500, 60}, SeqDir: []int32{1, -1, 1}},
	})
	_ = w.Close()

	d, err := Load(context.Background(), path, LoadOptions{
		Features: []string{"seq_size", "seq_dir"},
		Packets:  2,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.N, d.SeqLen, d.SeqChannels, d.ClassNames, d.Y)
	fmt.Println(d.Seq[:4]) // row 0: (size, dir) for steps 0 and 1
	// Output:
	// 3 2 [seq_size seq_dir] [video chat] [0 1 0]
	// [100 1 -1500 -1]
}

func TestDescribe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.parquet")
	writeFile(t, path, testMeta, genRecords(100, 8, []string{"a", "b", "c"}))
	info, err := Describe(context.Background(), path, "service")
	if err != nil {
		t.Fatal(err)
	}
	if info.Rows != 100 || info.Meta.SeqLen != 8 || info.Footer[MetaSource] != "test" || info.LabelColumn != "service" {
		t.Errorf("info %+v", info)
	}
	if len(info.Classes) != 3 || info.Classes[0] != (ClassCount{"svc-a", 50}) || info.Classes[2].Count != 25 {
		t.Errorf("classes %v", info.Classes)
	}
	cols := map[string]string{}
	for _, c := range info.Columns {
		cols[c.Name] = c.Type
	}
	if len(info.Columns) != len(Columns()) || cols["seq_size"] != "list<INT32>" || cols["size_fwd_count"] != "DOUBLE" {
		t.Errorf("columns %v", info.Columns)
	}
	if _, err := Describe(context.Background(), path, "sni"); err == nil {
		t.Error("label sni accepted")
	}
}
