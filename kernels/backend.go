package kernels

import (
	"context"
	"errors"
	"log/slog"
)

// Buffer is an opaque device buffer of float32 elements. Only the backend that allocated a Buffer
// may read or write it; host code moves data with Backend.Upload and Backend.Download.
type Buffer interface {
	// Len is the number of float32 elements in the buffer.
	Len() int
}

// Activation selects an elementwise activation function for Backend.Act and Backend.ActBackward.
type Activation int

// Activations. Their derivatives are expressed through the output y (see Backend.ActBackward).
const (
	// Identity is f(x) = x.
	Identity Activation = iota
	// ReLU is f(x) = max(x, 0).
	ReLU
	// Sigmoid is f(x) = 1 / (1 + exp(-x)).
	Sigmoid
	// Tanh is f(x) = tanh(x).
	Tanh
)

// String returns the lower-case name of the activation ("identity", "relu", "sigmoid", "tanh").
func (a Activation) String() string {
	switch a {
	case Identity:
		return "identity"
	case ReLU:
		return "relu"
	case Sigmoid:
		return "sigmoid"
	case Tanh:
		return "tanh"
	}
	return "activation(?)"
}

// Backend is a compute device: memory management plus the kernels etch's models are built from.
//
// All matrices are float32, row-major, with an explicit leading dimension (row stride, in
// elements). Integer data (class labels, pooling argmax indices) is stored as float32-encoded
// integers (exact up to 2^24). Kernels are asynchronous on devices that queue work: results are
// visible to Download (which synchronises) and to the reductions that return a value. Invalid
// arguments (wrong sizes, foreign buffers) are programming errors and panic with a message naming
// the kernel, like a BLAS argument check; data never reaches a kernel unchecked from user input.
type Backend interface {
	// Name is the backend's short name: "cpu", "cuda".
	Name() string
	// Device is a human-readable description of the hardware (CPU model and threads, GPU name).
	Device() string

	// Alloc returns a zeroed buffer of n elements.
	Alloc(n int) Buffer
	// Free releases b. b (and every View of it) must not be used afterwards. Free(nil) is a no-op.
	Free(b Buffer)
	// Upload copies src into the first len(src) elements of dst (len(src) <= dst.Len()).
	Upload(dst Buffer, src []float32)
	// Download copies the first len(dst) elements of src into dst (len(dst) <= src.Len()),
	// waiting for queued work first.
	Download(dst []float32, src Buffer)
	// View returns the n elements of b starting at off, sharing b's memory.
	View(b Buffer, off, n int) Buffer
	// Copy copies src into dst (equal lengths, or the first src.Len() elements of dst).
	Copy(dst, src Buffer)
	// Fill sets every element of b to v.
	Fill(b Buffer, v float32)
	// Sync waits for queued work and returns any deferred device error.
	Sync() error

	// Gemm computes C = alpha*op(A)*op(B) + beta*C where op(X) is X or Xᵀ (transA, transB).
	// op(A) is m×k, op(B) is k×n, C is m×n; lda, ldb, ldc are the row strides of A, B, C as
	// stored (A is k×m when transA). beta == 0 overwrites C (NaNs in C do not propagate).
	Gemm(transA, transB bool, m, n, k int, alpha float32, a Buffer, lda int, b Buffer, ldb int, beta float32, c Buffer, ldc int)

	// Copy2D copies a rows×cols block: dst[r*ldd+c] = src[r*lds+c].
	Copy2D(rows, cols int, src Buffer, lds int, dst Buffer, ldd int)
	// Axpy2D adds a rows×cols block: y[r*ldy+c] += alpha*x[r*ldx+c].
	Axpy2D(rows, cols int, alpha float32, x Buffer, ldx int, y Buffer, ldy int)

	// Im2Col1D unfolds x, laid out [batch][length][cin] (channels last), into
	// cols [batch*outLen][k*cin] with outLen = (length+2*pad-k)/stride + 1; column j*cin+ci of
	// row (b, t) is x[b][t*stride+j-pad][ci], or 0 in the padding. A Conv1D with weights
	// W [k*cin][cout] is then Gemm(cols, W).
	Im2Col1D(x Buffer, batch, length, cin, k, pad, stride int, cols Buffer)
	// Col2Im1D is the adjoint of Im2Col1D: it ACCUMULATES cols into dx (dx += col2im(cols)).
	Col2Im1D(cols Buffer, batch, length, cin, k, pad, stride int, dx Buffer)
	// MaxPool1D pools x [batch][length][c] over non-overlapping windows of size steps into
	// y [batch][length/size][c] (floor; a trailing partial window is dropped) and records in
	// argmax the float32-encoded index into x of each maximum (first one on ties).
	MaxPool1D(x Buffer, batch, length, c, size int, y Buffer, argmax Buffer)
	// MaxPool1DBackward zeroes dx [batch][length][c] and scatters dy into it at argmax.
	MaxPool1DBackward(dy, argmax Buffer, batch, length, c, size int, dx Buffer)

	// AddBias adds bias[c] to every row: x[r*cols+c] += bias[c].
	AddBias(x Buffer, rows, cols int, bias Buffer)
	// SumRows sums the rows of dy: dst[c] = beta*dst[c] + Σ_r dy[r*cols+c].
	SumRows(dy Buffer, rows, cols int, dst Buffer, beta float32)
	// Act computes y[i] = f(x[i]) for i < n. x and y may be the same buffer.
	Act(kind Activation, x, y Buffer, n int)
	// ActBackward computes dx[i] = dy[i] * f'(x[i]) from the OUTPUT y = f(x):
	// Identity 1, ReLU (y > 0), Sigmoid y(1-y), Tanh 1-y². dx may alias dy.
	ActBackward(kind Activation, y, dy, dx Buffer, n int)
	// Axpy computes y[i] += alpha*x[i] for i < n.
	Axpy(n int, alpha float32, x, y Buffer)
	// Scale computes x[i] *= alpha for i < n.
	Scale(n int, alpha float32, x Buffer)
	// Mul computes dst[i] = a[i]*b[i] for i < n. dst may alias a or b.
	Mul(n int, a, b, dst Buffer)

	// Softmax writes the row-wise softmax of logits [rows][classes] into probs (may alias).
	Softmax(logits Buffer, rows, classes int, probs Buffer)
	// SoftmaxXent computes probs = softmax(logits) row-wise and the weighted mean cross-entropy
	// L = Σ_r w_r·(-log p_r[label_r]) / Σ_r w_r with float32-encoded labels in [0, classes)
	// and per-row weights (nil means 1 for every row). It writes
	// dlogits = dL/dlogits = w_r·(p - onehot)/Σw and returns L (synchronising). probs and
	// dlogits may be the same buffer only if the caller needs just the gradient.
	SoftmaxXent(logits Buffer, rows, classes int, labels Buffer, weights Buffer, probs, dlogits Buffer) float32

	// DropoutMask writes an inverted-dropout mask: mask[i] = 1/(1-p) if DropoutUniform(seed,
	// step, i) >= p, else 0. Every backend produces the same bits (counter-based RNG).
	DropoutMask(n int, p float32, seed, step uint64, mask Buffer)

	// BatchNormForward normalises x [rows][cols] per column (channel) into y:
	// y = gamma*(x-mean)*invstd + beta with invstd = 1/sqrt(var+eps).
	// training: mean/var are the batch's (biased var); saveMean and saveInvStd receive them for the
	// backward pass and the running statistics are updated PyTorch-style:
	// run = (1-momentum)*run + momentum*batch, with the unbiased variance for runVar.
	// !training: the running statistics are used; saveMean/saveInvStd may be nil.
	BatchNormForward(x Buffer, rows, cols int, gamma, beta Buffer, eps float32, training bool, momentum float32,
		runMean, runVar Buffer, y Buffer, saveMean, saveInvStd Buffer)
	// BatchNormBackward computes, for a training-mode forward, dx (overwritten) and the parameter
	// gradients dgamma = Σ_r dy·xhat, dbeta = Σ_r dy (overwritten) from x, dy and the saved
	// statistics.
	BatchNormBackward(x, dy Buffer, rows, cols int, gamma, saveMean, saveInvStd Buffer, dx, dgamma, dbeta Buffer)

	// SumSquares returns Σ x[i]² for i < n (accumulated in float64; synchronising).
	SumSquares(x Buffer, n int) float32
}

// BatchedGemmer is implemented by backends with a strided batched GEMM: for i < batch,
// C_i = alpha*op(A_i)*op(B_i) + beta*C_i where X_i starts at element i*strideX of X.
type BatchedGemmer interface {
	GemmStridedBatched(transA, transB bool, m, n, k int, alpha float32, a Buffer, lda, strideA int,
		b Buffer, ldb, strideB int, beta float32, c Buffer, ldc, strideC int, batch int)
}

// LSTMCeller is implemented by backends with a fused LSTM cell.
//
// Gate layout: gates is [batch][4*hidden], blocks in the order i (input), f (forget),
// g (cell candidate), o (output) — PyTorch's order; the caller fills it with the
// pre-activations x·Wx + h·Wh + b (two Gemms and AddBias).
type LSTMCeller interface {
	// LSTMCellForward activates gates IN PLACE (i,f,o sigmoid; g tanh) and computes
	// c = f*cPrev + i*g and h = o*tanh(c). cPrev, c, h are [batch][hidden].
	LSTMCellForward(batch, hidden int, gates, cPrev, c, h Buffer)
	// LSTMCellBackward takes the activated gates and cPrev, c of the forward step, dh (the
	// gradient of h) and dc (the gradient of c from step t+1; nil means zero) and writes
	// dGates [batch][4*hidden] (gradient of the pre-activations, same layout) and
	// dcPrev [batch][hidden]. dcPrev may alias dc.
	LSTMCellBackward(batch, hidden int, gates, cPrev, c, dh, dc Buffer, dGates, dcPrev Buffer)
}

// GRUCeller is implemented by backends with a fused GRU cell (PyTorch's formulation, which is
// Keras's reset_after=true):
//
//	r = σ(gx_r + gh_r); z = σ(gx_z + gh_z); n = tanh(gx_n + r*gh_n); h = (1-z)*n + z*hPrev
//
// with gx = x·Wx + bx and gh = hPrev·Wh + bh, both [batch][3*hidden] in block order r, z, n.
type GRUCeller interface {
	// GRUCellForward overwrites gx IN PLACE with the activations [r | z | n], leaves gh unchanged
	// (its n block is needed backward) and writes h [batch][hidden].
	GRUCellForward(batch, hidden int, gx, gh, hPrev, h Buffer)
	// GRUCellBackward takes the activated gx, the forward gh, hPrev and dh and writes dgx
	// (gradient of the input pre-activations), dgh (gradient of gh) and dhPrev = dh*z, the
	// direct part of hPrev's gradient (the caller adds dgh·Whᵀ with a Gemm, beta=1).
	GRUCellBackward(batch, hidden int, gx, gh, hPrev, dh Buffer, dgx, dgh, dhPrev Buffer)
}

// AdamStepper is implemented by backends with a fused Adam update. With g = grad + weightDecay*param
// (L2 decay as in PyTorch's Adam): m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²;
// param -= lr·(m/(1-β1^t)) / (sqrt(v/(1-β2^t)) + eps). t counts steps from 1.
type AdamStepper interface {
	AdamStep(n int, param, grad, m, v Buffer, lr, beta1, beta2, eps, weightDecay float32, t int)
}

// Options configures a backend.
type Options struct {
	// Threads bounds the CPU worker goroutines (0: runtime.GOMAXPROCS(0)).
	Threads int
	// Log receives informational messages (nil: slog.Default()).
	Log *slog.Logger
}

// Opener opens one kind of backend.
type Opener interface {
	// Name is the backend name the opener answers to ("cpu", "cuda").
	Name() string
	// Open returns a ready backend.
	Open(ctx context.Context, opts Options) (Backend, error)
	// Probe reports whether the backend is usable here (nil) or why not. It must not crash the
	// process when no device is present.
	Probe(ctx context.Context) error
}

// ErrNoDevice is returned when a device backend ("cuda") is requested but none is usable.
var ErrNoDevice = errors.New("kernels: no usable device")

// ErrUnknownBackend is returned for a backend name no opener answers to.
var ErrUnknownBackend = errors.New("kernels: unknown backend")
