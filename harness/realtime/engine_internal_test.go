package realtime

import (
	"slices"
	"testing"
)

func TestTop3(t *testing.T) {
	names := []string{"a", "b", "c", "d"}
	for _, tc := range []struct {
		p     []float32
		label string
		top   []string
	}{
		{[]float32{0.1, 0.2, 0.3, 0.4}, "d", []string{"d", "c", "b"}},
		{[]float32{0.4, 0.3, 0.2, 0.1}, "a", []string{"a", "b", "c"}},
		{[]float32{0.25, 0.25, 0.25, 0.25}, "a", []string{"a", "b", "c"}}, // ties: lower index first
		{[]float32{0, 0.5, 0, 0.5}, "b", []string{"b", "d", "a"}},
		{[]float32{0.7, 0.3}, "a", []string{"a", "b"}},
	} {
		var d Decision
		top3(tc.p, names[:len(tc.p)], &d)
		var got []string
		for _, s := range d.Top3 {
			got = append(got, s.Label)
		}
		if d.Label != tc.label || !slices.Equal(got, tc.top) || d.Probability != d.Top3[0].P {
			t.Errorf("%v: label %s top %v, want %s %v", tc.p, d.Label, got, tc.label, tc.top)
		}
	}
}

func TestLatencyHist(t *testing.T) {
	var h latencyHist
	if h.quantile(0.99) != 0 {
		t.Fatal("empty histogram")
	}
	for i := range int64(100) {
		h.add(i + 1) // 1..100 µs
	}
	h.add(5_000_000) // saturates
	for _, tc := range []struct {
		q    float64
		want int64
	}{{0, 1}, {0.5, 51}, {0.99, 100}, {1, histMax}} {
		if got := h.quantile(tc.q); got != tc.want {
			t.Errorf("q%v = %d, want %d", tc.q, got, tc.want)
		}
	}
}
