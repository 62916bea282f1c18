package saved

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/etchlab/etch/data"
	"github.com/etchlab/etch/harness/model"
	"github.com/etchlab/etch/harness/model/ensemble"
	"github.com/etchlab/etch/harness/model/forest"
	"github.com/etchlab/etch/harness/model/nn"
)

// Magic starts every bundle; Version is the format version this package writes and reads.
const (
	Magic   = "ETCHMODL"
	Version = 1
	// Ext is the file extension of bundles.
	Ext = ".etchm"

	maxHeader = 16 << 20
)

// Magics of the native model formats LoadModel recognises (see the model packages).
const (
	magicForest   = "ETCHFRST"
	magicNN       = nn.Magic
	magicEnsemble = "ETCHENSM"
)

// ErrFormat reports a file that is not a saved model; ErrNotSaver a model that cannot be saved.
var (
	ErrFormat   = errors.New("not a saved etch model")
	ErrNotSaver = errors.New("model cannot be saved")
)

// Preprocess says how a flow record becomes the model's input row: the features the model
// reads (tabular names and sequence channels, in order, as data.Dataset names them), the
// sequence length (K: the packets the model was trained on), the scaler fitted on the training
// rows (restricted to those features), and the classes.
type Preprocess struct {
	// Features is the data.features list of the experiment (for people; TabNames and Channels
	// are what is applied).
	Features    []string     `json:"features,omitempty"`
	Label       string       `json:"label,omitempty"`
	TabNames    []string     `json:"tab_names"`
	SeqChannels []string     `json:"seq_channels"`
	SeqLen      int          `json:"seq_len"`
	Scaler      *data.Scaler `json:"scaler,omitempty"`
	ClassNames  []string     `json:"class_names"`
}

// Packets returns K, the packets a flow needs before the model can decide: the sequence length
// when the model reads sequences, else 0 (the model reads whole-flow statistics only).
func (p *Preprocess) Packets() int {
	if len(p.SeqChannels) == 0 {
		return 0
	}
	return p.SeqLen
}

// Validate checks that the header is consistent.
func (p *Preprocess) Validate() error {
	if len(p.TabNames) == 0 && len(p.SeqChannels) == 0 {
		return fmt.Errorf("%w: no features", ErrFormat)
	}
	if len(p.SeqChannels) > 0 && p.SeqLen <= 0 {
		return fmt.Errorf("%w: sequence length %d", ErrFormat, p.SeqLen)
	}
	if len(p.ClassNames) < 2 {
		return fmt.Errorf("%w: %d classes", ErrFormat, len(p.ClassNames))
	}
	if p.Scaler != nil {
		if err := p.Scaler.Apply(p.TabNames, nil, p.SeqChannels, nil); err != nil {
			return fmt.Errorf("%w: %w", ErrFormat, err)
		}
	}
	return nil
}

// Header is a bundle's JSON header.
type Header struct {
	Preprocess
	// Name and Type are the model's name and `type:` in the experiment; Trial the trial id and
	// Fold the fold it was fitted on (0-based); Experiment and EtchVersion say where it came from.
	Name        string `json:"name"`
	Type        string `json:"type"`
	Experiment  string `json:"experiment,omitempty"`
	Trial       string `json:"trial,omitempty"`
	Fold        int    `json:"fold"`
	EtchVersion string `json:"etch_version,omitempty"`
}

// Bundle is a fitted model with its header.
type Bundle struct {
	Header
	Model model.Model
}

// Write writes b: header, then the model's native bytes (the model must be a model.Saver).
func Write(w io.Writer, b *Bundle) error {
	s, ok := b.Model.(model.Saver)
	if !ok {
		return fmt.Errorf("%w: %T", ErrNotSaver, b.Model)
	}
	if err := b.Validate(); err != nil {
		return err
	}
	hj, err := json.Marshal(&b.Header)
	if err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	var body bytes.Buffer
	if err := s.Save(&body); err != nil {
		return fmt.Errorf("save model %q: %w", b.Name, err)
	}
	var pre [16]byte
	copy(pre[:], Magic)
	binary.LittleEndian.PutUint32(pre[8:], Version)
	binary.LittleEndian.PutUint32(pre[12:], uint32(len(hj)))
	for _, part := range [][]byte{pre[:], hj, body.Bytes()} {
		if _, err := w.Write(part); err != nil {
			return fmt.Errorf("save model %q: %w", b.Name, err)
		}
	}
	return nil
}

// WriteFile writes b to path atomically (temporary file in the same directory, then rename).
func WriteFile(path string, b *Bundle) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	err = Write(bw, b)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Read reads a bundle; env is passed to the model's loader (nn takes its backend from it).
func Read(r io.Reader, env model.Env) (*Bundle, error) {
	br := bufio.NewReader(r)
	var pre [16]byte
	if _, err := io.ReadFull(br, pre[:]); err != nil {
		return nil, fmt.Errorf("%w: byte 0: short preamble: %w", ErrFormat, err)
	}
	if string(pre[:8]) != Magic {
		return nil, fmt.Errorf("%w: byte 0: bad magic %q", ErrFormat, pre[:8])
	}
	if v := binary.LittleEndian.Uint32(pre[8:]); v != Version {
		return nil, fmt.Errorf("%w: byte 8: format version %d, this etch reads %d", ErrFormat, v, Version)
	}
	n := binary.LittleEndian.Uint32(pre[12:])
	if n > maxHeader {
		return nil, fmt.Errorf("%w: byte 12: header of %d bytes", ErrFormat, n)
	}
	hj := make([]byte, n)
	if _, err := io.ReadFull(br, hj); err != nil {
		return nil, fmt.Errorf("%w: byte 16: short header: %w", ErrFormat, err)
	}
	b := &Bundle{}
	dec := json.NewDecoder(bytes.NewReader(hj))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b.Header); err != nil {
		return nil, fmt.Errorf("%w: byte 16: header: %w", ErrFormat, err)
	}
	if err := b.Validate(); err != nil {
		return nil, err
	}
	m, err := LoadModel(br, env)
	if err != nil {
		return nil, fmt.Errorf("byte %d: %w", 16+n, err)
	}
	if m.Classes() != len(b.ClassNames) {
		return nil, fmt.Errorf("%w: model predicts %d classes, header names %d", ErrFormat, m.Classes(), len(b.ClassNames))
	}
	b.Model = m
	return b, nil
}

// ReadFile reads the bundle at path.
func ReadFile(path string, env model.Env) (*Bundle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := Read(f, env)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// IsBundle reports whether the file at path starts with Magic.
func IsBundle(path string) bool {
	m, _ := sniff(path)
	return m == Magic
}

// Kind returns the kind of the file at path by its magic: "bundle", "forest", "nn", "ensemble",
// "projected", or "" for anything else.
func Kind(path string) (string, error) {
	m, err := sniff(path)
	if err != nil {
		return "", err
	}
	switch m {
	case Magic:
		return "bundle", nil
	case magicForest:
		return "forest", nil
	case magicNN:
		return "nn", nil
	case magicEnsemble:
		return "ensemble", nil
	case model.ProjectedMagic:
		return "projected", nil
	}
	return "", nil
}

func sniff(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var b [8]byte
	n, _ := io.ReadFull(f, b[:])
	return string(b[:n]), nil
}

// LoadModel reads a model in its native format (forest, nn, ensemble or a projection of any of
// them, nested included), recognised by its magic.
func LoadModel(r io.Reader, env model.Env) (model.Model, error) {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReader(r)
	}
	m, err := br.Peek(8)
	if err != nil {
		return nil, fmt.Errorf("%w: short model: %w", ErrFormat, err)
	}
	switch string(m) {
	case magicForest:
		return forest.Load(br, env)
	case magicNN:
		return nn.Load(br, env)
	case magicEnsemble:
		return ensemble.Load(br, env, func(_ string, r io.Reader) (model.Model, error) { return LoadModel(r, env) })
	case model.ProjectedMagic:
		return model.LoadProjected(br, func(r io.Reader) (model.Model, error) { return LoadModel(r, env) })
	}
	return nil, fmt.Errorf("%w: unknown model magic %q (want one of %q)", ErrFormat, m,
		slices.Sorted(slices.Values([]string{magicForest, magicNN, magicEnsemble, model.ProjectedMagic})))
}
