package cpu_test

import (
	"fmt"

	"github.com/etchlab/etch/kernels"
	"github.com/etchlab/etch/kernels/cpu"
)

func ExampleNew() {
	be := cpu.New(kernels.Options{Threads: 2})
	// A fused LSTM step on one row with hidden size 1: gates (pre-activations) i, f, g, o.
	gates, cPrev, c, h := be.Alloc(4), be.Alloc(1), be.Alloc(1), be.Alloc(1)
	be.Upload(gates, []float32{10, -10, 10, 10}) // i≈1, f≈0, g≈1, o≈1
	be.Upload(cPrev, []float32{5})
	be.LSTMCellForward(1, 1, gates, cPrev, c, h)
	out := make([]float32, 1)
	be.Download(out, c)
	fmt.Printf("%s: c = %.3f\n", be.Name(), out[0])
	// Output: cpu: c = 1.000
}
