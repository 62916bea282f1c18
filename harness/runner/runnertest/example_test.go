package runnertest_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/etchlab/etch/data"
	"github.com/etchlab/etch/harness/runner/runnertest"
)

func ExampleWriteDataset() {
	dir, _ := os.MkdirTemp("", "runnertest")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "flows.parquet")
	if err := runnertest.WriteDataset(path, runnertest.Options{Flows: 50, Seed: 1}); err != nil {
		fmt.Println(err)
		return
	}
	recs, meta, err := data.ReadAll(path)
	fmt.Println(len(recs), meta.SeqLen, len(recs[0].SeqSize), meta.ExtraNames, err)
	// Output: 50 16 16 [mean_fiat flowBytesPerSecond] <nil>
}
