package data

import (
	"fmt"
	"reflect"
	"slices"
)

// Encoder turns single records into feature rows: the values Load gives for the same features,
// bit for bit (numbers are converted to float32 as the loader converts column values), so that
// flows seen one at a time — real-time classification — meet a model exactly as a loaded flows
// file does. Extra (imported) features cannot be encoded: captures have none.
type Encoder struct {
	tab    []tabField
	stats  bool
	seq    []int // per channel: 0 size, 1 payload, 2 iat, 3 dir (SeqGroups order)
	seqLen int
	vec    [NumStats]float64
}

// tabField is where one tabular feature comes from: a Stats index, or a Record field.
type tabField struct {
	stat  int // index into StatNames, or -1
	index []int
}

// NewEncoder returns an encoder for the tabular features tabNames (Dataset.TabNames: statistics
// and scalar numeric columns by name) and the sequence channels channels, truncated to seqLen
// steps (Dataset.SeqLen). Unknown names give an error matching ErrSchema.
func NewEncoder(tabNames, channels []string, seqLen int) (*Encoder, error) {
	e := &Encoder{seqLen: seqLen}
	fields := scalarFields()
	for _, n := range tabNames {
		if i := slices.Index(StatNames[:], n); i >= 0 {
			e.tab = append(e.tab, tabField{stat: i})
			e.stats = true
			continue
		}
		idx, ok := fields[n]
		if !ok {
			return nil, fmt.Errorf("%w: feature %q is not a numeric column of extracted flows", ErrSchema, n)
		}
		e.tab = append(e.tab, tabField{stat: -1, index: idx})
	}
	for _, c := range channels {
		i := slices.Index(SeqGroups[:], c)
		if i < 0 {
			return nil, fmt.Errorf("%w: sequence channel %q", ErrSchema, c)
		}
		e.seq = append(e.seq, i)
	}
	if len(channels) > 0 && seqLen <= 0 {
		return nil, fmt.Errorf("%w: sequence length %d", ErrSchema, seqLen)
	}
	return e, nil
}

// scalarFields maps the numeric scalar columns of Record (Stats excluded) to field indices.
func scalarFields() map[string][]int {
	out := map[string][]int{}
	t := reflect.TypeFor[Record]()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous {
			continue
		}
		switch f.Type.Kind() {
		case reflect.Bool, reflect.Int32, reflect.Int64, reflect.Float32, reflect.Float64:
			out[columnName(f)] = f.Index
		}
	}
	return out
}

// TabDim returns the number of tabular values per row; SeqDim the number of sequence values.
func (e *Encoder) TabDim() int { return len(e.tab) }

// SeqDim returns the number of sequence values per row (SeqLen × channels).
func (e *Encoder) SeqDim() int { return len(e.seq) * e.seqLen }

// Encode writes r's features into tab (len TabDim) and seq (len SeqDim, time step major, the
// Dataset layout). Sequences shorter than the encoder's length are zero-padded.
func (e *Encoder) Encode(r *Record, tab, seq []float32) {
	if e.stats {
		r.Stats.Vector(e.vec[:])
	}
	var rv reflect.Value
	for j, f := range e.tab {
		if f.stat >= 0 {
			tab[j] = float32(e.vec[f.stat])
			continue
		}
		if !rv.IsValid() {
			rv = reflect.ValueOf(r).Elem()
		}
		tab[j] = float32(fieldFloat(rv.FieldByIndex(f.index)))
	}
	C := len(e.seq)
	if C == 0 {
		return
	}
	for c, ch := range e.seq {
		var src []int32
		switch ch {
		case 0:
			src = r.SeqSize
		case 1:
			src = r.SeqPayload
		case 2:
			src = r.SeqIATUS
		case 3:
			src = r.SeqDir
		}
		n := min(len(src), e.seqLen)
		for t, x := range src[:n] {
			seq[t*C+c] = float32(x)
		}
		for t := n; t < e.seqLen; t++ {
			seq[t*C+c] = 0
		}
	}
}

// fieldFloat converts a numeric field as the loader converts a column value (valueFloat).
func fieldFloat(v reflect.Value) float64 {
	switch v.Kind() {
	case reflect.Bool:
		if v.Bool() {
			return 1
		}
		return 0
	case reflect.Int32, reflect.Int64:
		return float64(v.Int())
	case reflect.Float32, reflect.Float64:
		return v.Float()
	}
	return 0
}
