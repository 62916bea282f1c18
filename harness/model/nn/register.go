package nn

import (
	"github.com/etchlab/etch/harness/model"
)

// TypeNN is the model type whose architecture is given as a layer list.
const TypeNN = "nn"

// Register adds the neural model types to reg: `nn` (layers given in the parameters) and the
// presets `dnn`, `cnn_lstm`, `cnn_gru` and `rnn_baseline`. Every constructor decodes Params
// strictly (unknown keys are errors) and expects Env.Backend to be a kernels.Backend or nil (then
// the model opens the CPU backend itself).
func Register(reg model.Registry) {
	for _, t := range append([]string{TypeNN}, Presets()...) {
		reg[t] = Constructor(t)
	}
}

// Constructor returns the constructor of model type kind ("nn" or a preset).
func Constructor(kind string) model.Constructor {
	return func(spec model.Spec, env model.Env) (model.Model, error) {
		var p Params
		if err := model.DecodeParams(spec.Params, &p); err != nil {
			return nil, err
		}
		return New(kind, p, env)
	}
}
