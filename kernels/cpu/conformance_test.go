package cpu

import (
	"testing"

	"github.com/etchlab/etch/kernels"
	"github.com/etchlab/etch/kernels/kerneltest"
)

func TestConformance(t *testing.T) {
	for _, threads := range []int{1, 3} {
		t.Run(map[int]string{1: "threads=1", 3: "threads=3"}[threads], func(t *testing.T) {
			kerneltest.Run(t, New(kernels.Options{Threads: threads}))
		})
	}
}
