package runner

import (
	"github.com/etchlab/etch/harness/model"
	"github.com/etchlab/etch/harness/model/ensemble"
	"github.com/etchlab/etch/harness/model/forest"
	"github.com/etchlab/etch/harness/model/nn"
	"github.com/etchlab/etch/harness/model/onnx"
)

// DefaultRegistry returns a registry with every model family this build has. onnxLib is the
// ONNX Runtime library path for `type: onnx` ("" finds it as harness/model/onnx documents);
// the library is loaded only when an onnx model is built.
func DefaultRegistry(onnxLib string) model.Registry {
	reg := model.Registry{}
	reg["onnx"] = onnx.Constructor(onnx.NewRuntime(onnxLib))
	forest.Register(reg)
	ensemble.Register(reg)
	nn.Register(reg)
	return reg
}
