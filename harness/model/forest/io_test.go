package forest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/etchlab/etch/harness/model"
)

func smallForest(t testing.TB) (*Model, *model.Data) {
	t.Helper()
	d := gcseq(300, 8, 3, 9)
	return fit(t, Params{Trees: 4, MaxDepth: 6}, model.Env{Seed: 2}, d), d
}

func saved(t testing.TB, m *Model) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := m.Save(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSaveLoadRoundTrip(t *testing.T) {
	m, d := smallForest(t)
	path := filepath.Join(t.TempDir(), "rf.etch")
	if err := m.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	l, err := LoadFile(path, model.Env{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float32, d.N*3)
	got := make([]float32, d.N*3)
	if err := m.PredictProba(context.Background(), d, want); err != nil {
		t.Fatal(err)
	}
	if err := l.PredictProba(context.Background(), d, got); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Error("loaded forest predicts differently")
	}
	if !slices.Equal(l.ImpurityImportance(), m.ImpurityImportance()) || !slices.Equal(l.FeatureNames(), m.FeatureNames()) ||
		l.ParamsJSON() != m.ParamsJSON() || !slices.Equal(l.classNms, m.classNms) {
		t.Error("loaded forest lost metadata")
	}
	if !bytes.Equal(saved(t, l), saved(t, m)) {
		t.Error("save(load(save(m))) differs from save(m)")
	}
}

// resum rewrites the trailing checksum so that a deliberate change reaches the structural checks.
func resum(b []byte) []byte {
	b = slices.Clone(b)
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32IEEE(b[:len(b)-4]))
	return b
}

func TestLoadRejects(t *testing.T) {
	m, _ := smallForest(t)
	good := saved(t, m)
	header := 8 + 4
	set32 := func(b []byte, off int, v uint32) []byte {
		b = slices.Clone(b)
		binary.LittleEndian.PutUint32(b[off:], v)
		return resum(b)
	}
	// offset of the first node: header, counts, params, names.
	names := 0
	for _, s := range m.names {
		names += 2 + len(s)
	}
	for _, s := range m.classNms {
		names += 2 + len(s)
	}
	plen := int(binary.LittleEndian.Uint32(good[header+24:]))
	nodes := header + 32 + plen + names + 4*(m.Trees()+1)
	flipped := slices.Clone(good)
	flipped[len(flipped)/2] ^= 0x40
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"bad magic", append([]byte("ETCHFRSX"), good[8:]...)},
		{"version", set32(good, 8, 99)},
		{"zero features", set32(good, header, 0)},
		{"huge features", set32(good, header, 1<<30)},
		{"huge node count", set32(good, header+12, 1<<29)},
		{"more leaves than nodes", set32(good, header+16, 1<<29)},
		{"class names mismatch", set32(good, header+28, 7)},
		{"flipped byte", flipped},
		{"feature out of range", set32(good, nodes, 10_000)},
		{"right child backwards", set32(good, nodes+8, 0)},
		{"right child outside tree", set32(good, nodes+8, 1<<20)},
		{"NaN threshold", set32(good, nodes+4, 0x7fc00000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Load(bytes.NewReader(tc.data), model.Env{}); !errors.Is(err, ErrFormat) {
				t.Errorf("Load = %v, want ErrFormat", err)
			}
		})
	}
	for n := range len(good) {
		if _, err := Load(bytes.NewReader(good[:n]), model.Env{}); !errors.Is(err, ErrFormat) {
			t.Fatalf("truncated to %d of %d bytes: %v", n, len(good), err)
		}
	}
	var unfitted Model
	if err := unfitted.Save(&bytes.Buffer{}); !errors.Is(err, ErrNotFitted) {
		t.Errorf("saving an unfitted forest: %v", err)
	}
}

// FuzzLoad feeds damaged files to Load: it must return an error or a forest that predicts
// without panicking, never crash or allocate far beyond the input.
func FuzzLoad(f *testing.F) {
	m, d := smallForest(f)
	good := saved(f, m)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 8 && len(b) == len(good) {
			b = resum(b) // reach the structural checks, not only the checksum
		}
		l, err := Load(bytes.NewReader(b), model.Env{Threads: 1})
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v is not ErrFormat", err)
			}
			return
		}
		if l.features != d.SeqDim() {
			return
		}
		out := make([]float32, d.N*l.Classes())
		if err := l.PredictProba(context.Background(), d, out); err != nil {
			t.Fatal(err)
		}
		for _, v := range out {
			if math.IsNaN(float64(v)) {
				t.Fatal("NaN probability")
			}
		}
	})
}

func crc32IEEE(b []byte) uint32 { return crc32.ChecksumIEEE(b) }
