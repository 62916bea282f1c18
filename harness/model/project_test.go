package model

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
)

// recorder remembers the data it was given and predicts its first tabular value (and first
// sequence value) as the two class scores; it saves as "REC" + k.
type recorder struct {
	k    int
	seen *Data
}

func (r *recorder) Fit(_ context.Context, train, _ *Data) error { r.seen = train; return nil }
func (r *recorder) PredictProba(_ context.Context, x *Data, dst []float32) error {
	r.seen = x
	for i := range x.N {
		if len(x.Tab) > 0 {
			dst[i*2] = x.Tab[i*x.TabDim()]
		}
		if len(x.Seq) > 0 {
			dst[i*2+1] = x.Seq[i*x.SeqDim()]
		}
	}
	return nil
}
func (r *recorder) Classes() int { return 2 }
func (r *recorder) Save(w io.Writer) error {
	_, err := fmt.Fprintf(w, "REC%d", r.k)
	return err
}

func loadRecorder(r io.Reader) (Model, error) {
	b, err := io.ReadAll(r)
	if err != nil || !bytes.HasPrefix(b, []byte("REC")) {
		return nil, fmt.Errorf("not a recorder: %q %v", b, err)
	}
	var k int
	if _, err := fmt.Sscanf(string(b[3:]), "%d", &k); err != nil {
		return nil, err
	}
	return &recorder{k: k}, nil
}

// input has tabular a, b, c (row i: 10i+1, 10i+2, 10i+3) and channels x, y over 2 steps
// (row i, step t: x = 100i+10t, y = 100i+10t+1).
func input() *Data {
	d := &Data{N: 2, TabNames: []string{"a", "b", "c"}, SeqChannels: []string{"x", "y"}, SeqLen: 2, Classes: 2}
	for i := range 2 {
		for j := range 3 {
			d.Tab = append(d.Tab, float32(10*i+j+1))
		}
		for t := range 2 {
			d.Seq = append(d.Seq, float32(100*i+10*t), float32(100*i+10*t+1))
		}
	}
	return d
}

func TestProjected(t *testing.T) {
	tests := []struct {
		name          string
		tab, channels []string
		wantTab       []float32
		wantSeq       []float32
		err           bool
	}{
		{"tab reordered", []string{"c", "a"}, nil, []float32{3, 1, 13, 11}, nil, false},
		{"one channel", nil, []string{"y"}, nil, []float32{1, 11, 101, 111}, false},
		{"both", []string{"b"}, []string{"y", "x"}, []float32{2, 12}, []float32{1, 0, 11, 10, 101, 100, 111, 110}, false},
		{"missing feature", []string{"z"}, nil, nil, nil, true},
		{"missing channel", nil, []string{"z"}, nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			p := &Projected{Model: rec, Tab: tt.tab, Channels: tt.channels}
			dst := make([]float32, 4)
			err := p.PredictProba(context.Background(), input(), dst)
			if tt.err {
				if !errors.Is(err, ErrProjection) {
					t.Fatalf("err = %v, want ErrProjection", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := rec.seen.Validate(); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rec.seen.Tab, tt.wantTab) || !slices.Equal(rec.seen.Seq, tt.wantSeq) ||
				!slices.Equal(rec.seen.TabNames, tt.tab) || !slices.Equal(rec.seen.SeqChannels, tt.channels) {
				t.Errorf("saw tab %v %v, seq %v %v", rec.seen.TabNames, rec.seen.Tab, rec.seen.SeqChannels, rec.seen.Seq)
			}
			if err := p.Fit(context.Background(), input(), nil); err != nil || rec.seen.N != 2 {
				t.Errorf("fit: %v", err)
			}
		})
	}
}

func TestProjectedSaveLoad(t *testing.T) {
	p := &Projected{Model: &recorder{k: 7}, Tab: []string{"c"}, Channels: []string{"y"}}
	var b bytes.Buffer
	if err := p.Save(&b); err != nil {
		t.Fatal(err)
	}
	saved := b.Bytes()
	q, err := LoadProjected(bytes.NewReader(saved), loadRecorder)
	if err != nil {
		t.Fatal(err)
	}
	if q.Model.(*recorder).k != 7 || !slices.Equal(q.Tab, p.Tab) || !slices.Equal(q.Channels, p.Channels) {
		t.Fatalf("loaded %+v", q)
	}
	// Corruptions: every one is an error wrapping ErrProjection, never a panic.
	flip := slices.Clone(saved)
	flip[len(ProjectedMagic)+6] ^= 1
	huge := slices.Clone(saved)
	binary.LittleEndian.PutUint32(huge[len(ProjectedMagic):], 1<<30)
	for name, in := range map[string][]byte{"empty": nil, "magic": []byte("ETCHPROX\x00\x00\x00\x00"),
		"truncated": saved[:len(ProjectedMagic)+5], "checksum": flip, "huge header": huge} {
		if _, err := LoadProjected(bytes.NewReader(in), loadRecorder); !errors.Is(err, ErrProjection) {
			t.Errorf("%s: err = %v, want ErrProjection", name, err)
		}
	}
	if err := (&Projected{Model: fixed{2}, Tab: []string{"a"}}).Save(io.Discard); err == nil {
		t.Error("saving a projection of a model that cannot be saved succeeded")
	}
}

func FuzzLoadProjected(f *testing.F) {
	var b bytes.Buffer
	if err := (&Projected{Model: &recorder{k: 1}, Tab: []string{"a", "b"}, Channels: []string{"x"}}).Save(&b); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add([]byte(ProjectedMagic))
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := LoadProjected(bytes.NewReader(in), loadRecorder)
		if err == nil && len(p.Tab)+len(p.Channels) == 0 {
			t.Fatal("loaded a projection without features")
		}
	})
}

func ExampleProjected() {
	// A model that reads only feature "c" and channel "y" of a wider input.
	p := &Projected{Model: &recorder{}, Tab: []string{"c"}, Channels: []string{"y"}}
	dst := make([]float32, 4)
	if err := p.PredictProba(context.Background(), input(), dst); err != nil {
		fmt.Println(err)
	}
	fmt.Println(dst)
	// Output: [3 1 13 101]
}
