package slurm_test

import (
	"fmt"

	"github.com/etchlab/etch/harness/slurm"
)

func ExampleParseArray() {
	ids, err := slurm.ParseArray("0-3,8,10-14:2%4")
	fmt.Println(ids, err)
	// Output: [0 1 2 3 8 10 12 14] <nil>
}

func ExampleFormatArray() {
	// The trials without a result, by their position in the plan, at most 2 tasks at once.
	fmt.Println(slurm.FormatArray([]int{0, 1, 2, 5, 7, 8}, 2))
	// Output: 0-2,5,7-8%2
}

func ExampleSettings_WithDefaults() {
	// Flags win over the experiment's executor block; unset values come from it.
	flags := slurm.Settings{Partition: "gpu"}
	s := flags.WithDefaults(nil)
	fmt.Printf("%q %d\n", s.Partition, s.CPUsPerTask)
	// Output: "gpu" 0
}
