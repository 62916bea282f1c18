package importers

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/etchlab/etch/data"
)

// readAll runs a source over input, checking the invariants every import keeps: no panic,
// errors about rows are RowErrors, and records have equal-length sequences.
func readAll(t *testing.T, src source, input []byte, skipBad bool) {
	meta := data.Meta{Params: map[string]string{}}
	emit := func(line int, rec *data.Record) error {
		if line < 1 {
			t.Fatalf("record at line %d", line)
		}
		n := len(rec.SeqSize)
		if len(rec.SeqPayload) != n || len(rec.SeqIATUS) != n || len(rec.SeqDir) != n {
			t.Fatalf("ragged sequences: %d %d %d %d", n, len(rec.SeqPayload), len(rec.SeqIATUS), len(rec.SeqDir))
		}
		if meta.SeqLen != n && n != 0 {
			t.Fatalf("sequence length %d, footer says %d", n, meta.SeqLen)
		}
		if len(rec.Extra) != 0 && len(rec.Extra) != len(meta.ExtraNames) {
			t.Fatalf("%d extra values, %d names", len(rec.Extra), len(meta.ExtraNames))
		}
		return nil
	}
	bad := func(err error) error {
		if !errors.Is(err, ErrBadRow) {
			t.Fatalf("bad-row error %v is not ErrBadRow", err)
		}
		if skipBad {
			return nil
		}
		return err
	}
	_ = src.read(context.Background(), bytes.NewReader(input), "fuzz", &meta, emit, bad)
}

func seed(f *testing.F, files ...string) {
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		f.Add(b, true)
	}
}

func FuzzARFF(f *testing.F) {
	seed(f, "testdata/small.arff")
	f.Add([]byte("@relation r\n@attribute 'a b' numeric\n@attribute c {x,'y z'}\n@data\n{0 1, 1 'y z'}\n1,x\n"), true)
	f.Add([]byte("@relation r\r\n@attribute a numeric\r\n@attribute c {x}\r\n@data\r\n?,x\r\n"), false)
	f.Fuzz(func(t *testing.T, input []byte, skip bool) {
		readAll(t, &arffSource{}, input, skip)
		a, err := NewARFF(bytes.NewReader(input), "fuzz")
		if err != nil {
			return
		}
		for {
			row, _, err := a.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, ErrBadRow) {
					t.Fatalf("Next: %v", err)
				}
				var re *RowError
				if errors.As(err, &re) {
					return // the reader stops at the first bad row here
				}
				return
			}
			if len(row) != len(a.Attributes) {
				t.Fatalf("%d values for %d attributes", len(row), len(a.Attributes))
			}
		}
	})
}

func FuzzCSV(f *testing.F) {
	seed(f, "testdata/small.csv")
	f.Add([]byte("label,s,a\nx,\"[1,2]\",3\ny,,\n"), true)
	f.Fuzz(func(t *testing.T, input []byte, skip bool) {
		src, err := newCSVSource(Options{LabelCol: "app", CategoryCol: "category", Seq: map[string]string{"size": "sizes"}})
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, src, input, skip)
		src2, _ := newCSVSource(Options{LabelCol: "label", Seq: map[string]string{"size": "s", "dir": "a"}})
		readAll(t, src2, input, skip)
	})
}

func FuzzGCSeq(f *testing.F) {
	seed(f, "testdata/gcseq_signed100.csv", "testdata/gcseq_study4x25.csv")
	f.Fuzz(func(t *testing.T, input []byte, skip bool) {
		for _, l := range []string{LayoutSigned100, LayoutStudy4x25} {
			g, _ := newGCSeq(l)
			readAll(t, g, input, skip)
		}
	})
}

func FuzzCESNET(f *testing.F) {
	seed(f, "testdata/cesnet_small.json", "testdata/cesnet_small.csv")
	f.Fuzz(func(t *testing.T, input []byte, skip bool) {
		readAll(t, cesnetSource{}, input, skip)
	})
}
