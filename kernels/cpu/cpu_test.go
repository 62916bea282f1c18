package cpu

import (
	"context"
	"errors"
	"testing"

	"github.com/etchlab/etch/kernels"
)

func TestOpen(t *testing.T) {
	ctx := context.Background()
	openers := []kernels.Opener{Opener{}}
	tests := []struct {
		name    string
		want    string
		wantErr error
	}{
		{"auto", "cpu", nil},
		{"", "cpu", nil},
		{"cpu", "cpu", nil},
		{"cuda", "", kernels.ErrNoDevice},
		{"tpu", "", kernels.ErrUnknownBackend},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, reason, err := kernels.Open(ctx, tc.name, openers, kernels.Options{Threads: 2})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Open(%q) error = %v, want %v", tc.name, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open(%q): %v", tc.name, err)
			}
			if b.Name() != tc.want || reason == "" {
				t.Fatalf("Open(%q) = %s, %q", tc.name, b.Name(), reason)
			}
		})
	}
}

func TestGemmSmall(t *testing.T) {
	be := New(kernels.Options{Threads: 2})
	a := be.Alloc(6) // 2x3
	b := be.Alloc(6) // 3x2
	c := be.Alloc(4)
	be.Upload(a, []float32{1, 2, 3, 4, 5, 6})
	be.Upload(b, []float32{7, 8, 9, 10, 11, 12})
	be.Gemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2)
	got := make([]float32, 4)
	be.Download(got, c)
	want := []float32{58, 64, 139, 154}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Gemm = %v, want %v", got, want)
		}
	}
}
