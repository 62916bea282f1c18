package data

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

func scaleData() *Dataset {
	// 4 rows, tab (a, iat_x), seq 2 steps × channels (seq_size, seq_iat_us).
	return &Dataset{
		N: 4, TabNames: []string{"a", "iat_x"}, SeqLen: 2, SeqChannels: []string{"seq_size", "seq_iat_us"},
		Tab: []float32{0, 0, 2, math.E - 1, 4, 0, 1000, 0},
		Seq: []float32{1, 0, -1, 9, 3, 0, -3, 0, 5, 0, 5, 0, 100, 0, 100, 0},
	}
}

func TestScaler(t *testing.T) {
	train := []int{0, 1, 2} // row 3 is held out: its 1000 and 100 must not move the fit
	for _, tc := range []struct {
		method   string
		log      []string
		wantTab  []float32 // row 0..1 after scaling
		wantSeq0 []float32
	}{
		{ScaleMinMax, nil, []float32{0, 0, 0.5, 1}, []float32{0.5, 0, 0.25, 1}},
		{ScaleStandard, nil, []float32{-1.2247449, -0.70710677, 0, 1.4142135}, nil},
		{ScaleNone, []string{"iat_x", "seq_iat_us"}, []float32{0, 0, 2, 1}, []float32{1, 0, -1, float32(math.Log(10))}},
	} {
		t.Run(tc.method, func(t *testing.T) {
			d := scaleData()
			s, err := Fit(d, train, ScaleOptions{Method: tc.method, Log: tc.log})
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := s.WriteJSON(&buf); err != nil {
				t.Fatal(err)
			}
			s2, err := ReadScaler(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if err := s2.Transform(d); err != nil {
				t.Fatal(err)
			}
			for i, w := range tc.wantTab {
				if math.Abs(float64(d.Tab[i]-w)) > 1e-5 {
					t.Errorf("tab[%d] = %v, want %v (all %v)", i, d.Tab[i], w, d.Tab[:4])
				}
			}
			for i, w := range tc.wantSeq0 {
				if math.Abs(float64(d.Seq[i]-w)) > 1e-5 {
					t.Errorf("seq[%d] = %v, want %v (all %v)", i, d.Seq[i], w, d.Seq[:4])
				}
			}
		})
	}
}

func TestScalerErrors(t *testing.T) {
	d := scaleData()
	if _, err := Fit(d, nil, ScaleOptions{Method: "zscore"}); err == nil {
		t.Error("unknown method accepted")
	}
	if _, err := Fit(d, nil, ScaleOptions{Log: []string{"nope"}}); err == nil {
		t.Error("unknown log feature accepted")
	}
	if _, err := Fit(d, []int{7}, ScaleOptions{}); err == nil {
		t.Error("row outside the data accepted")
	}
	s, err := Fit(d, nil, ScaleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := IATNames(d); len(got) != 2 || got[0] != "iat_x" || got[1] != "seq_iat_us" {
		t.Errorf("IATNames = %v", got)
	}
	d.TabNames = []string{"a", "b"}
	if err := s.Transform(d); !errors.Is(err, ErrScaler) {
		t.Errorf("mismatched names: %v", err)
	}
	for _, bad := range []string{`{"method":"x"}`, `{"method":"none","extra":1}`, `{"method":"none","tab":[{"name":"a","shift":1,"mul":1e999}]}`} {
		if _, err := ReadScaler(strings.NewReader(bad)); err == nil {
			t.Errorf("ReadScaler(%s) accepted", bad)
		}
	}
}

func ExampleFit() {
	d := &Dataset{N: 3, TabNames: []string{"duration_s", "iat_all_p50"},
		Tab: []float32{1, 10, 2, 100, 3, 1000}}
	train := []int{0, 1} // fit on the training rows only
	s, _ := Fit(d, train, ScaleOptions{Method: ScaleMinMax, Log: IATNames(d)})
	_ = s.Transform(d)
	fmt.Printf("%.2f\n", d.Tab)
	// Output: [0.00 0.00 1.00 1.00 2.00 2.03]
}
