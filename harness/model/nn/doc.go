// Package nn is etch's neural-network model family: layers (Dense, Conv1D, MaxPool1D, LSTM, GRU,
// BatchNorm, Dropout, activations), softmax cross-entropy with class weights, Adam, a seeded
// mini-batch training loop with a validation split and early stopping, the presets `dnn`,
// `cnn_lstm`, `cnn_gru` and `rnn_baseline`, a versioned native save format and ONNX export.
//
// Architectures are data: a `type: nn` model lists its layers in its parameters, and each preset is
// a function from a few overridable sizes to such a list. The network is cut into a sequence branch
// (layers that see batch × time × channel tensors, channels last), an optional tabular branch, and a head that
// starts where the sequence branch turns into a vector (a recurrent layer's last state or a
// flatten); the head's input is the sequence vector concatenated with the tabular vector.
//
// Every computation runs through kernels.Backend on kernels.Buffer values; host slices exist only
// where a batch is uploaded, predictions are downloaded, or parameters are saved and loaded, so the
// CUDA backend runs these models unchanged. The code is hand-written rather than borrowed because no
// Go library trains recurrent networks fast enough.
//
// Recurrent layers have two paths with the same parameters. On a backend with fused cells
// (kernels.LSTMCeller, kernels.GRUCeller) the input is copied to time-major order once, the input
// projections of all time steps are one GEMM, and each step is one recurrent GEMM plus the fused
// cell; backward ends with two big GEMMs. On a backend with only the base operations, each step is
// laid out feature-major (gates·hidden × batch) so that the recurrence is GEMMs on contiguous
// blocks plus elementwise kernels. Adam uses kernels.AdamStepper, or a host update where a backend
// lacks it. Tests check every layer's gradients by finite differences, both recurrent paths against
// each other, and every preset's ONNX export against ONNX Runtime.
package nn
