package nn

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/etchlab/etch/harness/model"
)

// The native format: Magic, a little-endian uint32 format version, a uint32 header length, the
// JSON header (type, parameters, architecture, scalers, names, tensor list), the tensors as
// little-endian float32 in header order, and a CRC-32 (IEEE) of everything before it.
const (
	Magic         = "ETCH-NN\x00"
	FormatVersion = 1
	maxHeader     = 4 << 20
)

// ErrFormat reports a file that is not a valid etch nn model.
var ErrFormat = errors.New("not a valid etch nn model")

// tensorInfo names one saved tensor and its shape.
type tensorInfo struct {
	Name string `json:"name"`
	Dims []int  `json:"dims"`
}

// header is the JSON header of the native format.
type header struct {
	Type     string        `json:"type"`
	Params   Params        `json:"params"`
	Arch     Arch          `json:"arch"`
	UseSeq   bool          `json:"use_seq"`
	UseTab   bool          `json:"use_tab"`
	SeqScale Scaler        `json:"seq_scale"`
	TabScale Scaler        `json:"tab_scale"`
	Classes  []string      `json:"classes,omitempty"`
	Channels []string      `json:"channels,omitempty"`
	TabNames []string      `json:"tab_names,omitempty"`
	Tensors  []tensorInfo  `json:"tensors"`
	History  []model.Epoch `json:"history,omitempty"`
	Seed     uint64        `json:"seed"`
}

// tensorList names the network's saved tensors in order: parameters, then batch-norm running
// statistics.
func (nw *network) tensorList() []tensorInfo {
	var out []tensorInfo
	for li, l := range nw.layers() {
		for _, p := range l.params() {
			out = append(out, tensorInfo{Name: fmt.Sprintf("%d.%s.%s", li, l.spec().Type, p.name), Dims: p.dims})
		}
		if bn, ok := l.(*batchnorm); ok {
			c := bn.inS.C
			out = append(out, tensorInfo{Name: fmt.Sprintf("%d.batchnorm.running_mean", li), Dims: []int{c}},
				tensorInfo{Name: fmt.Sprintf("%d.batchnorm.running_var", li), Dims: []int{c}})
		}
	}
	return out
}

// tensorBuffers returns the buffers of tensorList, in the same order.
func (nw *network) tensorBuffers() []bufLen {
	var out []bufLen
	for _, l := range nw.layers() {
		for _, p := range l.params() {
			out = append(out, bufLen{p.w, p.size()})
		}
		if bn, ok := l.(*batchnorm); ok {
			out = append(out, bufLen{bn.runMean, bn.inS.C}, bufLen{bn.runVar, bn.inS.C})
		}
	}
	return out
}

// Save writes the fitted model in the native format.
func (m *Model) Save(w io.Writer) error {
	if m.nw == nil {
		return ErrNotFitted
	}
	h := header{Type: m.kind, Params: m.p, Arch: m.arch, UseSeq: m.useSeq, UseTab: m.useTab,
		SeqScale: m.seqScale, TabScale: m.tabScale, Classes: m.classes, Channels: m.channels,
		TabNames: m.tabNames, Tensors: m.nw.tensorList(), History: m.hist, Seed: m.seed}
	hj, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("nn save: %w", err)
	}
	crc := crc32.NewIEEE()
	out := io.MultiWriter(w, crc)
	var pre [16]byte
	copy(pre[:8], Magic)
	binary.LittleEndian.PutUint32(pre[8:], FormatVersion)
	binary.LittleEndian.PutUint32(pre[12:], uint32(len(hj)))
	if _, err := out.Write(pre[:]); err != nil {
		return fmt.Errorf("nn save: %w", err)
	}
	if _, err := out.Write(hj); err != nil {
		return fmt.Errorf("nn save: %w", err)
	}
	for _, t := range m.nw.tensorBuffers() {
		host := make([]float32, t.n)
		m.b.Download(host, m.nw.nt.view(t.b, 0, t.n))
		raw := make([]byte, 4*len(host))
		for i, v := range host {
			binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
		}
		if _, err := out.Write(raw); err != nil {
			return fmt.Errorf("nn save: %w", err)
		}
	}
	var sum [4]byte
	binary.LittleEndian.PutUint32(sum[:], crc.Sum32())
	if _, err := w.Write(sum[:]); err != nil {
		return fmt.Errorf("nn save: %w", err)
	}
	return nil
}

// SaveFile writes the model to path atomically (temporary file, then rename).
func (m *Model) SaveFile(path string) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if err := m.Save(f); err != nil {
		f.Close()
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("save %s: %w", path, err)
	}
	return nil
}

// LoadFile reads a model saved by SaveFile.
func LoadFile(path string, env model.Env) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	defer f.Close()
	m, err := Load(f, env)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return m, nil
}

// formatErr wraps ErrFormat with the byte offset where reading failed.
func formatErr(off int64, format string, args ...any) error {
	return fmt.Errorf("%w: at byte %d: %s", ErrFormat, off, fmt.Sprintf(format, args...))
}

// Load reads a model in the native format. It validates the header and the architecture before
// allocating anything, reads tensor data in chunks (a short file fails before a large buffer
// exists), checks the CRC, and only then builds the network on env's backend.
func Load(r io.Reader, env model.Env) (*Model, error) {
	crc := crc32.NewIEEE()
	tr := io.TeeReader(r, crc)
	var pre [16]byte
	if _, err := io.ReadFull(tr, pre[:]); err != nil {
		return nil, formatErr(0, "short preamble: %v", err)
	}
	if string(pre[:8]) != Magic {
		return nil, formatErr(0, "bad magic %q", pre[:8])
	}
	if v := binary.LittleEndian.Uint32(pre[8:]); v != FormatVersion {
		return nil, formatErr(8, "format version %d, this etch reads %d", v, FormatVersion)
	}
	hl := binary.LittleEndian.Uint32(pre[12:])
	if hl == 0 || hl > maxHeader {
		return nil, formatErr(12, "header length %d outside (0,%d]", hl, maxHeader)
	}
	hj := make([]byte, hl)
	if _, err := io.ReadFull(tr, hj); err != nil {
		return nil, formatErr(16, "short header: %v", err)
	}
	var h header
	dec := json.NewDecoder(bytes.NewReader(hj))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return nil, formatErr(16, "header: %v", err)
	}
	if err := h.validate(); err != nil {
		return nil, formatErr(16, "header: %v", err)
	}
	total := 0
	for _, t := range h.Tensors {
		n := 1
		for _, d := range t.Dims {
			n *= d
		}
		total += n
	}
	// read tensors in chunks: memory grows only with data actually present
	off := int64(16 + hl)
	data := make([]float32, 0, min(total, 1<<16))
	buf := make([]byte, 1<<16)
	for len(data) < total {
		want := min(len(buf), 4*(total-len(data)))
		if _, err := io.ReadFull(tr, buf[:want]); err != nil {
			return nil, formatErr(off, "tensor data truncated (%d of %d values): %v", len(data), total, err)
		}
		for i := 0; i < want; i += 4 {
			data = append(data, math.Float32frombits(binary.LittleEndian.Uint32(buf[i:])))
		}
		off += int64(want)
	}
	var sum [4]byte
	if _, err := io.ReadFull(r, sum[:]); err != nil {
		return nil, formatErr(off, "missing checksum: %v", err)
	}
	if got := binary.LittleEndian.Uint32(sum[:]); got != crc.Sum32() {
		return nil, formatErr(off, "checksum %08x, content gives %08x", got, crc.Sum32())
	}
	for _, v := range data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, formatErr(16+int64(hl), "non-finite weight")
		}
	}

	env.Seed = h.Seed
	m, err := New(h.Type, h.Params, env)
	if err != nil {
		return nil, formatErr(16, "header: %v", err)
	}
	m.arch, m.useSeq, m.useTab = h.Arch, h.UseSeq, h.UseTab
	m.seqScale, m.tabScale = h.SeqScale, h.TabScale
	m.classes, m.channels, m.tabNames, m.hist = h.Classes, h.Channels, h.TabNames, h.History
	nw, err := buildNetwork(m.b, m.arch, m.seed)
	if err != nil {
		return nil, formatErr(16, "architecture: %v", err)
	}
	want := nw.tensorList()
	if len(want) != len(h.Tensors) {
		nw.close()
		return nil, formatErr(16, "%d tensors listed, architecture has %d", len(h.Tensors), len(want))
	}
	for i, t := range want {
		if t.Name != h.Tensors[i].Name || !slices.Equal(t.Dims, h.Tensors[i].Dims) {
			nw.close()
			return nil, formatErr(16, "tensor %d is %s%v, architecture wants %s%v", i, h.Tensors[i].Name, h.Tensors[i].Dims, t.Name, t.Dims)
		}
	}
	pos := 0
	for _, t := range nw.tensorBuffers() {
		m.b.Upload(t.b, data[pos:pos+t.n])
		pos += t.n
	}
	m.nw = nw
	return m, nil
}

// validate checks the header's consistency; checkArch bounds the architecture's size.
func (h *header) validate() error {
	known := h.Type == "nn" || slices.Contains(Presets(), h.Type)
	if !known {
		return fmt.Errorf("unknown model type %q", h.Type)
	}
	n, err := checkArch(h.Arch)
	if err != nil {
		return err
	}
	if h.UseSeq != (h.Arch.SeqLen > 0) || h.UseTab != (h.Arch.Tab > 0) {
		return fmt.Errorf("inputs do not match the architecture")
	}
	if len(h.SeqScale.Mean) != h.Arch.SeqChannels || len(h.SeqScale.Inv) != h.Arch.SeqChannels ||
		len(h.TabScale.Mean) != h.Arch.Tab || len(h.TabScale.Inv) != h.Arch.Tab {
		return fmt.Errorf("scalers do not match the inputs")
	}
	if h.Classes != nil && len(h.Classes) != h.Arch.Classes {
		return fmt.Errorf("%d class names for %d classes", len(h.Classes), h.Arch.Classes)
	}
	if h.Channels != nil && len(h.Channels) != h.Arch.SeqChannels {
		return fmt.Errorf("%d channel names for %d channels", len(h.Channels), h.Arch.SeqChannels)
	}
	if h.TabNames != nil && len(h.TabNames) != h.Arch.Tab {
		return fmt.Errorf("%d feature names for %d features", len(h.TabNames), h.Arch.Tab)
	}
	total := 0
	for _, t := range h.Tensors {
		if len(t.Dims) == 0 || len(t.Dims) > 4 {
			return fmt.Errorf("tensor %s has rank %d", t.Name, len(t.Dims))
		}
		k := 1
		for _, d := range t.Dims {
			if d < 1 || d > maxParams {
				return fmt.Errorf("tensor %s has dimension %d", t.Name, d)
			}
			k *= d
			if k > maxParams {
				return fmt.Errorf("tensor %s too large", t.Name)
			}
		}
		total += k
		if total > maxParams {
			return fmt.Errorf("tensors too large")
		}
	}
	// parameters plus batch-norm running statistics (2 per channel, at most as many as BN params)
	if total < n || total > 2*n {
		return fmt.Errorf("tensors hold %d values, architecture has %d parameters", total, n)
	}
	return nil
}
