package forest

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/etchlab/etch/harness/model"
)

// Native format: magic, version, then little-endian counts, parameters (JSON), names, the trees
// (roots, nodes, sparse leaves), importances, and a CRC-32 of everything before it.
const (
	magic         = "ETCHFRST"
	formatVersion = 1
	// limits on counts read from a file
	maxFeatures = 1 << 24
	maxTrees    = 100_000
	maxNodes    = 1 << 30
	maxName     = 1 << 12
	maxParams   = 1 << 16
	chunk       = 1 << 20
)

// ErrFormat reports a file that is not a valid etch forest.
var ErrFormat = errors.New("not a valid etch forest file")

type writer struct {
	w   *bufio.Writer
	crc hash.Hash32
	buf [8]byte
	err error
}

func (w *writer) bytes(b []byte) {
	if w.err != nil {
		return
	}
	w.crc.Write(b)
	_, w.err = w.w.Write(b)
}
func (w *writer) u16(v uint16) { binary.LittleEndian.PutUint16(w.buf[:], v); w.bytes(w.buf[:2]) }
func (w *writer) u32(v uint32) { binary.LittleEndian.PutUint32(w.buf[:], v); w.bytes(w.buf[:4]) }
func (w *writer) u64(v uint64) { binary.LittleEndian.PutUint64(w.buf[:], v); w.bytes(w.buf[:8]) }
func (w *writer) str(s string) { w.u16(uint16(len(s))); w.bytes([]byte(s)) }

// Save writes the fitted forest in etch's native format.
func (m *Model) Save(out io.Writer) error {
	if len(m.roots) < 2 {
		return ErrNotFitted
	}
	for _, s := range append(append([]string(nil), m.names...), m.classNms...) {
		if len(s) > maxName {
			return fmt.Errorf("save forest: name %.20q… longer than %d bytes", s, maxName)
		}
	}
	w := &writer{w: bufio.NewWriter(out), crc: crc32.NewIEEE()}
	w.bytes([]byte(magic))
	w.u32(formatVersion)
	params, _ := json.Marshal(m.params)
	nLeaves := len(m.leafOff) - 1
	for _, v := range []int{m.features, m.classes, m.Trees(), len(m.nodes), nLeaves, len(m.leafCls), len(params), len(m.classNms)} {
		w.u32(uint32(v))
	}
	w.bytes(params)
	for _, s := range m.names {
		w.str(s)
	}
	for _, s := range m.classNms {
		w.str(s)
	}
	for _, r := range m.roots {
		w.u32(uint32(r))
	}
	for i, d := range m.nodes {
		if l := m.leafOf[i]; l >= 0 {
			w.u32(math.MaxUint32) // feature -1: leaf
			w.u32(0)
			w.u32(uint32(l))
			continue
		}
		w.u32(uint32(d.feat))
		w.u32(math.Float32bits(d.thr))
		w.u32(uint32(d.right))
	}
	for _, o := range m.leafOff {
		w.u32(uint32(o))
	}
	for _, c := range m.leafCls {
		w.u16(c)
	}
	for _, p := range m.leafP {
		w.u32(math.Float32bits(p))
	}
	for _, v := range m.importance {
		w.u64(math.Float64bits(v))
	}
	if w.err != nil {
		return fmt.Errorf("save forest: %w", w.err)
	}
	binary.LittleEndian.PutUint32(w.buf[:], w.crc.Sum32())
	if _, err := w.w.Write(w.buf[:4]); err != nil {
		return fmt.Errorf("save forest: %w", err)
	}
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("save forest: %w", err)
	}
	return nil
}

// SaveFile writes the forest to path through a temporary file and a rename.
func (m *Model) SaveFile(path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := m.Save(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

type reader struct {
	r   io.Reader
	crc hash.Hash32
	off int64
	err error
}

// bytes reads n bytes, growing the buffer as data arrives so that a count in a damaged file
// cannot make it allocate more than the file holds.
func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	out := make([]byte, 0, min(n, chunk))
	for len(out) < n {
		step := min(n-len(out), chunk)
		out = append(out, make([]byte, step)...)
		if _, err := io.ReadFull(r.r, out[len(out)-step:]); err != nil {
			r.err = fmt.Errorf("%w: truncated at byte %d: %w", ErrFormat, r.off, err)
			return nil
		}
		r.off += int64(step)
	}
	r.crc.Write(out)
	return out
}

func (r *reader) u16() uint16 {
	if b := r.bytes(2); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if b := r.bytes(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (r *reader) str() string { return string(r.bytes(int(r.u16()))) }

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: byte %d: %s", ErrFormat, r.off, fmt.Sprintf(format, args...))
	}
}

// LoadFile reads a forest saved with Save or SaveFile.
func LoadFile(path string, env model.Env) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := Load(f, env)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Load reads a forest in etch's native format, checking every count, index and the checksum.
func Load(in io.Reader, env model.Env) (*Model, error) {
	r := &reader{r: bufio.NewReader(in), crc: crc32.NewIEEE()}
	if string(r.bytes(len(magic))) != magic {
		if r.err != nil {
			return nil, r.err
		}
		return nil, fmt.Errorf("%w: bad magic", ErrFormat)
	}
	if v := r.u32(); v != formatVersion && r.err == nil {
		return nil, fmt.Errorf("%w: version %d (this etch reads %d)", ErrFormat, v, formatVersion)
	}
	var c [8]int
	for i := range c {
		c[i] = int(r.u32())
	}
	features, classes, trees, nodes, leaves, entries, plen, ncls := c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]
	switch {
	case r.err != nil:
	case features < 1 || features > maxFeatures:
		r.fail("%d features", features)
	case classes < 1 || classes > math.MaxUint16:
		r.fail("%d classes", classes)
	case trees < 1 || trees > maxTrees:
		r.fail("%d trees", trees)
	case nodes < trees || nodes > maxNodes:
		r.fail("%d nodes for %d trees", nodes, trees)
	case leaves < trees || leaves > nodes:
		r.fail("%d leaves for %d nodes", leaves, nodes)
	case entries < leaves || entries > leaves*classes || entries > maxNodes:
		r.fail("%d leaf entries for %d leaves", entries, leaves)
	case plen > maxParams:
		r.fail("parameters of %d bytes", plen)
	case ncls != 0 && ncls != classes:
		r.fail("%d class names for %d classes", ncls, classes)
	}
	if r.err != nil {
		return nil, r.err
	}
	var p Params
	if pj := r.bytes(plen); r.err == nil {
		if err := json.Unmarshal(pj, &p); err != nil {
			r.fail("parameters: %v", err)
		}
	}
	m := &Model{features: features, classes: classes}
	for range features {
		if r.err != nil {
			return nil, r.err
		}
		m.names = append(m.names, r.str())
	}
	for range ncls {
		if r.err != nil {
			return nil, r.err
		}
		m.classNms = append(m.classNms, r.str())
	}
	le := binary.LittleEndian
	rb := r.bytes(4 * (trees + 1))
	nb := r.bytes(12 * nodes)
	ob := r.bytes(4 * (leaves + 1))
	cb := r.bytes(2 * entries)
	pb := r.bytes(4 * entries)
	ib := r.bytes(8 * features)
	sum := r.crc.Sum32()
	if got := r.u32(); r.err == nil && got != sum {
		r.fail("checksum %08x, want %08x", got, sum)
	}
	if r.err != nil {
		return nil, r.err
	}
	m.roots = make([]int32, trees+1)
	for i := range m.roots {
		m.roots[i] = int32(le.Uint32(rb[4*i:]))
	}
	if m.roots[0] != 0 || int(m.roots[trees]) != nodes {
		return nil, fmt.Errorf("%w: tree roots %d..%d, want 0..%d", ErrFormat, m.roots[0], m.roots[trees], nodes)
	}
	m.leafOff = make([]int32, leaves+1)
	for i := range m.leafOff {
		m.leafOff[i] = int32(le.Uint32(ob[4*i:]))
		if m.leafOff[i] < 0 || int(m.leafOff[i]) > entries || (i > 0 && m.leafOff[i] < m.leafOff[i-1]) {
			return nil, fmt.Errorf("%w: leaf %d offset %d", ErrFormat, i, m.leafOff[i])
		}
	}
	if m.leafOff[0] != 0 || int(m.leafOff[leaves]) != entries {
		return nil, fmt.Errorf("%w: leaf offsets %d..%d, want 0..%d", ErrFormat, m.leafOff[0], m.leafOff[leaves], entries)
	}
	m.leafCls = make([]uint16, entries)
	m.leafP = make([]float32, entries)
	for i := range entries {
		m.leafCls[i] = le.Uint16(cb[2*i:])
		m.leafP[i] = math.Float32frombits(le.Uint32(pb[4*i:]))
		if int(m.leafCls[i]) >= classes || !(m.leafP[i] >= 0 && m.leafP[i] <= 1) {
			return nil, fmt.Errorf("%w: leaf entry %d: class %d probability %v", ErrFormat, i, m.leafCls[i], m.leafP[i])
		}
	}
	m.nodes = make([]node, nodes)
	m.leafOf = make([]int32, nodes)
	for t := range trees {
		start, end := m.roots[t], m.roots[t+1]
		if end <= start {
			return nil, fmt.Errorf("%w: tree %d is empty", ErrFormat, t)
		}
		for i := start; i < end; i++ {
			b := nb[12*int(i):]
			feat, thr, right := int32(le.Uint32(b)), math.Float32frombits(le.Uint32(b[4:])), int32(le.Uint32(b[8:]))
			if feat == -1 {
				if right < 0 || int(right) >= leaves {
					return nil, fmt.Errorf("%w: tree %d node %d: leaf %d of %d", ErrFormat, t, i-start, right, leaves)
				}
				m.nodes[i] = node{thr: float32(math.NaN()), right: i}
				m.leafOf[i] = right
				continue
			}
			if feat < 0 || int(feat) >= features || thr != thr || right <= i+1 || right >= end {
				return nil, fmt.Errorf("%w: tree %d node %d: feature %d threshold %v right child %d outside the tree",
					ErrFormat, t, i-start, feat, thr, right-start)
			}
			m.nodes[i] = node{feat: feat, thr: thr, right: right}
			m.leafOf[i] = -1
		}
	}
	m.importance = make([]float64, features)
	for i := range m.importance {
		m.importance[i] = math.Float64frombits(le.Uint64(ib[8*i:]))
		if math.IsNaN(m.importance[i]) || math.IsInf(m.importance[i], 0) {
			return nil, fmt.Errorf("%w: importance %d is %v", ErrFormat, i, m.importance[i])
		}
	}
	cfg, err := p.resolve()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	m.params, m.cfg, m.env = p, cfg, env
	m.prepare()
	return m, nil
}
