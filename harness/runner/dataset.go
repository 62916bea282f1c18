package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/etchlab/etch/data"
)

// LoadOptions selects what is loaded from a flows file; it mirrors data.LoadOptions.
type LoadOptions struct {
	Features []string `json:"features"`
	Label    string   `json:"label"`
	TopN     int      `json:"top_n,omitempty"`
	MinCount int      `json:"min_count,omitempty"`
	Other    bool     `json:"other,omitempty"`
	Packets  int      `json:"packets,omitempty"`
	Group    string   `json:"group,omitempty"`
}

// Dataset is a loaded, filtered flows file in the columnar layout models consume; it mirrors
// data.Dataset (row-major Tab, one contiguous Seq slab N×SeqLen×channels, raw values).
type Dataset struct {
	Path        string
	Meta        data.Meta
	Rows        int
	N           int
	Tab         []float32
	TabNames    []string
	Seq         []float32
	SeqLen      int
	SeqChannels []string
	Y           []int32
	ClassNames  []string
	ClassCounts []int
	Groups      []int32
}

// TabDim returns the number of tabular features per row.
func (d *Dataset) TabDim() int { return len(d.TabNames) }

// SeqDim returns the number of sequence values per row.
func (d *Dataset) SeqDim() int { return d.SeqLen * len(d.SeqChannels) }

// LoadDataset loads a flows file. This is the one place that reads datasets: it is a stand-in
// for data.Load (the columnar, projected loader) until that lands, reading whole records with
// data.ReadAll and applying the same semantics (feature groups, label column, min-count then
// top-N filtering with an optional "other" class, sequence truncation, grouping column).
func LoadDataset(ctx context.Context, path string, opts LoadOptions) (*Dataset, error) {
	recs, meta, err := data.ReadAll(path)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d := &Dataset{Path: path, Meta: meta, Rows: len(recs)}
	labelOf, err := labelFunc(opts.Label)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	// Classes: descending count, then name; min-count before top-N; "other" last.
	counts := map[string]int{}
	for i := range recs {
		counts[labelOf(&recs[i])]++
	}
	names := make([]string, 0, len(counts))
	for k := range counts {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		if counts[names[i]] != counts[names[j]] {
			return counts[names[i]] > counts[names[j]]
		}
		return names[i] < names[j]
	})
	kept := names[:0:0]
	for _, n := range names {
		if counts[n] >= opts.MinCount {
			kept = append(kept, n)
		}
	}
	if opts.TopN > 0 && len(kept) > opts.TopN {
		kept = kept[:opts.TopN]
	}
	index := map[string]int32{}
	for i, n := range kept {
		index[n] = int32(i)
	}
	other := int32(-1)
	if opts.Other && len(kept) < len(names) {
		other = int32(len(kept))
		kept = append(kept, OtherClass)
	}
	d.ClassNames = kept
	d.ClassCounts = make([]int, len(kept))
	var rows []int
	for i := range recs {
		c, ok := index[labelOf(&recs[i])]
		if !ok {
			if other < 0 {
				continue
			}
			c = other
		}
		rows = append(rows, i)
		d.Y = append(d.Y, c)
		d.ClassCounts[c]++
	}
	d.N = len(rows)

	tabCols, seqCols, err := planColumns(opts.Features, meta)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	for _, c := range tabCols {
		d.TabNames = append(d.TabNames, c.name)
	}
	d.Tab = make([]float32, d.N*len(tabCols))
	for r, i := range rows {
		rec := &recs[i]
		for j, c := range tabCols {
			v, err := c.get(rec)
			if err != nil {
				return nil, fmt.Errorf("load %s: row %d: %w", path, i, err)
			}
			d.Tab[r*len(tabCols)+j] = v
		}
	}
	if len(seqCols) > 0 {
		d.SeqLen = meta.SeqLen
		if d.SeqLen == 0 && len(recs) > 0 {
			d.SeqLen = len(seqCols[0].seq(&recs[0]))
		}
		if opts.Packets > 0 && opts.Packets < d.SeqLen {
			d.SeqLen = opts.Packets
		}
		ch := len(seqCols)
		d.Seq = make([]float32, d.N*d.SeqLen*ch)
		for _, c := range seqCols {
			d.SeqChannels = append(d.SeqChannels, c.name)
		}
		for r, i := range rows {
			for k, c := range seqCols {
				s := c.seq(&recs[i])
				for t := 0; t < d.SeqLen && t < len(s); t++ {
					d.Seq[(r*d.SeqLen+t)*ch+k] = float32(s[t])
				}
			}
		}
	}
	if opts.Group != "" {
		g, err := groupFunc(opts.Group)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", path, err)
		}
		ids := map[string]int32{}
		d.Groups = make([]int32, d.N)
		for r, i := range rows {
			key := g(&recs[i])
			id, ok := ids[key]
			if !ok {
				id = int32(len(ids))
				ids[key] = id
			}
			d.Groups[r] = id
		}
	}
	return d, nil
}

func labelFunc(label string) (func(*data.Record) string, error) {
	switch label {
	case "", "label":
		return func(r *data.Record) string { return r.Label }, nil
	case "service":
		return func(r *data.Record) string { return r.Service }, nil
	case "category":
		return func(r *data.Record) string { return r.Category }, nil
	}
	return nil, fmt.Errorf("label column %q: want label, service or category", label)
}

func groupFunc(g string) (func(*data.Record) string, error) {
	switch {
	case g == "capture":
		return func(r *data.Record) string { return r.Capture }, nil
	case g == "src_ip":
		return func(r *data.Record) string { return r.SrcIP }, nil
	case g == "dst_ip":
		return func(r *data.Record) string { return r.DstIP }, nil
	case g == "sni":
		return func(r *data.Record) string { return r.SNI }, nil
	case strings.HasPrefix(g, "time:"):
		sec, err := strconv.ParseFloat(strings.TrimPrefix(g, "time:"), 64)
		if err != nil || sec <= 0 {
			return nil, fmt.Errorf("group %q: want time:SECONDS", g)
		}
		us := int64(sec * 1e6)
		return func(r *data.Record) string { return strconv.FormatInt(r.StartUS/max(us, 1), 10) }, nil
	}
	return nil, fmt.Errorf("group %q: want capture, src_ip, dst_ip, sni or time:SECONDS", g)
}

type tabCol struct {
	name string
	get  func(*data.Record) (float32, error)
}

type seqCol struct {
	name string
	seq  func(*data.Record) []int32
}

var seqFields = map[string]func(*data.Record) []int32{
	"seq_size":    func(r *data.Record) []int32 { return r.SeqSize },
	"seq_payload": func(r *data.Record) []int32 { return r.SeqPayload },
	"seq_iat_us":  func(r *data.Record) []int32 { return r.SeqIATUS },
	"seq_dir":     func(r *data.Record) []int32 { return r.SeqDir },
}

// planColumns resolves feature groups and column names into readers.
func planColumns(features []string, meta data.Meta) ([]tabCol, []seqCol, error) {
	var tabs []tabCol
	var seqs []seqCol
	seen := map[string]bool{}
	addField := func(name string) error {
		idx, ok := scalarFields()[name]
		if !ok {
			return fmt.Errorf("%w: no numeric column %q", data.ErrSchema, name)
		}
		tabs = append(tabs, tabCol{name: name, get: func(r *data.Record) (float32, error) {
			return toFloat(reflect.ValueOf(r).Elem().FieldByIndex(idx)), nil
		}})
		return nil
	}
	addExtra := func(name string, j int) {
		tabs = append(tabs, tabCol{name: name, get: func(r *data.Record) (float32, error) {
			if j >= len(r.Extra) {
				return 0, fmt.Errorf("%w: extra has %d entries, want %d", data.ErrSchema, len(r.Extra), j+1)
			}
			return r.Extra[j], nil
		}})
	}
	for _, f := range features {
		if seen[f] {
			return nil, nil, fmt.Errorf("feature %q listed twice", f)
		}
		seen[f] = true
		switch {
		case f == "stats":
			for _, n := range data.StatNames {
				if err := addField(n); err != nil {
					return nil, nil, err
				}
			}
		case f == "extra":
			if len(meta.ExtraNames) == 0 {
				return nil, nil, fmt.Errorf("%w: feature group extra: the file has no extra columns", data.ErrSchema)
			}
			for j, n := range meta.ExtraNames {
				addExtra(n, j)
			}
		case seqFields[f] != nil:
			seqs = append(seqs, seqCol{name: f, seq: seqFields[f]})
		default:
			name := strings.TrimPrefix(f, "extra:")
			if j := slices.Index(meta.ExtraNames, name); j >= 0 {
				addExtra(name, j)
				continue
			}
			if err := addField(name); err != nil {
				return nil, nil, err
			}
		}
	}
	if len(tabs) == 0 && len(seqs) == 0 {
		return nil, nil, fmt.Errorf("no features selected")
	}
	return tabs, seqs, nil
}

// scalarFields maps parquet column names of numeric scalar Record fields to field indices.
func scalarFields() map[string][]int {
	out := map[string][]int{}
	var walk func(t reflect.Type, prefix []int)
	walk = func(t reflect.Type, prefix []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			idx := append(slices.Clone(prefix), i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(f.Type, idx)
				continue
			}
			switch f.Type.Kind() {
			case reflect.Int32, reflect.Int64, reflect.Float64, reflect.Float32, reflect.Bool:
				name, _, _ := strings.Cut(f.Tag.Get("parquet"), ",")
				out[name] = idx
			}
		}
	}
	walk(reflect.TypeOf(data.Record{}), nil)
	return out
}

func toFloat(v reflect.Value) float32 {
	switch v.Kind() {
	case reflect.Int32, reflect.Int64:
		return float32(v.Int())
	case reflect.Float32, reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return 0
		}
		return float32(f)
	case reflect.Bool:
		if v.Bool() {
			return 1
		}
	}
	return 0
}

// FileHash returns the hex SHA-256 of a file's content: the dataset content hash that trial
// cache keys and reports use.
func FileHash(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// OtherClass names the class that LoadOptions.Other gives the rows of dropped classes.
const OtherClass = "other"
