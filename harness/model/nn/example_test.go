package nn_test

import (
	"bytes"
	"context"
	"fmt"

	"github.com/etchlab/etch/harness/model"
	"github.com/etchlab/etch/harness/model/nn"
)

// Example registers the neural model types, trains a small cnn_lstm on two kinds of flows
// (large first packets or small ones), saves it in the native format and loads it back.
func Example() {
	reg := model.Registry{}
	nn.Register(reg)
	fmt.Println(reg.Types())

	const n, steps = 64, 8
	d := &model.Data{N: n, SeqLen: steps, SeqChannels: []string{"seq_size"}, Classes: 2,
		ClassNames: []string{"video", "chat"}, Seq: make([]float32, n*steps), Y: make([]int32, n)}
	for i := range n {
		d.Y[i] = int32(i % 2)
		for t := range steps {
			size := 1400 - 1300*float32(i%2) + float32((i*7+t*13)%50)
			d.Seq[i*steps+t] = size
		}
	}
	m, err := reg.New(model.Spec{Name: "demo", Type: "cnn_lstm", Params: map[string]any{
		"filters": []int{4}, "units": []int{4}, "dense": []int{4}, "epochs": 15, "lr": 0.02, "batch": 16, "val": 0,
	}}, model.Env{Seed: 1, Threads: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := m.Fit(context.Background(), d, nil); err != nil {
		fmt.Println(err)
		return
	}
	var buf bytes.Buffer
	if err := m.(model.Saver).Save(&buf); err != nil {
		fmt.Println(err)
		return
	}
	loaded, err := nn.Load(&buf, model.Env{Threads: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	probs := make([]float32, n*2)
	if err := loaded.PredictProba(context.Background(), d, probs); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("first flow: P(video) > 0.5: %v; second flow: P(chat) > 0.5: %v\n", probs[0] > 0.5, probs[3] > 0.5)
	// Output:
	// [cnn_gru cnn_lstm dnn nn rnn_baseline]
	// first flow: P(video) > 0.5: true; second flow: P(chat) > 0.5: true
}
