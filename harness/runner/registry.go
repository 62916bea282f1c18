package runner

import (
	"github.com/etchlab/etch/harness/model"
	"github.com/etchlab/etch/harness/model/onnx"
)

// DefaultRegistry returns a registry with every model family this build has. onnxLib is the
// ONNX Runtime library path for `type: onnx` ("" finds it as harness/model/onnx documents);
// the library is loaded only when an onnx model is built.
func DefaultRegistry(onnxLib string) model.Registry {
	reg := model.Registry{}
	reg["onnx"] = onnx.Constructor(onnx.NewRuntime(onnxLib))
	return reg
}
