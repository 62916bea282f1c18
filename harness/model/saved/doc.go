// Package saved stores fitted models with everything needed to apply them to new flows: the
// file format of the models that `etch run` keeps in a run directory (models/<trial>/<name>.etchm)
// and that `etch classify` loads.
//
// A saved model ("bundle") is the magic "ETCHMODL", a little-endian uint32 format version, a
// uint32 header length, a JSON header (Preprocess: the features the model reads, in order, the
// sequence length K it was trained on, the fitted scaler and the class names; the model's name
// and type), then the model in its own native format (forest, nn or ensemble; see each
// package). LoadModel also reads those native files alone, recognising them by their magic.
//
// The format is hand-written because it only frames the model packages' own formats with a
// small JSON header; no library format (ONNX, gob) carries etch's preprocessing and native models
// together.
package saved
