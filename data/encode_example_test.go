package data_test

import (
	"fmt"

	"github.com/etchlab/etch/data"
)

// Encode one flow record into the row data.Load would give for the features
// [duration_s, seq_size, seq_dir] with data.packets 3.
func ExampleEncoder() {
	enc, err := data.NewEncoder([]string{"duration_s"}, []string{data.GroupSeqSize, data.GroupSeqDir}, 3)
	if err != nil {
		panic(err)
	}
	r := &data.Record{DurationS: 0.25, SeqSize: []int32{60, -60, 517, -1400}, SeqDir: []int32{1, -1, 1, -1}}
	tab, seq := make([]float32, enc.TabDim()), make([]float32, enc.SeqDim())
	enc.Encode(r, tab, seq)
	fmt.Println(tab, seq)
	// Output: [0.25] [60 1 -60 -1 517 1]
}
