package forest_test

import (
	"bytes"
	"context"
	"fmt"

	"github.com/etchlab/etch/harness/model"
	"github.com/etchlab/etch/harness/model/forest"
)

// Fit a forest on flows described by their first three packet sizes, save it, load it back and
// predict a new flow.
func Example() {
	x := &model.Data{N: 6, SeqLen: 3, SeqChannels: []string{"seq_size"}, Classes: 2, ClassNames: []string{"chat", "video"},
		Seq: []float32{
			90, 120, 80, 100, 110, 95, 85, 130, 70, // chat: small packets
			1400, 1500, 1300, 1350, 1500, 1450, 1500, 1420, 1380, // video: large packets
		},
		Y: []int32{0, 0, 0, 1, 1, 1}}
	reg := model.Registry{}
	forest.Register(reg)
	m, err := reg.New(model.Spec{Name: "rf", Type: forest.Type, Params: map[string]any{"trees": 10}}, model.Env{Seed: 1, Threads: 2})
	if err != nil {
		panic(err)
	}
	if err := m.Fit(context.Background(), x, nil); err != nil {
		panic(err)
	}
	var saved bytes.Buffer
	if err := m.(model.Saver).Save(&saved); err != nil {
		panic(err)
	}
	loaded, err := forest.Load(&saved, model.Env{Threads: 1})
	if err != nil {
		panic(err)
	}
	flow := &model.Data{N: 1, SeqLen: 3, SeqChannels: []string{"seq_size"}, Classes: 2, Seq: []float32{1200, 1490, 1400}}
	p := make([]float32, 2)
	if err := loaded.PredictProba(context.Background(), flow, p); err != nil {
		panic(err)
	}
	fmt.Printf("video %.1f\n", p[1])
	// Output: video 1.0
}
