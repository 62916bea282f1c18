//go:build cuda

package cuda_test

import (
	"fmt"

	"github.com/etchlab/etch/kernels"
	"github.com/etchlab/etch/kernels/cuda"
)

// ExampleNew opens the first GPU and runs a GEMM on it (no Output: the device varies).
func ExampleNew() {
	be, err := cuda.New(0, kernels.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	a, b, c := be.Alloc(4), be.Alloc(4), be.Alloc(4)
	be.Upload(a, []float32{1, 2, 3, 4})
	be.Upload(b, []float32{1, 0, 0, 1})
	be.Gemm(false, false, 2, 2, 2, 1, a, 2, b, 2, 0, c, 2)
	out := make([]float32, 4)
	be.Download(out, c)
	fmt.Println(be.Device(), out, be.Sync())
}
