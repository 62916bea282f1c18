// Package model defines what every etch classifier is: the Model interface, the input layout
// models consume (Data), the spec a config gives for one model (Spec) and the registry that maps a
// config's `type:` name to a constructor. Model families live in subpackages (forest, nn,
// ensemble, onnx); the registry is built explicitly by the caller, never through package state.
// Projected wraps any model so that it reads only some features by name (a config model's own
// `features:`), and saves with it.
package model
