package importers

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/etchlab/etch/data"
)

// ErrBadRow reports an input row that cannot be imported; the error names file and line.
var ErrBadRow = errors.New("bad row")

// ErrLayout reports a GCseq file whose column count does not fit the chosen layout.
var ErrLayout = errors.New("column count does not fit the layout")

// RowError is a bad input row: file, 1-based line and what is wrong.
type RowError struct {
	File string
	Line int
	Err  error
}

func (e *RowError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }

// Unwrap makes errors.Is(err, ErrBadRow) true and exposes the cause.
func (e *RowError) Unwrap() []error { return []error{ErrBadRow, e.Err} }

func rowErr(file string, line int, format string, args ...any) error {
	return &RowError{File: file, Line: line, Err: fmt.Errorf(format, args...)}
}

// Formats lists the importers by name.
var Formats = []string{"gcseq", "arff", "csv", "cesnet"}

// Options configures an import. Fields not used by a format are ignored.
type Options struct {
	// Format is one of Formats.
	Format string
	// Layout is the GCseq layout: "signed100" (default) or "study4x25".
	Layout string
	// LabelCol names the class column (csv: default "label"; arff: default the last nominal
	// attribute). ServiceCol, CategoryCol and GroupCol (→ capture) are optional csv columns.
	LabelCol, ServiceCol, CategoryCol, GroupCol string
	// Seq maps sequence channels (size, payload, iat, dir) to csv column specs; Features lists csv
	// feature column specs (default: every other numeric column). A spec is a comma-separated
	// list of column names or path.Match patterns ("pkt_*"); a single matched column may hold a
	// whole sequence as numbers separated by ';' or spaces, optionally in brackets.
	Seq      map[string]string
	Features string
	// CategoryTrimPrefix: arff category = label without this prefix (default "VPN-", so that
	// ISCX's VPN-CHAT has category CHAT). "-" disables.
	CategoryTrimPrefix string
	// SkipBad logs and skips bad rows instead of failing on the first.
	SkipBad bool
	// Version is the etch version recorded in the footer.
	Version string
	// Log receives warnings (skipped rows); nil discards.
	Log *slog.Logger
}

// Summary describes a finished import.
type Summary struct {
	Rows    int
	Skipped int
	Classes map[string]int
	Meta    data.Meta
}

// ClassList returns the classes by descending count, then name.
func (s *Summary) ClassList() []string {
	out := make([]string, 0, len(s.Classes))
	for c := range s.Classes {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if s.Classes[out[i]] != s.Classes[out[j]] {
			return s.Classes[out[i]] > s.Classes[out[j]]
		}
		return out[i] < out[j]
	})
	return out
}

// source is one format's reader: it parses the input and calls emit per record. header runs
// before the first record and may fill meta (ExtraNames, SeqLen, Params).
type source interface {
	read(ctx context.Context, r io.Reader, name string, meta *data.Meta, emit func(line int, rec *data.Record) error, bad func(error) error) error
}

func newSource(opts Options) (source, error) {
	switch opts.Format {
	case "gcseq":
		return newGCSeq(opts.Layout)
	case "arff":
		return &arffSource{labelCol: opts.LabelCol, trim: opts.CategoryTrimPrefix}, nil
	case "csv":
		return newCSVSource(opts)
	case "cesnet":
		return cesnetSource{labelCol: opts.LabelCol}, nil
	}
	return nil, fmt.Errorf("format %q: want one of %s", opts.Format, strings.Join(Formats, ", "))
}

// ImportFile imports in (one file) into out (a flows file; .parquet, .jsonl or .csv). The output is
// written to a temporary file and renamed only when the whole input was read, so a failed import
// leaves nothing behind.
func ImportFile(ctx context.Context, in, out string, opts Options) (*Summary, error) {
	src, err := newSource(opts)
	if err != nil {
		return nil, err
	}
	sum, err := data.FileSHA256(in)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(in)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	meta := data.Meta{Version: opts.Version, Source: "import:" + opts.Format,
		Inputs: []data.Input{{Name: filepath.Base(in), SHA256: sum}}, Params: map[string]string{}}
	s := &Summary{Classes: map[string]int{}}
	var w *data.Writer
	buf := make([]data.Record, 0, 1024)
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		err := w.Write(buf)
		buf = buf[:0]
		return err
	}
	capture := filepath.Base(in)
	emit := func(line int, rec *data.Record) error {
		if w == nil {
			if w, err = data.Create(out, meta); err != nil {
				return err
			}
		}
		if rec.Capture == "" {
			rec.Capture = capture
		}
		if rec.Service == "" {
			rec.Service = rec.Label
		}
		if rec.Category == "" {
			rec.Category = "unknown"
		}
		s.Rows++
		s.Classes[rec.Label]++
		buf = append(buf, *rec)
		if len(buf) == cap(buf) {
			return flush()
		}
		return nil
	}
	bad := func(err error) error {
		if !opts.SkipBad {
			return err
		}
		s.Skipped++
		log.Warn("skipped bad row", "err", err)
		return nil
	}
	err = src.read(ctx, f, in, &meta, emit, bad)
	if err == nil && w == nil {
		// An input with a header but no rows still gives a (empty) dataset.
		w, err = data.Create(out, meta)
	}
	if err == nil {
		err = flush()
	}
	if err != nil {
		if w != nil {
			w.Abort()
		}
		return nil, fmt.Errorf("import %s: %w", in, err)
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	s.Meta = meta
	return s, nil
}

// parseNum parses a number; "?" and "" are missing (NaN, ok=false).
func parseNum(s string) (float64, bool, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "?" {
		return 0, false, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false, fmt.Errorf("%q is not a number", s)
	}
	return v, true, nil
}

// toInt32 rounds v into the int32 range.
func toInt32(v float64) int32 {
	switch {
	case v != v:
		return 0
	case v >= 2147483647:
		return 2147483647
	case v <= -2147483648:
		return -2147483648
	}
	if v < 0 {
		return int32(v - 0.5)
	}
	return int32(v + 0.5)
}

func sign(v int32) int32 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// csvRows reads cr row by row until EOF, checking ctx every 4096 rows, and calls fn with each
// row's 1-based line and fields. A row whose field count differs from the first row's is handed
// to onFieldCount when it is non-nil (importers skip it under --skip-bad); any other parse error
// names the file and line.
func csvRows(ctx context.Context, cr *csv.Reader, name string, onFieldCount func(line, n int) error, fn func(line int, fields []string) error) error {
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		fields, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		line := 0
		if err == nil && len(fields) > 0 {
			line, _ = cr.FieldPos(0)
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
				if onFieldCount != nil && errors.Is(pe.Err, csv.ErrFieldCount) {
					if err := onFieldCount(line, len(fields)); err != nil {
						return err
					}
					continue
				}
			}
			return rowErr(name, line, "%v", err)
		}
		if err := fn(line, fields); err != nil {
			return err
		}
	}
}

// parseExtras parses the feature columns feat of a row into the extra list; a missing value ("?"
// or empty) is NaN, a bad one an error naming its column.
func parseExtras(fields, header []string, feat []int) ([]float32, error) {
	out := make([]float32, len(feat))
	for j, i := range feat {
		v, ok, err := parseNum(fields[i])
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", header[i], err)
		}
		if !ok {
			v = math.NaN()
		}
		out[j] = float32(v)
	}
	return out, nil
}
