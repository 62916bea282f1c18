// Package onnx runs ONNX classifiers as etch models through ONNX Runtime
// (github.com/yalue/onnxruntime_go, which needs cgo and loads the ONNX Runtime shared library at
// run time), and exports etch's own models to ONNX.
//
// Any classifier that takes one float tensor and yields class probabilities loads: a plain
// [N, K] probability tensor (Keras, PyTorch exports ending in softmax) or scikit-learn's ZipMap
// output, a sequence of maps from class label to probability. Labels of a ZipMap are matched to
// the experiment's classes by name (string labels) or taken as class indices (int64 labels).
//
// The ONNX Runtime library is found through, in order: the path given to NewRuntime, the
// ETCH_ONNXRUNTIME_LIB environment variable, the Makefile's cache beside the binary
// (../.cache/onnxruntime/libonnxruntime.so.1 relative to bin/etch), and the dynamic loader's
// search path (libonnxruntime.so.1). `make onnxruntime` fetches the pinned version, 1.24.1, which
// onnxruntime_go v1.27.0 requires, from the npm package onnxruntime-node.
//
// The export side writes ONNX protobufs by hand with google.golang.org/protobuf/encoding/protowire:
// the few messages an exported model needs do not justify generated code for the whole ONNX schema.
package onnx
