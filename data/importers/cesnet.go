package importers

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/etchlab/etch/data"
)

// cesnetSource reads CESNET-QUIC22/TLS22 samples in the preprocessed JSON form of the
// cesnet-quic22-demo extract: an array of {"ground_truth", "sequences": [ipt, dir, size],
// "tabular": [...], "version_idx"}. The PPI rows are: inter-packet time as log1p(milliseconds),
// direction ±1, payload size in bytes. They become seq_iat_us = round(expm1(ipt)·1000),
// seq_dir, seq_payload = size and seq_size = dir·size (the source has no header lengths, so
// seq_size is the signed payload size). The tabular statistics go to Extra as flowstat_0..k-1
// (their names are not in the source) plus version_idx.
//
// A CSV input (anything not starting with '[') is read as the CESNET CSV release or a
// cesnet-datazoo dataframe export: a header, a PPI column holding "[[ipt ms...], [dir...],
// [size...]]" (raw milliseconds, not log1p), the label in APP (or --label-col) and CATEGORY when
// present; every other numeric column goes to Extra under its own name.
type cesnetSource struct{ labelCol string }

type cesnetSample struct {
	GroundTruth string      `json:"ground_truth"`
	Sequences   [][]float64 `json:"sequences"`
	Tabular     []float64   `json:"tabular"`
	VersionIdx  *float64    `json:"version_idx"`
}

func (c cesnetSource) read(ctx context.Context, r io.Reader, name string, meta *data.Meta, emit func(int, *data.Record) error, bad func(error) error) error {
	buf, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	if t := bytes.TrimLeft(buf, " \t\r\n\ufeff"); len(t) > 0 && t[0] != '[' {
		return c.readCSV(ctx, bytes.NewReader(buf), name, meta, emit, bad)
	}
	lineAt := func(off int64) int { return 1 + bytes.Count(buf[:min(int(off), len(buf))], []byte{'\n'}) }
	dec := json.NewDecoder(bytes.NewReader(buf))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('[') {
		return rowErr(name, lineAt(dec.InputOffset()), "want a JSON array of samples")
	}
	seqLen, ntab := -1, -1
	for n := 0; dec.More(); n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		off := int(dec.InputOffset())
		for off < len(buf) && strings.IndexByte(" \t\r\n,", buf[off]) >= 0 {
			off++
		}
		start := lineAt(int64(off))
		var s cesnetSample
		if err := dec.Decode(&s); err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				return rowErr(name, lineAt(se.Offset), "%v", err)
			}
			return rowErr(name, start, "%v", err)
		}
		if seqLen < 0 {
			if len(s.Sequences) != 3 {
				return rowErr(name, start, "sample has %d sequences, want 3 (ipt, dir, size)", len(s.Sequences))
			}
			seqLen, ntab = len(s.Sequences[0]), len(s.Tabular)
			meta.SeqLen = seqLen
			for i := range ntab {
				meta.ExtraNames = append(meta.ExtraNames, "flowstat_"+strconv.Itoa(i))
			}
			meta.ExtraNames = append(meta.ExtraNames, "version_idx")
			meta.Params["ipt"] = "log1p(ms) → µs"
			meta.Params["seq_size"] = "signed payload size (no header lengths in the source)"
		}
		rec, err := cesnetRecord(&s, seqLen, ntab)
		if err != nil {
			if err := bad(rowErr(name, start, "%w", err)); err != nil {
				return err
			}
			continue
		}
		if err := emit(start, rec); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return rowErr(name, lineAt(dec.InputOffset()), "%v", err)
	}
	return nil
}

func cesnetRecord(s *cesnetSample, seqLen, ntab int) (*data.Record, error) {
	if s.GroundTruth == "" {
		return nil, errors.New("no ground_truth")
	}
	if len(s.Sequences) != 3 {
		return nil, fmt.Errorf("%d sequences, want 3", len(s.Sequences))
	}
	for i, q := range s.Sequences {
		if len(q) != seqLen {
			return nil, fmt.Errorf("sequence %d has %d values, want %d", i, len(q), seqLen)
		}
	}
	if len(s.Tabular) != ntab {
		return nil, fmt.Errorf("%d tabular values, want %d", len(s.Tabular), ntab)
	}
	rec := &data.Record{Label: s.GroundTruth, Proto: "udp", QUIC: true,
		SeqSize: make([]int32, seqLen), SeqPayload: make([]int32, seqLen),
		SeqIATUS: make([]int32, seqLen), SeqDir: make([]int32, seqLen)}
	for t := range seqLen {
		ipt, dir, size := s.Sequences[0][t], s.Sequences[1][t], s.Sequences[2][t]
		if math.IsInf(ipt, 0) || ipt < 0 || math.IsInf(size, 0) || size < 0 {
			return nil, fmt.Errorf("step %d: bad ipt %v or size %v", t, ipt, size)
		}
		d := sign(toInt32(dir))
		rec.SeqDir[t] = d
		rec.SeqPayload[t] = toInt32(size)
		rec.SeqSize[t] = d * toInt32(size)
		rec.SeqIATUS[t] = toInt32(math.Expm1(ipt) * 1000)
	}
	rec.Extra = make([]float32, 0, ntab+1)
	for _, v := range s.Tabular {
		rec.Extra = append(rec.Extra, float32(v))
	}
	v := math.NaN()
	if s.VersionIdx != nil {
		v = *s.VersionIdx
	}
	rec.Extra = append(rec.Extra, float32(v))
	return rec, nil
}

// parsePPI parses "[[ipt...], [dir...], [size...]]".
func parsePPI(s string) ([3][]float64, error) {
	var out [3][]float64
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		return out, fmt.Errorf("PPI %q is not a list of 3 lists", truncate(s))
	}
	parts := strings.Split(s[1:len(s)-1], "]")
	k := 0
	for _, p := range parts {
		p = strings.TrimLeft(strings.TrimSpace(p), ",")
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !strings.HasPrefix(p, "[") || k == 3 {
			return out, fmt.Errorf("PPI %q is not a list of 3 lists", truncate(s))
		}
		l, err := parseList(p)
		if err != nil {
			return out, fmt.Errorf("PPI: %w", err)
		}
		out[k] = l
		k++
	}
	if k != 3 || len(out[1]) != len(out[0]) || len(out[2]) != len(out[0]) {
		return out, fmt.Errorf("PPI %q: want 3 lists of equal length", truncate(s))
	}
	return out, nil
}

func (c cesnetSource) readCSV(ctx context.Context, r io.Reader, name string, meta *data.Meta, emit func(int, *data.Record) error, bad func(error) error) error {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err != nil {
		return rowErr(name, 1, "header: %v", err)
	}
	header = slices.Clone(header)
	header[0] = strings.TrimPrefix(header[0], "\ufeff")
	ppi := slices.Index(header, "PPI")
	if ppi < 0 {
		return fmt.Errorf("%s: no PPI column (CESNET CSV needs PPI and APP)", name)
	}
	labelName := c.labelCol
	if labelName == "" {
		labelName = "APP"
	}
	label := slices.Index(header, labelName)
	if label < 0 {
		return fmt.Errorf("%s: no label column %q", name, labelName)
	}
	category := slices.Index(header, "CATEGORY")
	const seqLen = 30 // CESNET PPI holds up to 30 packets
	meta.SeqLen = seqLen
	meta.Params["ipt"] = "ms → µs"
	meta.Params["seq_size"] = "signed payload size (no header lengths in the source)"
	var feat []int
	first := true
	onFieldCount := func(line, n int) error {
		return bad(rowErr(name, line, "%d fields, header has %d", n, len(header)))
	}
	return csvRows(ctx, cr, name, onFieldCount, func(line int, fields []string) error {
		if first {
			first = false
			for i, f := range fields {
				if _, ok, err := parseNum(f); ok && err == nil && i != label && i != category && i != ppi && header[i] != "ID" {
					feat = append(feat, i)
					meta.ExtraNames = append(meta.ExtraNames, header[i])
				}
			}
		}
		rec, err := cesnetCSVRecord(fields, header, ppi, label, category, feat, seqLen)
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

func cesnetCSVRecord(fields, header []string, ppi, label, category int, feat []int, seqLen int) (*data.Record, error) {
	rec := &data.Record{Label: fields[label], Proto: "udp", QUIC: true,
		SeqSize: make([]int32, seqLen), SeqPayload: make([]int32, seqLen),
		SeqIATUS: make([]int32, seqLen), SeqDir: make([]int32, seqLen)}
	if rec.Label == "" {
		return nil, errors.New("empty label")
	}
	if category >= 0 {
		rec.Category = fields[category]
	}
	p, err := parsePPI(fields[ppi])
	if err != nil {
		return nil, err
	}
	if len(p[0]) > seqLen {
		return nil, fmt.Errorf("PPI has %d packets, at most %d", len(p[0]), seqLen)
	}
	for t := range p[0] {
		ipt, dir, size := p[0][t], p[1][t], p[2][t]
		if math.IsInf(ipt, 0) || ipt < 0 || math.IsInf(size, 0) || size < 0 {
			return nil, fmt.Errorf("PPI step %d: bad ipt %v or size %v", t, ipt, size)
		}
		d := sign(toInt32(dir))
		rec.SeqDir[t] = d
		rec.SeqPayload[t] = toInt32(size)
		rec.SeqSize[t] = d * toInt32(size)
		rec.SeqIATUS[t] = toInt32(ipt * 1000)
	}
	extra, err := parseExtras(fields, header, feat)
	if err != nil {
		return nil, err
	}
	rec.Extra = extra
	return rec, nil
}
