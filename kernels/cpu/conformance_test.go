package cpu

import (
	"fmt"
	"testing"

	"github.com/etchlab/etch/kernels"
	"github.com/etchlab/etch/kernels/kerneltest"
)

// TestConformance runs the kerneltest suite with every micro-kernel this CPU supports (the
// assembly ones and the pure-Go twin) and with one and several threads.
func TestConformance(t *testing.T) {
	for _, kr := range microKernels() {
		for _, threads := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s/threads=%d", kr.name, threads), func(t *testing.T) {
				be := New(kernels.Options{Threads: threads})
				be.kern = kr
				kerneltest.Run(t, be)
			})
		}
	}
}
