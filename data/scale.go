package data

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// Scaling methods.
const (
	ScaleNone     = "none"     // only the optional log1p
	ScaleMinMax   = "minmax"   // to [0, 1] over the training rows
	ScaleStandard = "standard" // zero mean, unit variance over the training rows
)

// ErrScaler reports a scaler that does not fit the data it is applied to.
var ErrScaler = errors.New("scaler does not fit the data")

// ScaleOptions configures Fit.
type ScaleOptions struct {
	// Method is ScaleNone, ScaleMinMax or ScaleStandard ("" is ScaleStandard).
	Method string
	// Log names the features (Tab names or Seq channels) that get sign(x)·log1p(|x|) before the
	// affine step: heavy-tailed inter-arrival times, typically IATNames(d).
	Log []string
}

// IATNames returns the Tab features and Seq channels of d that hold inter-arrival times (their
// name contains "iat"), the usual candidates for ScaleOptions.Log.
func IATNames(d *Dataset) []string {
	var out []string
	for _, n := range slices.Concat(d.TabNames, d.SeqChannels) {
		if strings.Contains(strings.ToLower(n), "iat") {
			out = append(out, n)
		}
	}
	return out
}

// Scale is the transformation of one feature: y = (g(x) − Shift) · Mul, where g is
// sign(x)·log1p(|x|) when Log is set and the identity otherwise.
type Scale struct {
	Name  string  `json:"name"`
	Log   bool    `json:"log,omitempty"`
	Shift float64 `json:"shift"`
	Mul   float64 `json:"mul"`
}

// Scaler scales a Dataset's Tab columns and Seq channels. It is fitted on training rows only
// (Fit) and applied to every split (Transform, Apply); it marshals to JSON so that saved models
// carry it.
type Scaler struct {
	Method string  `json:"method"`
	Tab    []Scale `json:"tab"`
	Seq    []Scale `json:"seq"`
}

func logf(x float64) float64 {
	if x < 0 {
		return -math.Log1p(-x)
	}
	return math.Log1p(x)
}

// moments accumulates what the methods need over a stream of values.
type moments struct {
	n             float64
	mean, m2      float64
	lo, hi        float64
	seenAny, logf bool
}

func (m *moments) add(x float64) {
	if m.logf {
		x = logf(x)
	}
	if !m.seenAny {
		m.lo, m.hi, m.seenAny = x, x, true
	}
	m.lo, m.hi = min(m.lo, x), max(m.hi, x)
	m.n++
	d := x - m.mean
	m.mean += d / m.n
	m.m2 += d * (x - m.mean)
}

func (m *moments) scale(name, method string) (Scale, error) {
	s := Scale{Name: name, Log: m.logf, Mul: 1}
	switch method {
	case ScaleNone:
	case ScaleMinMax:
		s.Shift = m.lo
		if r := m.hi - m.lo; r > 0 {
			s.Mul = 1 / r
		}
	case ScaleStandard:
		s.Shift = m.mean
		if m.n > 0 {
			if sd := math.Sqrt(m.m2 / m.n); sd > 0 {
				s.Mul = 1 / sd
			}
		}
	default:
		return s, fmt.Errorf("scale method %q: want none, minmax or standard", method)
	}
	return s, nil
}

// Fit computes a scaler from the rows train of d (indices into d's rows; every row when nil).
// Sequences are scaled per channel over all time steps, including zero padding.
func Fit(d *Dataset, train []int, opts ScaleOptions) (*Scaler, error) {
	method := opts.Method
	if method == "" {
		method = ScaleStandard
	}
	for _, n := range opts.Log {
		if !slices.Contains(d.TabNames, n) && !slices.Contains(d.SeqChannels, n) {
			return nil, fmt.Errorf("scale: log feature %q is not loaded", n)
		}
	}
	rows := train
	if rows == nil {
		rows = make([]int, d.N)
		for i := range rows {
			rows[i] = i
		}
	}
	td, C, L := d.TabDim(), len(d.SeqChannels), d.SeqLen
	tab := make([]moments, td)
	for j := range tab {
		tab[j].logf = slices.Contains(opts.Log, d.TabNames[j])
	}
	seq := make([]moments, C)
	for c := range seq {
		seq[c].logf = slices.Contains(opts.Log, d.SeqChannels[c])
	}
	for _, r := range rows {
		if r < 0 || r >= d.N {
			return nil, fmt.Errorf("scale: training row %d outside [0,%d)", r, d.N)
		}
		for j, x := range d.Tab[r*td : (r+1)*td] {
			tab[j].add(float64(x))
		}
		s := d.Seq[r*L*C : (r+1)*L*C]
		for i, x := range s {
			seq[i%C].add(float64(x))
		}
	}
	sc := &Scaler{Method: method}
	for j := range tab {
		s, err := tab[j].scale(d.TabNames[j], method)
		if err != nil {
			return nil, err
		}
		sc.Tab = append(sc.Tab, s)
	}
	for c := range seq {
		s, err := seq[c].scale(d.SeqChannels[c], method)
		if err != nil {
			return nil, err
		}
		sc.Seq = append(sc.Seq, s)
	}
	return sc, nil
}

// Transform scales d's Tab and Seq in place. The scaler must have been fitted on data with the
// same features (by name, in order).
func (s *Scaler) Transform(d *Dataset) error {
	return s.Apply(d.TabNames, d.Tab, d.SeqChannels, d.Seq)
}

// Apply scales row-major slabs in place: tab is N×len(tabNames), seq is N×L×len(channels) (the
// Dataset layout). The names must be those the scaler was fitted on, in order.
func (s *Scaler) Apply(tabNames []string, tab []float32, channels []string, seq []float32) error {
	if err := checkNames("tab", s.Tab, tabNames); err != nil {
		return err
	}
	if err := checkNames("seq", s.Seq, channels); err != nil {
		return err
	}
	applyStrided(tab, s.Tab)
	applyStrided(seq, s.Seq)
	return nil
}

func checkNames(what string, sc []Scale, names []string) error {
	if len(sc) != len(names) {
		return fmt.Errorf("%w: %d %s features, scaler has %d", ErrScaler, len(names), what, len(sc))
	}
	for i := range sc {
		if sc[i].Name != names[i] {
			return fmt.Errorf("%w: %s feature %d is %q, scaler has %q", ErrScaler, what, i, names[i], sc[i].Name)
		}
	}
	return nil
}

// applyStrided scales vals whose feature index is position mod len(sc).
func applyStrided(vals []float32, sc []Scale) {
	k := len(sc)
	if k == 0 {
		return
	}
	shift := make([]float32, k)
	mul := make([]float32, k)
	logs := false
	for i, s := range sc {
		shift[i], mul[i] = float32(s.Shift), float32(s.Mul)
		logs = logs || s.Log
	}
	for o := 0; o+k <= len(vals); o += k {
		row := vals[o : o+k]
		for i, x := range row {
			if logs && sc[i].Log {
				x = float32(logf(float64(x)))
			}
			row[i] = (x - shift[i]) * mul[i]
		}
	}
}

// WriteJSON writes the scaler as JSON.
func (s *Scaler) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// ReadScaler reads a scaler written by WriteJSON, rejecting unknown fields and methods.
func ReadScaler(r io.Reader) (*Scaler, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var s Scaler
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("read scaler: %w", err)
	}
	switch s.Method {
	case ScaleNone, ScaleMinMax, ScaleStandard:
	default:
		return nil, fmt.Errorf("read scaler: method %q: want none, minmax or standard", s.Method)
	}
	for _, sc := range slices.Concat(s.Tab, s.Seq) {
		if math.IsNaN(sc.Shift) || math.IsNaN(sc.Mul) || math.IsInf(sc.Shift, 0) || math.IsInf(sc.Mul, 0) {
			return nil, fmt.Errorf("read scaler: feature %q: non-finite parameters", sc.Name)
		}
	}
	return &s, nil
}
