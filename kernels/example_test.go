package kernels_test

import (
	"context"
	"fmt"

	"github.com/etchlab/etch/kernels"
	"github.com/etchlab/etch/kernels/cpu"
)

func ExampleOpen() {
	ctx := context.Background()
	b, _, err := kernels.Open(ctx, "auto", []kernels.Opener{cpu.Opener{}}, kernels.Options{Threads: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	// C = A·B for A 2×3, B 3×2.
	a, bm, c := b.Alloc(6), b.Alloc(6), b.Alloc(4)
	b.Upload(a, []float32{1, 2, 3, 4, 5, 6})
	b.Upload(bm, []float32{1, 0, 0, 1, 1, 1})
	b.Gemm(false, false, 2, 2, 3, 1, a, 3, bm, 2, 0, c, 2)
	out := make([]float32, 4)
	b.Download(out, c)
	fmt.Println(b.Name(), out)

	_, _, err = kernels.Open(ctx, "cuda", []kernels.Opener{cpu.Opener{}}, kernels.Options{})
	fmt.Println(err)
	// Output:
	// cpu [4 5 10 11]
	// kernels: open cuda: kernels: no usable device: this binary has no cuda backend
}
