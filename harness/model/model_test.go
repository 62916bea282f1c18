package model

import (
	"context"
	"errors"
	"strings"
	"testing"
)

type fixed struct{ k int }

func (f fixed) Fit(context.Context, *Data, *Data) error { return nil }
func (f fixed) PredictProba(_ context.Context, x *Data, dst []float32) error {
	for i := range dst[:x.N*f.k] {
		dst[i] = 1 / float32(f.k)
	}
	return nil
}
func (f fixed) Classes() int { return f.k }

func TestRegistry(t *testing.T) {
	r := Registry{"fixed": func(s Spec, e Env) (Model, error) {
		var p struct {
			K int `json:"k"`
		}
		if err := DecodeParams(s.Params, &p); err != nil {
			return nil, err
		}
		return fixed{p.K}, nil
	}}
	m, err := r.New(Spec{Name: "a", Type: "fixed", Params: map[string]any{"k": 3}}, Env{})
	if err != nil || m.Classes() != 3 {
		t.Fatalf("New = %v, %v", m, err)
	}
	if _, err := r.New(Spec{Name: "b", Type: "nope"}, Env{}); !errors.Is(err, ErrUnknownType) {
		t.Errorf("unknown type: %v", err)
	}
	_, err = r.New(Spec{Name: "c", Type: "fixed", Params: map[string]any{"kk": 3}}, Env{})
	if err == nil || !strings.Contains(err.Error(), `unknown field "kk"`) || !strings.Contains(err.Error(), `model "c"`) {
		t.Errorf("unknown key: %v", err)
	}
	_, err = r.New(Spec{Name: "d", Type: "fixed", Params: map[string]any{"k": "x"}}, Env{})
	if err == nil {
		t.Error("wrong type accepted")
	}
}

func TestDataSliceValidate(t *testing.T) {
	d := &Data{N: 3, Tab: []float32{1, 2, 3, 4, 5, 6}, TabNames: []string{"a", "b"},
		Seq: []float32{1, 2, 3}, SeqLen: 1, SeqChannels: []string{"s"}, Y: []int32{0, 1, 0}, Classes: 2}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	s := d.Slice([]int{2, 0})
	if s.N != 2 || s.Tab[0] != 5 || s.Tab[3] != 2 || s.Seq[0] != 3 || s.Y[1] != 0 {
		t.Errorf("Slice = %+v", s)
	}
	bad := *d
	bad.Y = []int32{0, 2, 0}
	if err := bad.Validate(); !errors.Is(err, ErrShape) {
		t.Errorf("label out of range: %v", err)
	}
	bad = *d
	bad.Tab = bad.Tab[:5]
	if err := bad.Validate(); !errors.Is(err, ErrShape) {
		t.Errorf("short tab: %v", err)
	}
}
