package importers

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"slices"
	"strings"

	"github.com/etchlab/etch/data"
)

// Sequence channels the csv importer fills (Options.Seq keys).
var seqChannels = []string{"size", "payload", "iat", "dir"}

type csvSource struct {
	opts Options
}

func newCSVSource(opts Options) (*csvSource, error) {
	for ch := range opts.Seq {
		if !slices.Contains(seqChannels, ch) {
			return nil, fmt.Errorf("sequence channel %q: want one of %s", ch, strings.Join(seqChannels, ", "))
		}
	}
	if opts.LabelCol == "" {
		opts.LabelCol = "label"
	}
	return &csvSource{opts: opts}, nil
}

// matchCols resolves a column spec against the header: names and patterns, in header order per
// pattern, each column once.
func matchCols(spec string, header []string) ([]int, error) {
	var out []int
	for _, pat := range strings.Split(spec, ",") {
		pat = strings.TrimSpace(pat)
		if pat == "" {
			continue
		}
		if _, err := path.Match(pat, ""); err != nil {
			return nil, fmt.Errorf("column pattern %q: %w", pat, err)
		}
		found := false
		for i, h := range header {
			if ok, _ := path.Match(pat, h); ok && !slices.Contains(out, i) {
				out = append(out, i)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("no column matches %q", pat)
		}
	}
	return out, nil
}

// parseList parses a cell holding a sequence: numbers separated by ';', ',' or blanks, optionally
// in brackets.
func parseList(s string) ([]float64, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' || r == ' ' || r == '\t' })
	out := make([]float64, 0, len(f))
	for _, x := range f {
		v, ok, err := parseNum(x)
		if err != nil {
			return nil, err
		}
		if !ok {
			v = 0
		}
		out = append(out, v)
	}
	return out, nil
}

func (c *csvSource) read(ctx context.Context, r io.Reader, name string, meta *data.Meta, emit func(int, *data.Record) error, bad func(error) error) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 0
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return rowErr(name, 1, "empty file (a header line is needed)")
		}
		return rowErr(name, 1, "%v", err)
	}
	header = slices.Clone(header)
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	col := func(n string) (int, error) {
		if n == "" {
			return -1, nil
		}
		i := slices.Index(header, n)
		if i < 0 {
			return -1, fmt.Errorf("%s: no column %q (header: %s)", name, n, truncate(strings.Join(header, ",")))
		}
		return i, nil
	}
	label, err := col(c.opts.LabelCol)
	if err != nil {
		return err
	}
	service, err := col(c.opts.ServiceCol)
	if err != nil {
		return err
	}
	category, err := col(c.opts.CategoryCol)
	if err != nil {
		return err
	}
	group, err := col(c.opts.GroupCol)
	if err != nil {
		return err
	}
	used := []int{label, service, category, group}
	seq := map[string][]int{}
	for _, ch := range seqChannels {
		spec, ok := c.opts.Seq[ch]
		if !ok {
			continue
		}
		cols, err := matchCols(spec, header)
		if err != nil {
			return fmt.Errorf("%s: --seq %s: %w", name, ch, err)
		}
		seq[ch] = cols
		used = append(used, cols...)
	}
	var feat []int
	if c.opts.Features != "" {
		if feat, err = matchCols(c.opts.Features, header); err != nil {
			return fmt.Errorf("%s: --features: %w", name, err)
		}
	}
	// Width of each sequence: the number of columns, or (list cells) found on the first row.
	seqLen := 0
	for _, cols := range seq {
		if len(cols) > 1 {
			seqLen = max(seqLen, len(cols))
		}
	}
	first := true
	onFieldCount := func(line, n int) error {
		return bad(rowErr(name, line, "%d fields, header has %d", n, len(header)))
	}
	return csvRows(ctx, cr, name, onFieldCount, func(line int, fields []string) error {
		if first {
			first = false
			if c.opts.Features == "" {
				// Default features: every other column that holds a number on the first row.
				for i, f := range fields {
					if _, ok, err := parseNum(f); ok && err == nil && !slices.Contains(used, i) {
						feat = append(feat, i)
					}
				}
			}
			for _, i := range feat {
				meta.ExtraNames = append(meta.ExtraNames, header[i])
			}
			for _, cols := range seq {
				if len(cols) == 1 {
					l, err := parseList(fields[cols[0]])
					if err != nil {
						return rowErr(name, line, "column %s: %w", header[cols[0]], err)
					}
					seqLen = max(seqLen, len(l))
				}
			}
			if len(seq) > 0 {
				meta.SeqLen = seqLen
			}
		}
		rec, err := c.record(fields, header, label, service, category, group, seq, feat, seqLen)
		if err != nil {
			if err := bad(rowErr(name, line, "%w", err)); err != nil {
				return err
			}
			return nil
		}
		if err := emit(line, rec); err != nil {
			return err
		}
		return nil
	})
}

func (c *csvSource) record(fields, header []string, label, service, category, group int, seq map[string][]int, feat []int, seqLen int) (*data.Record, error) {
	rec := &data.Record{Label: fields[label]}
	if rec.Label == "" {
		return nil, fmt.Errorf("empty label in column %s", header[label])
	}
	if service >= 0 {
		rec.Service = fields[service]
	}
	if category >= 0 {
		rec.Category = fields[category]
	}
	if group >= 0 {
		rec.Capture = fields[group]
	}
	for ch, cols := range seq {
		var vals []float64
		if len(cols) == 1 {
			l, err := parseList(fields[cols[0]])
			if err != nil {
				return nil, fmt.Errorf("column %s: %w", header[cols[0]], err)
			}
			vals = l
		} else {
			for _, i := range cols {
				v, _, err := parseNum(fields[i])
				if err != nil {
					return nil, fmt.Errorf("column %s: %w", header[i], err)
				}
				vals = append(vals, v)
			}
		}
		if len(vals) > seqLen {
			return nil, fmt.Errorf("sequence %s has %d values, the first row had %d", ch, len(vals), seqLen)
		}
		out := make([]int32, seqLen)
		for t, v := range vals {
			if math.IsInf(v, 0) {
				return nil, fmt.Errorf("sequence %s: infinite value", ch)
			}
			out[t] = toInt32(v)
		}
		switch ch {
		case "size":
			rec.SeqSize = out
		case "payload":
			rec.SeqPayload = out
		case "iat":
			rec.SeqIATUS = out
		case "dir":
			rec.SeqDir = out
		}
	}
	// Fill the missing channels with zeros so that every list has the same length; derive the
	// direction from signed sizes and sign the sizes from a direction column.
	if seqLen > 0 {
		for _, p := range []*[]int32{&rec.SeqSize, &rec.SeqPayload, &rec.SeqIATUS, &rec.SeqDir} {
			if *p == nil {
				*p = make([]int32, seqLen)
			}
		}
		_, hasDir := seq["dir"]
		for t := range seqLen {
			s := rec.SeqSize[t]
			if !hasDir {
				rec.SeqDir[t] = sign(s)
			} else if d := sign(rec.SeqDir[t]); d != 0 {
				rec.SeqDir[t] = d
				rec.SeqSize[t] = d * max(s, -s)
			}
		}
	}
	if len(feat) > 0 {
		extra, err := parseExtras(fields, header, feat)
		if err != nil {
			return nil, err
		}
		rec.Extra = extra
	}
	return rec, nil
}
