package data

import (
	"bufio"
	"encoding/csv"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func sampleRecords() []Record {
	r := Record{
		Capture: "a.pcap", StartUS: 1, EndUS: 2, Proto: "tcp", IPVersion: 4, SrcPort: 5555, DstPort: 443,
		EndReason: "fin", SNI: "example.com", ALPN: "h2", TLSVersion: "1.3", JA3: "abc", JA4: "t13d",
		Label: "example.com", Service: "Example", Category: "Web", PktsFwd: 3, PktsBwd: 2,
		SeqSize: []int32{60, -1500, 0}, SeqPayload: []int32{0, 1460, 0}, SeqIATUS: []int32{0, 10, 0},
		SeqDir: []int32{1, -1, 0}, Extra: []float32{1.5},
	}
	r.SizeAllMax = 1500
	r.IatBwdP75 = 12.5
	r2 := r
	r2.SNI, r2.Label, r2.Extra = "b.example", "b.example", nil
	return []Record{r, r2}
}

func TestWriteReadParquet(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "flows.parquet")
	w, err := Create(path, Meta{Version: "test", Source: "extract", SeqLen: 3, ExtraNames: []string{"x"},
		Inputs: []Input{{Name: "a.pcap", SHA256: "00"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("destination exists before Close: %v", err)
	}
	want := sampleRecords()
	if err := w.Write(want); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, meta, err := ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	if meta.SeqLen != 3 || meta.Source != "extract" || len(meta.Inputs) != 1 || meta.ExtraNames[0] != "x" {
		t.Errorf("meta = %+v", meta)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if want[i].Extra == nil {
			want[i].Extra = got[i].Extra // nil and empty are the same on disk
		}
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestAbortLeavesDestination(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "flows.csv")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := Create(path, Meta{})
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Write(sampleRecords())
	w.Abort()
	b, _ := os.ReadFile(path)
	if string(b) != "old" {
		t.Errorf("destination changed to %q", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestCSVAndJSONL(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"f.csv", "f.jsonl"} {
		path := filepath.Join(dir, name)
		w, err := Create(path, Meta{})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(sampleRecords()); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		f, _ := os.Open(path)
		defer f.Close()
		if strings.HasSuffix(name, ".csv") {
			rows, err := csv.NewReader(f).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 3 || len(rows[0]) != len(Columns()) || len(rows[1]) != len(rows[0]) {
				t.Fatalf("csv shape %d×%d", len(rows), len(rows[0]))
			}
			col := map[string]int{}
			for i, c := range rows[0] {
				col[c] = i
			}
			if got := rows[1][col["seq_size"]]; got != "60;-1500;0" {
				t.Errorf("seq_size cell %q", got)
			}
			if got := rows[1][col["size_all_max"]]; got != "1500" {
				t.Errorf("size_all_max cell %q", got)
			}
		} else {
			n := 0
			for s := bufio.NewScanner(f); s.Scan(); n++ {
				if !strings.Contains(s.Text(), `"sni":`) || !strings.Contains(s.Text(), `"iat_bwd_p75":12.5`) {
					t.Errorf("line %q", s.Text())
				}
			}
			if n != 2 {
				t.Errorf("%d lines", n)
			}
		}
	}
}

// TestCreateMakesDirectories: an output path under directories that do not exist yet works.
func TestCreateMakesDirectories(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "flows.jsonl")
	w, err := Create(path, Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}

func TestFormatOf(t *testing.T) {
	for _, tc := range []struct {
		path string
		want Format
		ok   bool
	}{{"a.parquet", Parquet, true}, {"a.JSONL", JSONL, true}, {"x/y.csv", CSV, true}, {"a.txt", 0, false}} {
		got, err := FormatOf(tc.path)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("FormatOf(%q) = %v, %v", tc.path, got, err)
		}
	}
}

func TestOpenRejectsForeignParquet(t *testing.T) {
	if _, err := Open("writer_test.go"); err == nil {
		t.Fatal("want error for a non-Parquet file")
	}
}

func TestColumnsCount(t *testing.T) {
	cols := Columns()
	// Changing the number of columns changes the schema: bump SchemaVersion and the README.
	if len(cols) != 92 {
		t.Errorf("%d columns, schema v1 has 92", len(cols))
	}
	seen := map[string]bool{}
	for _, c := range cols {
		if c == "" || seen[c] {
			t.Errorf("column %q empty or duplicated", c)
		}
		seen[c] = true
	}
	for _, s := range StatNames {
		if !seen[s] {
			t.Errorf("stat %s not a column", s)
		}
	}
}
