package runner_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/etchlab/etch/harness/config"
	"github.com/etchlab/etch/harness/runner"
	"github.com/etchlab/etch/harness/runner/runnertest"
)

func ExampleRun() {
	dir, _ := os.MkdirTemp("", "runner-example")
	defer os.RemoveAll(dir)
	if err := runnertest.WriteDataset(filepath.Join(dir, "flows.parquet"), runnertest.Options{Flows: 300, Seed: 1}); err != nil {
		fmt.Println(err)
		return
	}
	exp, err := config.Parse("example.yaml", []byte(`
name: example
seed: 1
backend: cpu
data: {path: flows.parquet, features: [stats]}
models: [{name: rf, type: forest, trees: 20}]
sweep:
  data.filter.top_n: [2, 4]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := runner.Run(context.Background(), exp, runner.Options{Version: "example", WorkDir: dir,
		Registry: runner.DefaultRegistry(""), Command: "etch run example.yaml"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range out.Results.Trials {
		fmt.Printf("%s top_n=%v classes=%d accuracy>0.9: %v\n", t.ID, t.Params["data.filter.top_n"], len(t.Dataset.Classes), t.Models["rf"].Accuracy > 0.9)
	}
	fmt.Println(filepath.Base(filepath.Dir(out.Dir)), out.Ran, out.Cached)
	// Output:
	// t1r0 top_n=2 classes=2 accuracy>0.9: true
	// t2r0 top_n=4 classes=4 accuracy>0.9: true
	// example 2 0
}
