package ensemble

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"

	"github.com/etchlab/etch/harness/model"
)

// Native format: magic, version, kind, parameters (JSON), class count, then every member's name
// and native bytes (its own Save), the meta-learner's weights, and a CRC-32 of all before it.
const (
	magic         = "ETCHENSM"
	formatVersion = 1
	maxMembers    = 1024
	maxString     = 1 << 16
	maxBlob       = 1 << 34
	chunk         = 1 << 20
)

// ErrFormat reports a file that is not a valid etch ensemble.
var ErrFormat = errors.New("not a valid etch ensemble file")

// Save writes the fitted ensemble with its members, which must all be model.Savers.
func (m *Model) Save(w io.Writer) error {
	if m.members == nil {
		return ErrNotFitted
	}
	var b bytes.Buffer
	le := binary.LittleEndian
	put32 := func(v uint32) { b.Write(le.AppendUint32(nil, v)) }
	str := func(s string) { put32(uint32(len(s))); b.WriteString(s) }
	b.WriteString(magic)
	put32(formatVersion)
	str(m.kind)
	pj, _ := json.Marshal(m.p)
	str(string(pj))
	put32(uint32(m.classes))
	put32(uint32(len(m.members)))
	for i, mm := range m.members {
		s, ok := mm.(model.Saver)
		if !ok {
			return fmt.Errorf("save ensemble: member %q (%T) cannot be saved", m.p.Members[i], mm)
		}
		var mb bytes.Buffer
		if err := s.Save(&mb); err != nil {
			return fmt.Errorf("save ensemble: member %q: %w", m.p.Members[i], err)
		}
		str(m.p.Members[i])
		b.Write(le.AppendUint64(nil, uint64(mb.Len())))
		b.Write(mb.Bytes())
	}
	if m.meta != nil {
		put32(uint32(m.meta.Dim))
		put32(uint32(m.meta.Classes))
		for _, v := range m.meta.W {
			b.Write(le.AppendUint64(nil, math.Float64bits(v)))
		}
	} else {
		put32(0)
		put32(0)
	}
	put32(crc32.ChecksumIEEE(b.Bytes()))
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("save ensemble: %w", err)
	}
	return nil
}

type reader struct {
	r   *bufio.Reader
	crc uint32
	off int64
	err error
}

func (r *reader) bytes(n int64) []byte {
	if r.err != nil {
		return nil
	}
	out := make([]byte, 0, min(n, chunk))
	for int64(len(out)) < n {
		step := min(n-int64(len(out)), chunk)
		out = append(out, make([]byte, step)...)
		if _, err := io.ReadFull(r.r, out[int64(len(out))-step:]); err != nil {
			r.err = fmt.Errorf("%w: truncated at byte %d: %w", ErrFormat, r.off, err)
			return nil
		}
		r.off += step
	}
	r.crc = crc32.Update(r.crc, crc32.IEEETable, out)
	return out
}

func (r *reader) u32() uint32 {
	if b := r.bytes(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if b := r.bytes(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

func (r *reader) str() string {
	n := r.u32()
	if n > maxString {
		r.fail("string of %d bytes", n)
		return ""
	}
	return string(r.bytes(int64(n)))
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: byte %d: %s", ErrFormat, r.off, fmt.Sprintf(format, args...))
	}
}

// Load reads an ensemble written by Save. loadMember turns a member's saved bytes back into a
// model; it gets the member's name, so the caller (who knows each name's type) picks the loader,
// e.g. forest.Load for a forest and Load itself for a nested ensemble.
func Load(in io.Reader, env model.Env, loadMember func(name string, r io.Reader) (model.Model, error)) (*Model, error) {
	r := &reader{r: bufio.NewReader(in)}
	if string(r.bytes(int64(len(magic)))) != magic {
		if r.err != nil {
			return nil, r.err
		}
		return nil, fmt.Errorf("%w: bad magic", ErrFormat)
	}
	if v := r.u32(); r.err == nil && v != formatVersion {
		return nil, fmt.Errorf("%w: version %d (this etch reads %d)", ErrFormat, v, formatVersion)
	}
	kind := r.str()
	pj := r.str()
	classes := int(r.u32())
	nm := int(r.u32())
	if r.err != nil {
		return nil, r.err
	}
	var p Params
	if err := json.Unmarshal([]byte(pj), &p); err != nil {
		return nil, fmt.Errorf("%w: parameters: %w", ErrFormat, err)
	}
	if classes < 1 || classes > math.MaxUint16 || nm < 1 || nm > maxMembers || nm != len(p.Members) {
		return nil, fmt.Errorf("%w: %d classes, %d members for %d named", ErrFormat, classes, nm, len(p.Members))
	}
	m, err := New(kind, p, env)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	m.classes = classes
	blobs := make([][]byte, nm)
	for i := range nm {
		if name := r.str(); r.err == nil && name != p.Members[i] {
			return nil, fmt.Errorf("%w: member %d is %q, parameters say %q", ErrFormat, i, name, p.Members[i])
		}
		n := r.u64()
		if n > maxBlob {
			r.fail("member of %d bytes", n)
		}
		blobs[i] = r.bytes(int64(n))
	}
	dim, mk := int(r.u32()), int(r.u32())
	if r.err == nil && (dim != 0 || mk != 0) && (kind != Stacking || mk != classes || dim != nm*classes) {
		r.fail("meta-learner %d×%d for %d members of %d classes", mk, dim, nm, classes)
	}
	var w []byte
	if r.err == nil && dim > 0 {
		w = r.bytes(int64(8 * (dim*mk + mk)))
	}
	sum := r.crc
	if got := r.u32(); r.err == nil && got != sum {
		r.fail("checksum %08x, want %08x", got, sum)
	}
	if r.err != nil {
		return nil, r.err
	}
	if kind == Stacking {
		if dim == 0 {
			return nil, fmt.Errorf("%w: stacking without a meta-learner", ErrFormat)
		}
		m.meta = &LogReg{Dim: dim, Classes: mk, W: make([]float64, dim*mk+mk)}
		for i := range m.meta.W {
			m.meta.W[i] = math.Float64frombits(binary.LittleEndian.Uint64(w[8*i:]))
			if math.IsNaN(m.meta.W[i]) || math.IsInf(m.meta.W[i], 0) {
				return nil, fmt.Errorf("%w: meta-learner weight %d is %v", ErrFormat, i, m.meta.W[i])
			}
		}
	}
	m.members = make([]model.Model, nm)
	for i, b := range blobs {
		mm, err := loadMember(p.Members[i], bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("member %q: %w", p.Members[i], err)
		}
		if mm.Classes() != classes {
			return nil, fmt.Errorf("%w: member %q predicts %d classes, ensemble %d", ErrFormat, p.Members[i], mm.Classes(), classes)
		}
		m.members[i] = mm
	}
	return m, nil
}
