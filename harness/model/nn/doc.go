// Package nn is etch's neural-network model family: layers (Dense, Conv1D, MaxPool1D, LSTM, GRU,
// BatchNorm, Dropout, activations), softmax cross-entropy with class weights, Adam, a seeded
// mini-batch training loop with a validation split and early stopping, the presets `dnn`,
// `cnn_lstm`, `cnn_gru` and `rnn_baseline`, a versioned native save format and ONNX export.
//
// Architectures are data: a `type: nn` model lists its layers in its parameters, and each preset is
// a function from a few overridable sizes to such a list. The network is cut into a sequence branch
// (layers that see [batch][time][channel] tensors), an optional tabular branch, and a head that
// starts where the sequence branch turns into a vector (a recurrent layer's last state or a
// flatten); the head's input is the sequence vector concatenated with the tabular vector.
//
// Every computation runs through kernels.Backend on kernels.Buffer values; host slices exist only
// where a batch is uploaded, predictions are downloaded, or parameters are saved and loaded, so the
// CUDA backend runs these models unchanged. The code is hand-written rather than borrowed because no
// Go library trains recurrent networks fast enough, and the recurrent layers are laid out
// feature-major per time step ([gates*hidden][batch]) so that the whole recurrence is GEMMs on
// contiguous blocks plus elementwise kernels, which a GPU backend also runs well.
package nn
