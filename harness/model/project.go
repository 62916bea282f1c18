package model

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
)

// ProjectedMagic starts a saved Projected model.
const ProjectedMagic = "ETCHPROJ"

// ErrProjection reports input that lacks a feature a Projected model reads, or a saved Projected
// model that is not valid.
var ErrProjection = errors.New("projection")

// Projected is a model that reads only some of its input's features: the tabular columns Tab and
// the sequence channels Channels, by name and in this order. An experiment model with its own
// `features:` is one (a forest on statistics and a CNN-GRU on packet sizes in one experiment);
// an ensemble hands every member the full input and each member's projection cuts it down.
// Selecting by name makes the saved model independent of the column order of the data it is
// later given.
type Projected struct {
	Model
	Tab      []string
	Channels []string
}

// Fit trains the wrapped model on the projected data.
func (p *Projected) Fit(ctx context.Context, train, val *Data) error {
	tr, err := p.apply(train)
	if err != nil {
		return err
	}
	va, err := p.apply(val)
	if err != nil {
		return err
	}
	return p.Model.Fit(ctx, tr, va)
}

// PredictProba predicts with the wrapped model on the projected data.
func (p *Projected) PredictProba(ctx context.Context, x *Data, dst []float32) error {
	px, err := p.apply(x)
	if err != nil {
		return err
	}
	return p.Model.PredictProba(ctx, px, dst)
}

// History passes the wrapped model's training curve through (nil when it has none).
func (p *Projected) History() []Epoch {
	if h, ok := p.Model.(Historian); ok {
		return h.History()
	}
	return nil
}

// apply returns x restricted to the projection (copying), or an error naming a missing feature.
func (p *Projected) apply(x *Data) (*Data, error) {
	if x == nil {
		return nil, nil
	}
	out := &Data{N: x.N, Y: x.Y, Classes: x.Classes, ClassNames: x.ClassNames, Weights: x.Weights}
	if len(p.Tab) > 0 {
		td := x.TabDim()
		idx := make([]int, len(p.Tab))
		for k, name := range p.Tab {
			if idx[k] = slices.Index(x.TabNames, name); idx[k] < 0 {
				return nil, fmt.Errorf("%w: the input has no feature %q", ErrProjection, name)
			}
		}
		out.TabNames = slices.Clone(p.Tab)
		out.Tab = make([]float32, x.N*len(idx))
		for i := range x.N {
			row, dst := x.Tab[i*td:(i+1)*td], out.Tab[i*len(idx):(i+1)*len(idx)]
			for k, j := range idx {
				dst[k] = row[j]
			}
		}
	}
	if len(p.Channels) > 0 {
		idx := make([]int, len(p.Channels))
		for k, name := range p.Channels {
			if idx[k] = slices.Index(x.SeqChannels, name); idx[k] < 0 {
				return nil, fmt.Errorf("%w: the input has no sequence channel %q", ErrProjection, name)
			}
		}
		C, L := len(x.SeqChannels), x.SeqLen
		out.SeqChannels, out.SeqLen = slices.Clone(p.Channels), L
		out.Seq = make([]float32, x.N*L*len(idx))
		for i := range x.N * L {
			src, dst := x.Seq[i*C:(i+1)*C], out.Seq[i*len(idx):(i+1)*len(idx)]
			for k, c := range idx {
				dst[k] = src[c]
			}
		}
	}
	return out, nil
}

// projHeader is the JSON part of a saved Projected model.
type projHeader struct {
	Tab      []string `json:"tab,omitempty"`
	Channels []string `json:"channels,omitempty"`
}

// maxProjHeader bounds the JSON header a saved Projected model may declare.
const maxProjHeader = 1 << 24

// Save writes the projection and then the wrapped model (which must be a Saver): the magic, the
// JSON length and JSON, a CRC-32 of both, then the wrapped model's own bytes.
func (p *Projected) Save(w io.Writer) error {
	s, ok := p.Model.(Saver)
	if !ok {
		return fmt.Errorf("save projected model: %T cannot be saved", p.Model)
	}
	hj, err := json.Marshal(projHeader{Tab: p.Tab, Channels: p.Channels})
	if err != nil {
		return fmt.Errorf("save projected model: %w", err)
	}
	b := append([]byte(ProjectedMagic), binary.LittleEndian.AppendUint32(nil, uint32(len(hj)))...)
	b = append(b, hj...)
	b = binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("save projected model: %w", err)
	}
	return s.Save(w)
}

// LoadProjected reads a model written by Projected.Save; loadInner reads the wrapped model from
// the rest of r (saved.LoadModel, which recognises each native format by its magic).
func LoadProjected(r io.Reader, loadInner func(io.Reader) (Model, error)) (*Projected, error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	var head [len(ProjectedMagic) + 4]byte
	if _, err := io.ReadFull(br, head[:]); err != nil {
		return nil, fmt.Errorf("%w: short header: %w", ErrProjection, err)
	}
	if string(head[:len(ProjectedMagic)]) != ProjectedMagic {
		return nil, fmt.Errorf("%w: bad magic %q", ErrProjection, head[:len(ProjectedMagic)])
	}
	n := binary.LittleEndian.Uint32(head[len(ProjectedMagic):])
	if n > maxProjHeader {
		return nil, fmt.Errorf("%w: header of %d bytes", ErrProjection, n)
	}
	hj := make([]byte, n+4)
	if _, err := io.ReadFull(br, hj); err != nil {
		return nil, fmt.Errorf("%w: short header: %w", ErrProjection, err)
	}
	sum := crc32.ChecksumIEEE(append(head[:], hj[:n]...))
	if binary.LittleEndian.Uint32(hj[n:]) != sum {
		return nil, fmt.Errorf("%w: header checksum mismatch", ErrProjection)
	}
	var h projHeader
	if err := json.Unmarshal(hj[:n], &h); err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrProjection, err)
	}
	if len(h.Tab)+len(h.Channels) == 0 {
		return nil, fmt.Errorf("%w: no features", ErrProjection)
	}
	m, err := loadInner(br)
	if err != nil {
		return nil, err
	}
	return &Projected{Model: m, Tab: h.Tab, Channels: h.Channels}, nil
}
