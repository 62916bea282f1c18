package importers

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"

	"github.com/etchlab/etch/data"
)

// GCseq layouts.
const (
	// LayoutSigned100: label, then 100 signed packet sizes (+ client→server, − server→client,
	// 0 padding).
	LayoutSigned100 = "signed100"
	// LayoutStudy4x25: label, then 4 blocks of 25: packet size, payload size, inter-arrival time,
	// direction (the reference study's own layout). Sizes are unsigned there; the sign is taken
	// from the direction block. Inter-arrival times are stored as given (the study's unit).
	LayoutStudy4x25 = "study4x25"
)

type gcseqSource struct {
	layout string
	n      int // sequence length
}

func newGCSeq(layout string) (*gcseqSource, error) {
	switch layout {
	case "", LayoutSigned100:
		return &gcseqSource{layout: LayoutSigned100, n: 100}, nil
	case LayoutStudy4x25:
		return &gcseqSource{layout: LayoutStudy4x25, n: 25}, nil
	}
	return nil, fmt.Errorf("gcseq layout %q: want %s or %s", layout, LayoutSigned100, LayoutStudy4x25)
}

func (g *gcseqSource) columns() int {
	if g.layout == LayoutSigned100 {
		return 1 + 100
	}
	return 1 + 4*25
}

func (g *gcseqSource) read(ctx context.Context, r io.Reader, name string, meta *data.Meta, emit func(int, *data.Record) error, bad func(error) error) error {
	meta.SeqLen = g.n
	meta.Params["layout"] = g.layout
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	vals := make([]float64, g.columns()-1)
	row := -1
	return csvRows(ctx, cr, name, nil, func(line int, fields []string) error {
		row++
		if len(fields) != g.columns() {
			err := rowErr(name, line, "%w: %d columns, layout %s wants %d (label + %s)", ErrLayout, len(fields), g.layout, g.columns(), g.describe())
			if row == 0 {
				return err // the whole file is in another layout
			}
			if err := bad(err); err != nil {
				return err
			}
			return nil
		}
		parseErr := error(nil)
		for i, f := range fields[1:] {
			v, ok, err := parseNum(f)
			if err == nil && (!ok || math.IsInf(v, 0)) {
				err = fmt.Errorf("%q is not a finite number", f)
			}
			if err != nil {
				parseErr = rowErr(name, line, "column %d: %w", i+2, err)
				break
			}
			vals[i] = v
		}
		if parseErr != nil {
			if row == 0 {
				return nil // a header line
			}
			if err := bad(parseErr); err != nil {
				return err
			}
			return nil
		}
		if err := g.check(vals); err != nil {
			err = rowErr(name, line, "%w: %v", ErrLayout, err)
			if row == 0 {
				return err
			}
			if err := bad(err); err != nil {
				return err
			}
			return nil
		}
		rec := &data.Record{Label: fields[0]}
		g.fill(rec, vals)
		if err := emit(line, rec); err != nil {
			return err
		}
		return nil
	})
}

// check rejects rows that cannot be in the layout: both layouts have 101 columns, so the
// values tell them apart. Packet sizes are at least 20 bytes (an IP header), so ±1..19 in a
// signed100 row means another layout; a study4x25 direction block holds only −1, 0 and +1.
func (g *gcseqSource) check(v []float64) error {
	if g.layout == LayoutSigned100 {
		for t, x := range v {
			if a := math.Abs(x); a > 0 && a < 20 {
				return fmt.Errorf("value %v at column %d is no packet size (is the file in layout %s?)", x, t+2, LayoutStudy4x25)
			}
		}
		return nil
	}
	for t, x := range v[3*g.n:] {
		if x != 0 && x != 1 && x != -1 {
			return fmt.Errorf("direction block: value %v at column %d is not -1, 0 or 1 (is the file in layout %s?)", x, 3*g.n+t+2, LayoutSigned100)
		}
	}
	return nil
}

func (g *gcseqSource) describe() string {
	if g.layout == LayoutSigned100 {
		return "100 signed sizes"
	}
	return "4×25: size, payload, iat, direction"
}

func (g *gcseqSource) fill(rec *data.Record, v []float64) {
	n := g.n
	rec.SeqSize = make([]int32, n)
	rec.SeqPayload = make([]int32, n)
	rec.SeqIATUS = make([]int32, n)
	rec.SeqDir = make([]int32, n)
	switch g.layout {
	case LayoutSigned100:
		for t := range n {
			s := toInt32(v[t])
			rec.SeqSize[t] = s
			rec.SeqDir[t] = sign(s)
		}
	default:
		for t := range n {
			dir := sign(toInt32(v[3*n+t]))
			size := toInt32(math.Abs(v[t]))
			if dir < 0 {
				size = -size
			} else if dir == 0 && v[t] < 0 {
				size, dir = -size, -1
			} else if dir == 0 && size != 0 {
				dir = 1
			}
			rec.SeqSize[t] = size
			rec.SeqPayload[t] = toInt32(math.Abs(v[n+t]))
			rec.SeqIATUS[t] = toInt32(v[2*n+t])
			rec.SeqDir[t] = dir
		}
	}
}
