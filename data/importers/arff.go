package importers

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/etchlab/etch/data"
)

// Attribute is one ARFF attribute: its name, type (numeric, string, date or nominal) and, for
// nominal attributes, the allowed values.
type Attribute struct {
	Name   string
	Type   string
	Values []string
}

// ARFF reads a Weka ARFF file: the header first (NewARFF), then data rows one by one (Next).
// Dense and sparse ({index value, ...}) rows, quoted names and values, '%' comments and CRLF
// line ends are supported; '?' is a missing value.
type ARFF struct {
	Relation   string
	Attributes []Attribute

	name string
	br   *bufio.Reader
	line int
	row  []string
}

// maxARFFLine bounds a line (a row of thousands of attributes fits easily).
const maxARFFLine = 16 << 20

// NewARFF reads the header of an ARFF file (up to and including @data). name is used in errors.
func NewARFF(r io.Reader, name string) (*ARFF, error) {
	a := &ARFF{name: name, br: bufio.NewReaderSize(r, 1<<16)}
	for {
		s, err := a.readLine()
		if errors.Is(err, io.EOF) {
			return nil, rowErr(name, a.line, "no @data section")
		}
		if err != nil {
			return nil, err
		}
		if s == "" {
			continue
		}
		word, rest := cutWord(s)
		switch strings.ToLower(word) {
		case "@relation":
			name, _, err := a.token(rest)
			if err != nil {
				return nil, err
			}
			a.Relation = name
		case "@attribute":
			at, err := a.attribute(rest)
			if err != nil {
				return nil, err
			}
			for _, o := range a.Attributes {
				if o.Name == at.Name {
					return nil, rowErr(name, a.line, "attribute %q declared twice", at.Name)
				}
			}
			a.Attributes = append(a.Attributes, at)
		case "@data":
			if len(a.Attributes) == 0 {
				return nil, rowErr(name, a.line, "@data before any @attribute")
			}
			return a, nil
		default:
			return nil, rowErr(name, a.line, "unexpected %q in the header", truncate(s))
		}
	}
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// readLine returns the next line without its line end and surrounding blanks; comment lines
// come back empty.
func (a *ARFF) readLine() (string, error) {
	var b []byte
	for {
		chunk, err := a.br.ReadSlice('\n')
		b = append(b, chunk...)
		if len(b) > maxARFFLine {
			a.line++
			return "", rowErr(a.name, a.line, "line longer than %d bytes", maxARFFLine)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read %s: %w", a.name, err)
		}
		if len(b) == 0 && err != nil {
			return "", io.EOF
		}
		a.line++
		s := strings.TrimSpace(string(b))
		if strings.HasPrefix(s, "%") {
			s = ""
		}
		return s, nil
	}
}

func cutWord(s string) (string, string) {
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i:])
}

// token reads a possibly quoted token from s and returns it and the rest.
func (a *ARFF) token(s string) (string, string, error) {
	s = strings.TrimLeft(s, " \t")
	if s == "" {
		return "", "", rowErr(a.name, a.line, "missing name")
	}
	if q := s[0]; q == '\'' || q == '"' {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			c := s[i]
			switch {
			case c == '\\' && i+1 < len(s):
				i++
				b.WriteByte(s[i])
			case c == q:
				return b.String(), strings.TrimSpace(s[i+1:]), nil
			default:
				b.WriteByte(c)
			}
		}
		return "", "", rowErr(a.name, a.line, "unterminated quote")
	}
	end := strings.IndexAny(s, " \t{")
	if end < 0 {
		return s, "", nil
	}
	return s[:end], strings.TrimSpace(s[end:]), nil
}

func (a *ARFF) attribute(s string) (Attribute, error) {
	name, rest, err := a.token(s)
	if err != nil {
		return Attribute{}, err
	}
	at := Attribute{Name: name}
	if strings.HasPrefix(rest, "{") {
		end := strings.LastIndexByte(rest, '}')
		if end < 0 {
			return at, rowErr(a.name, a.line, "attribute %q: unterminated {", name)
		}
		vals, err := a.split(rest[1:end])
		if err != nil {
			return at, err
		}
		at.Type, at.Values = "nominal", vals
		return at, nil
	}
	typ, _ := cutWord(rest)
	switch t := strings.ToLower(typ); t {
	case "numeric", "real", "integer":
		at.Type = "numeric"
	case "string", "date":
		at.Type = t
	case "":
		return at, rowErr(a.name, a.line, "attribute %q has no type", name)
	default:
		return at, rowErr(a.name, a.line, "attribute %q: unsupported type %q", name, typ)
	}
	return at, nil
}

// split splits a comma-separated list with optional quotes.
func (a *ARFF) split(s string) ([]string, error) {
	var out []string
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			if len(out) > 0 {
				out = append(out, "")
			}
			return out, nil
		}
		var v string
		if q := s[0]; q == '\'' || q == '"' {
			var err error
			v, s, err = a.token(s)
			if err != nil {
				return nil, err
			}
		} else {
			i := strings.IndexByte(s, ',')
			if i < 0 {
				i = len(s)
			}
			v, s = strings.TrimSpace(s[:i]), s[i:]
		}
		out = append(out, v)
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return out, nil
		}
		if s[0] != ',' {
			return nil, rowErr(a.name, a.line, "expected ',' at %q", truncate(s))
		}
		s = s[1:]
		if strings.TrimSpace(s) == "" {
			return nil, rowErr(a.name, a.line, "trailing ','")
		}
	}
}

// Next returns the next data row (one string per attribute, "?" for missing) and its line
// number; io.EOF after the last. The returned slice is reused by the next call.
func (a *ARFF) Next() ([]string, int, error) {
	for {
		s, err := a.readLine()
		if err != nil {
			return nil, a.line, err
		}
		if s == "" {
			continue
		}
		if strings.HasPrefix(s, "{") {
			return a.sparse(s)
		}
		vals, err := a.split(s)
		if err != nil {
			return nil, a.line, err
		}
		if len(vals) != len(a.Attributes) {
			return nil, a.line, rowErr(a.name, a.line, "%d values, want %d", len(vals), len(a.Attributes))
		}
		a.row = vals
		return a.row, a.line, nil
	}
}

func (a *ARFF) sparse(s string) ([]string, int, error) {
	end := strings.LastIndexByte(s, '}')
	if end < 0 {
		return nil, a.line, rowErr(a.name, a.line, "unterminated sparse row")
	}
	a.row = a.row[:0]
	for _, at := range a.Attributes {
		if at.Type == "nominal" && len(at.Values) > 0 {
			a.row = append(a.row, at.Values[0])
		} else {
			a.row = append(a.row, "0")
		}
	}
	items, err := a.split(s[1:end])
	if err != nil {
		return nil, a.line, err
	}
	for _, it := range items {
		idx, val := cutWord(it)
		i, err := strconv.Atoi(idx)
		if err != nil || i < 0 || i >= len(a.Attributes) {
			return nil, a.line, rowErr(a.name, a.line, "sparse index %q outside [0,%d)", idx, len(a.Attributes))
		}
		if v, _, err := a.token(val); err == nil {
			val = v
		}
		a.row[i] = val
	}
	return a.row, a.line, nil
}

type arffSource struct {
	labelCol string
	trim     string
}

func (s *arffSource) read(ctx context.Context, r io.Reader, name string, meta *data.Meta, emit func(int, *data.Record) error, bad func(error) error) error {
	a, err := NewARFF(r, name)
	if err != nil {
		return err
	}
	label := -1
	if s.labelCol != "" {
		for i, at := range a.Attributes {
			if at.Name == s.labelCol {
				label = i
			}
		}
		if label < 0 {
			return fmt.Errorf("%s: no attribute %q for the label", name, s.labelCol)
		}
	} else {
		for i, at := range a.Attributes {
			if at.Type == "nominal" {
				label = i
			}
		}
		if label < 0 {
			return fmt.Errorf("%s: no nominal attribute for the label (name one with --label-col)", name)
		}
	}
	var feat []int
	for i, at := range a.Attributes {
		if i != label && at.Type == "numeric" {
			feat = append(feat, i)
			meta.ExtraNames = append(meta.ExtraNames, at.Name)
		}
	}
	meta.Params["relation"] = a.Relation
	meta.Params["label_attribute"] = a.Attributes[label].Name
	trim := s.trim
	if trim == "" {
		trim = "VPN-"
	}
	if trim == "-" {
		trim = ""
	}
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		row, line, err := a.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			var re *RowError
			if errors.As(err, &re) {
				if err := bad(err); err != nil {
					return err
				}
				continue
			}
			return err
		}
		rec := &data.Record{Label: row[label], Extra: make([]float32, len(feat))}
		if at := a.Attributes[label]; at.Type == "nominal" && !slices.Contains(at.Values, rec.Label) {
			if err := bad(rowErr(name, line, "class %q is not one of %s's values", rec.Label, at.Name)); err != nil {
				return err
			}
			continue
		}
		if rec.Label == "?" {
			if err := bad(rowErr(name, line, "missing class")); err != nil {
				return err
			}
			continue
		}
		rec.Category = strings.TrimPrefix(rec.Label, trim)
		var rowErrv error
		for j, i := range feat {
			v, ok, err := parseNum(row[i])
			if err != nil {
				rowErrv = rowErr(name, line, "attribute %s: %w", a.Attributes[i].Name, err)
				break
			}
			if !ok {
				v = math.NaN()
			}
			rec.Extra[j] = float32(v)
		}
		if rowErrv != nil {
			if err := bad(rowErrv); err != nil {
				return err
			}
			continue
		}
		if err := emit(line, rec); err != nil {
			return err
		}
	}
}
