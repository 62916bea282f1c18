package data

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
)

// ErrSchema reports a flows file whose schema or footer etch cannot read.
var ErrSchema = errors.New("unsupported flows schema")

// ErrFormat reports an output path whose extension names no known format.
var ErrFormat = errors.New("unknown output format (want .parquet, .jsonl or .csv)")

// Format is an output format of flow records.
type Format int

// Formats, picked by FormatOf from a file extension.
const (
	Parquet Format = iota
	JSONL
	CSV
)

// FormatOf picks the format from path's extension: .parquet, .jsonl (or .json) or .csv.
func FormatOf(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".parquet":
		return Parquet, nil
	case ".jsonl", ".json", ".ndjson":
		return JSONL, nil
	case ".csv":
		return CSV, nil
	}
	return 0, fmt.Errorf("%s: %w", path, ErrFormat)
}

// Writer writes flow records to a file atomically: everything goes to a temporary file next to
// the destination, which Close renames into place. Until Close succeeds the destination is
// untouched; Abort removes the temporary file.
type Writer struct {
	path string
	tmp  *os.File
	buf  *bufio.Writer
	enc  recordEncoder
	n    int64
	done bool
}

type recordEncoder interface {
	encode(recs []Record) error
	close() error
}

// SetMeta replaces the footer metadata (Parquet only; written by Close). Use it for values known
// only at the end, such as the hashes of the inputs.
func (w *Writer) SetMeta(meta Meta) {
	if p, ok := w.enc.(*pqEncoder); ok {
		p.setMeta(meta.KeyValues())
	}
}

// RowGroupRows and RowGroupBytes bound a Parquet row group: it ends at RowGroupRows rows or
// once its values take RowGroupBytes (about 8k flows with 100-long sequences). The writer
// buffers one row group in memory and reuses the buffers for the next, so memory stays bounded
// however large the dataset.
const (
	RowGroupRows  = 128 << 10
	RowGroupBytes = 16 << 20
)

// Create opens a writer for path in the format its extension names, with footer metadata meta
// (Parquet only; JSONL and CSV carry no footer). Missing parent directories are created; the
// file itself appears only when the writer is closed (temporary file, renamed).
func Create(path string, meta Meta) (*Writer, error) {
	return create(path, meta, RowGroupRows)
}

func create(path string, meta Meta, rowGroupRows int64) (*Writer, error) {
	format, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	w := &Writer{path: path, tmp: tmp, buf: bufio.NewWriterSize(tmp, 1<<20)}
	switch format {
	case Parquet:
		enc, err := newPQEncoder(w.buf, meta.KeyValues(), int(rowGroupRows), RowGroupBytes)
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			return nil, fmt.Errorf("create %s: %w", path, err)
		}
		w.enc = enc
	case JSONL:
		w.enc = &jsonlEncoder{enc: json.NewEncoder(w.buf)}
	case CSV:
		w.enc = newCSVEncoder(w.buf)
	}
	return w, nil
}

// Write appends records.
func (w *Writer) Write(recs []Record) error {
	if w.done {
		return fmt.Errorf("write %s: writer closed", w.path)
	}
	if err := w.enc.encode(recs); err != nil {
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	w.n += int64(len(recs))
	return nil
}

// Count returns the number of records written so far.
func (w *Writer) Count() int64 { return w.n }

// Close finishes the file, syncs it and renames it into place.
func (w *Writer) Close() error {
	if w.done {
		return nil
	}
	w.done = true
	err := w.enc.close()
	if err == nil {
		err = w.buf.Flush()
	}
	if err == nil {
		err = w.tmp.Sync()
	}
	if err == nil {
		// CreateTemp makes the file 0600; a dataset is an ordinary file.
		err = w.tmp.Chmod(0o644)
	}
	if cerr := w.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(w.tmp.Name(), w.path)
	}
	if err != nil {
		os.Remove(w.tmp.Name())
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	return nil
}

// Abort discards everything written; the destination is left as it was.
func (w *Writer) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.tmp.Close()
	os.Remove(w.tmp.Name())
}

type jsonlEncoder struct{ enc *json.Encoder }

func (e *jsonlEncoder) encode(recs []Record) error {
	for i := range recs {
		if err := e.enc.Encode(&recs[i]); err != nil {
			return err
		}
	}
	return nil
}
func (e *jsonlEncoder) close() error { return nil }

// CSV: one column per schema column, in schema order; list columns are written as their values
// joined by ';'.
type csvEncoder struct {
	w      *csv.Writer
	header bool
	row    []string
}

func newCSVEncoder(w io.Writer) *csvEncoder { return &csvEncoder{w: csv.NewWriter(w)} }

// Columns returns the names of the schema's columns in order.
func Columns() []string {
	var names []string
	walkColumns(reflect.TypeOf(Record{}), func(f reflect.StructField) {
		names = append(names, columnName(f))
	})
	return names
}

func columnName(f reflect.StructField) string {
	tag := f.Tag.Get("parquet")
	if i := strings.IndexByte(tag, ','); i >= 0 {
		tag = tag[:i]
	}
	return tag
}

// walkColumns calls fn for each column field of struct type t in order, the fields of embedded
// structs in place; each field's Offset is from the start of t.
func walkColumns(t reflect.Type, fn func(reflect.StructField)) {
	walkColumnsAt(t, 0, fn)
}

func walkColumnsAt(t reflect.Type, base uintptr, fn func(reflect.StructField)) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		f.Offset += base
		if f.Anonymous {
			walkColumnsAt(f.Type, f.Offset, fn)
			continue
		}
		fn(f)
	}
}

func (e *csvEncoder) encode(recs []Record) error {
	if !e.header {
		e.header = true
		if err := e.w.Write(Columns()); err != nil {
			return err
		}
	}
	for i := range recs {
		e.row = e.row[:0]
		appendCSV(&e.row, reflect.ValueOf(&recs[i]).Elem())
		if err := e.w.Write(e.row); err != nil {
			return err
		}
	}
	return nil
}

func appendCSV(row *[]string, v reflect.Value) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := v.Field(i)
		if t.Field(i).Anonymous {
			appendCSV(row, f)
			continue
		}
		*row = append(*row, formatValue(f))
	}
}

func formatValue(v reflect.Value) string {
	switch v.Kind() {
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return strconv.FormatBool(v.Bool())
	case reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10)
	case reflect.Float32:
		return strconv.FormatFloat(v.Float(), 'g', -1, 32)
	case reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	case reflect.Slice:
		var b strings.Builder
		for j := 0; j < v.Len(); j++ {
			if j > 0 {
				b.WriteByte(';')
			}
			b.WriteString(formatValue(v.Index(j)))
		}
		return b.String()
	}
	return fmt.Sprint(v.Interface())
}

func (e *csvEncoder) close() error {
	if !e.header {
		e.header = true
		if err := e.w.Write(Columns()); err != nil {
			return err
		}
	}
	e.w.Flush()
	return e.w.Error()
}
