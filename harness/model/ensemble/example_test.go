package ensemble_test

import (
	"context"
	"fmt"

	"github.com/etchlab/etch/harness/model"
	"github.com/etchlab/etch/harness/model/ensemble"
)

// constant always predicts the same distribution.
type constant []float32

func (c constant) Fit(context.Context, *model.Data, *model.Data) error { return nil }
func (c constant) Classes() int                                        { return len(c) }
func (c constant) PredictProba(_ context.Context, x *model.Data, dst []float32) error {
	for r := range x.N {
		copy(dst[r*len(c):], c)
	}
	return nil
}

// A soft vote over two already-fitted members, weighted 3:1.
func Example() {
	env := model.Env{Members: map[string]model.Model{
		"rf":  constant{0.8, 0.2},
		"cnn": constant{0.4, 0.6},
	}}
	reg := model.Registry{}
	ensemble.Register(reg)
	m, err := reg.New(model.Spec{Name: "vote", Type: ensemble.SoftVote,
		Params: map[string]any{"members": []string{"rf", "cnn"}, "weights": []float64{3, 1}}}, env)
	if err != nil {
		panic(err)
	}
	x := &model.Data{N: 1, TabNames: []string{"f"}, Tab: []float32{0}, Y: []int32{0}, Classes: 2}
	if err := m.Fit(context.Background(), x, nil); err != nil {
		panic(err)
	}
	p := make([]float32, 2)
	_ = m.PredictProba(context.Background(), x, p)
	fmt.Printf("%.2f %.2f\n", p[0], p[1])
	// Output: 0.70 0.30
}
