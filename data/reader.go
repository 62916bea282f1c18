package data

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/parquet-go/parquet-go"
)

// File is an open flows.parquet file: its footer metadata and a row reader. It reads whole
// records; for training use the columnar loader, which reads only projected columns.
type File struct {
	Path string
	Meta Meta
	Rows int64

	f  *os.File
	pf *parquet.File
	r  *parquet.GenericReader[Record]
}

// Open opens a flows.parquet file and checks its footer. Errors name the file.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open %s: not a Parquet file: %w", path, err)
	}
	kv := map[string]string{}
	for _, e := range pf.Metadata().KeyValueMetadata {
		kv[e.Key] = e.Value
	}
	meta, err := ParseMeta(kv)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return &File{Path: path, Meta: meta, Rows: pf.NumRows(), f: f, pf: pf}, nil
}

// Parquet returns the underlying parquet-go file, for column-level readers.
func (f *File) Parquet() *parquet.File { return f.pf }

// Read fills recs with the next records and returns how many it read; io.EOF after the last.
func (f *File) Read(recs []Record) (int, error) {
	if f.r == nil {
		f.r = parquet.NewGenericReader[Record](f.pf)
	}
	n, err := f.r.Read(recs)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, fmt.Errorf("read %s: %w", f.Path, err)
	}
	return n, err
}

// Close closes the file.
func (f *File) Close() error {
	if f.r != nil {
		f.r.Close()
	}
	return f.f.Close()
}

// ReadAll reads every record of a flows file (small files, tests and tools).
func ReadAll(path string) ([]Record, Meta, error) {
	f, err := Open(path)
	if err != nil {
		return nil, Meta{}, err
	}
	defer f.Close()
	recs := make([]Record, f.Rows)
	n := 0
	for n < len(recs) {
		k, err := f.Read(recs[n:])
		n += k
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, f.Meta, err
		}
	}
	return recs[:n], f.Meta, nil
}
