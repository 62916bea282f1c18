package config_test

import (
	"fmt"

	"github.com/etchlab/etch/harness/config"
)

func ExampleExperiment_Expand() {
	e, err := config.Parse("topn.yaml", []byte(`
name: topn
data: {path: flows.parquet, filter: {top_n: 25}}
models: [{name: rf, type: forest, trees: 100}]
sweep:
  data.filter.top_n: [10, 50]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := e.Validate(config.KnownFamilies); err != nil {
		fmt.Println(err)
		return
	}
	o, _ := config.ParseOverride("models.rf.trees=10")
	e, _ = e.Apply(o)
	points, _ := e.Expand()
	for _, p := range points {
		fmt.Println(p.Index, p.Config.Data.Filter.TopN, p.Config.Models[0].Params["trees"])
	}
	// Output:
	// 0 10 10
	// 1 50 10
}

func ExampleParse_error() {
	_, err := config.Parse("bad.yaml", []byte("name: x\ndata:\n  pth: flows.parquet\n"))
	fmt.Println(err)
	// Output:
	// bad.yaml:3:3: unknown field "pth"
}
