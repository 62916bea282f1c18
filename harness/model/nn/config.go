package nn

import (
	"errors"
	"fmt"
	"strings"
)

// Layer type names accepted in LayerSpec.Type.
const (
	LayerDense     = "dense"
	LayerConv1D    = "conv1d"
	LayerMaxPool1D = "maxpool1d"
	LayerLSTM      = "lstm"
	LayerGRU       = "gru"
	LayerBatchNorm = "batchnorm"
	LayerDropout   = "dropout"
	LayerFlatten   = "flatten"
	LayerReLU      = "relu"
	LayerSigmoid   = "sigmoid"
	LayerTanh      = "tanh"
)

// Limits that keep a config (or a loaded file's header) from asking for absurd allocations.
const (
	maxUnits   = 1 << 14
	maxKernel  = 256
	maxLayers  = 64
	maxSeqLen  = 1 << 16
	maxInputs  = 1 << 20
	maxClasses = 1 << 16
	maxParams  = 1 << 28
)

// ErrConfig reports an invalid architecture or parameter.
var ErrConfig = errors.New("invalid nn config")

// LayerSpec is one layer of an architecture as a config gives it.
type LayerSpec struct {
	// Type is one of dense, conv1d, maxpool1d, lstm, gru, batchnorm, dropout, flatten, relu,
	// sigmoid, tanh.
	Type string `json:"type"`
	// Units is the width of dense, lstm and gru layers.
	Units int `json:"units,omitempty"`
	// Filters is the number of output channels of a conv1d layer.
	Filters int `json:"filters,omitempty"`
	// Kernel is the conv1d kernel width (default 3).
	Kernel int `json:"kernel,omitempty"`
	// Padding is "valid" (default) or "same" (odd kernels) for conv1d.
	Padding string `json:"padding,omitempty"`
	// Size is the maxpool1d window and stride (default 2).
	Size int `json:"size,omitempty"`
	// Rate is the dropout probability.
	Rate float64 `json:"rate,omitempty"`
	// Activation is applied after dense and conv1d: none (default), relu, sigmoid, tanh.
	Activation string `json:"activation,omitempty"`
	// ReturnSequences makes lstm/gru output every time step instead of the last one.
	ReturnSequences bool `json:"return_sequences,omitempty"`
}

// Params are the parameters of every nn model type. For `type: nn`, Layers is required; for the
// presets it is built from the preset's sizes, which Filters, Units, Dense, Kernel, Pool and
// Dropout override.
type Params struct {
	// Layers is the architecture (type nn), without the final classifier layer, which is always a
	// dense layer with one unit per class followed by softmax.
	Layers []LayerSpec `json:"layers,omitempty"`
	// TabLayers transform the tabular features before they join the head (default: none, the
	// scaled features join as they are).
	TabLayers []LayerSpec `json:"tab_layers,omitempty"`
	// Inputs selects what the model reads: "auto" (default: the preset's natural inputs that the
	// data has), "seq", "tab" or "both".
	Inputs string `json:"inputs,omitempty"`

	// Preset size overrides.
	Filters []int    `json:"filters,omitempty"`
	Units   []int    `json:"units,omitempty"`
	Dense   []int    `json:"dense,omitempty"`
	Kernel  int      `json:"kernel,omitempty"`
	Pool    int      `json:"pool,omitempty"`
	Dropout *float64 `json:"dropout,omitempty"`

	// Training.
	Epochs      int      `json:"epochs,omitempty"`
	Batch       int      `json:"batch,omitempty"`
	LR          float64  `json:"lr,omitempty"`
	WeightDecay float64  `json:"weight_decay,omitempty"`
	Patience    int      `json:"patience,omitempty"`
	Val         *float64 `json:"val,omitempty"`
	// Scale standardises inputs with statistics of the training data (default true); the scalers
	// are saved with the model and exported to ONNX.
	Scale *bool `json:"scale,omitempty"`
	// Threads caps the CPU threads of a backend this model opens itself (default Env.Threads).
	Threads int `json:"threads,omitempty"`
}

// withDefaults fills the training defaults.
func (p Params) withDefaults() Params {
	if p.Epochs == 0 {
		p.Epochs = 20
	}
	if p.Batch == 0 {
		p.Batch = 128
	}
	if p.LR == 0 {
		p.LR = 1e-3
	}
	if p.Patience == 0 {
		p.Patience = 5
	}
	if p.Val == nil {
		v := 0.1
		p.Val = &v
	}
	if p.Scale == nil {
		t := true
		p.Scale = &t
	}
	if p.Inputs == "" {
		p.Inputs = "auto"
	}
	return p
}

// validate checks the training parameters (layers are checked when the network is built).
func (p Params) validate() error {
	switch {
	case p.Epochs < 0 || p.Epochs > 100000:
		return fmt.Errorf("%w: epochs %d", ErrConfig, p.Epochs)
	case p.Batch < 1 || p.Batch > 1<<16:
		return fmt.Errorf("%w: batch %d", ErrConfig, p.Batch)
	case !(p.LR > 0 && p.LR < 10):
		return fmt.Errorf("%w: lr %g", ErrConfig, p.LR)
	case p.WeightDecay < 0:
		return fmt.Errorf("%w: weight_decay %g", ErrConfig, p.WeightDecay)
	case p.Patience < 0:
		return fmt.Errorf("%w: patience %d", ErrConfig, p.Patience)
	case *p.Val < 0 || *p.Val >= 1:
		return fmt.Errorf("%w: val %g outside [0,1)", ErrConfig, *p.Val)
	case p.Threads < 0:
		return fmt.Errorf("%w: threads %d", ErrConfig, p.Threads)
	}
	switch p.Inputs {
	case "auto", "seq", "tab", "both":
	default:
		return fmt.Errorf("%w: inputs %q (want auto, seq, tab or both)", ErrConfig, p.Inputs)
	}
	if len(p.Layers) > maxLayers || len(p.TabLayers) > maxLayers {
		return fmt.Errorf("%w: more than %d layers", ErrConfig, maxLayers)
	}
	return nil
}

// Preset names registered as model types besides `nn`.
const (
	PresetDNN         = "dnn"
	PresetCNNLSTM     = "cnn_lstm"
	PresetCNNGRU      = "cnn_gru"
	PresetRNNBaseline = "rnn_baseline"
)

// Presets lists the preset model types.
func Presets() []string {
	return []string{PresetDNN, PresetCNNLSTM, PresetCNNGRU, PresetRNNBaseline}
}

func pick(over []int, def ...int) ([]int, error) {
	if len(over) == 0 {
		return def, nil
	}
	if len(over) != len(def) {
		return nil, fmt.Errorf("%w: %d sizes given, preset has %d", ErrConfig, len(over), len(def))
	}
	return over, nil
}

// presetLayers expands a preset into its layer list, applying p's size overrides, and says
// which inputs the preset reads naturally ("seq" or "both").
func presetLayers(kind string, p Params) ([]LayerSpec, string, error) {
	if len(p.Layers) > 0 {
		return nil, "", fmt.Errorf("%w: layers is only for type nn; %s takes size overrides", ErrConfig, kind)
	}
	drop := func(def float64) float64 {
		if p.Dropout != nil {
			return *p.Dropout
		}
		return def
	}
	kernel := p.Kernel
	if kernel == 0 {
		kernel = 3
	}
	pool := p.Pool
	if pool == 0 {
		pool = 2
	}
	var err error
	var f, u, d []int
	switch kind {
	case PresetDNN:
		if len(p.Filters)+len(p.Units) > 0 {
			return nil, "", fmt.Errorf("%w: dnn takes dense sizes only", ErrConfig)
		}
		d = p.Dense
		if len(d) == 0 {
			d = []int{256, 128}
		}
		var ls []LayerSpec
		for _, n := range d {
			ls = append(ls, LayerSpec{Type: LayerDense, Units: n, Activation: "relu"})
			if r := drop(0.2); r > 0 {
				ls = append(ls, LayerSpec{Type: LayerDropout, Rate: r})
			}
		}
		return ls, "both", nil
	case PresetCNNLSTM:
		if f, err = pick(p.Filters, 64); err != nil {
			return nil, "", fmt.Errorf("filters: %w", err)
		}
		if u, err = pick(p.Units, 64); err != nil {
			return nil, "", fmt.Errorf("units: %w", err)
		}
		if d, err = pick(p.Dense, 64); err != nil {
			return nil, "", fmt.Errorf("dense: %w", err)
		}
		r := drop(0.3)
		return []LayerSpec{
			{Type: LayerConv1D, Filters: f[0], Kernel: kernel, Activation: "relu"},
			{Type: LayerMaxPool1D, Size: pool},
			{Type: LayerDropout, Rate: r},
			{Type: LayerLSTM, Units: u[0]},
			{Type: LayerDropout, Rate: r},
			{Type: LayerDense, Units: d[0], Activation: "relu"},
		}, "seq", nil
	case PresetCNNGRU:
		if f, err = pick(p.Filters, 200, 400); err != nil {
			return nil, "", fmt.Errorf("filters: %w", err)
		}
		if u, err = pick(p.Units, 200); err != nil {
			return nil, "", fmt.Errorf("units: %w", err)
		}
		if d, err = pick(p.Dense, 200); err != nil {
			return nil, "", fmt.Errorf("dense: %w", err)
		}
		r := drop(0.3)
		return []LayerSpec{
			{Type: LayerConv1D, Filters: f[0], Kernel: kernel},
			{Type: LayerBatchNorm},
			{Type: LayerConv1D, Filters: f[1], Kernel: kernel},
			{Type: LayerBatchNorm},
			{Type: LayerGRU, Units: u[0]},
			{Type: LayerDropout, Rate: r},
			{Type: LayerDense, Units: d[0], Activation: "sigmoid"},
			{Type: LayerDropout, Rate: r},
		}, "seq", nil
	case PresetRNNBaseline:
		if len(p.Filters)+len(p.Dense) > 0 {
			return nil, "", fmt.Errorf("%w: rnn_baseline takes units only", ErrConfig)
		}
		if u, err = pick(p.Units, 100, 100); err != nil {
			return nil, "", fmt.Errorf("units: %w", err)
		}
		return []LayerSpec{
			{Type: LayerGRU, Units: u[0], ReturnSequences: true},
			{Type: LayerGRU, Units: u[1]},
		}, "seq", nil
	}
	return nil, "", fmt.Errorf("%w: unknown preset %q", ErrConfig, kind)
}

// resolveLayers returns the architecture of a model type with parameters p, and its natural inputs.
func resolveLayers(kind string, p Params) ([]LayerSpec, string, error) {
	if kind == "nn" {
		if len(p.Layers) == 0 {
			return nil, "", fmt.Errorf("%w: type nn needs layers", ErrConfig)
		}
		if len(p.Filters)+len(p.Units)+len(p.Dense) > 0 || p.Kernel != 0 || p.Pool != 0 || p.Dropout != nil {
			return nil, "", fmt.Errorf("%w: size overrides are for presets; give them in layers", ErrConfig)
		}
		return p.Layers, "both", nil
	}
	return presetLayers(kind, p)
}

func activationOK(a string) bool {
	switch a {
	case "", "none", "relu", "sigmoid", "tanh":
		return true
	}
	return false
}

// check validates one layer spec; where names the layer for messages.
func (s LayerSpec) check(where string) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s (%s): %s", ErrConfig, where, s.Type, fmt.Sprintf(format, args...))
	}
	if !activationOK(s.Activation) {
		return bad("activation %q (want none, relu, sigmoid or tanh)", s.Activation)
	}
	switch strings.ToLower(s.Type) {
	case LayerDense, LayerLSTM, LayerGRU:
		if s.Units < 1 || s.Units > maxUnits {
			return bad("units %d outside [1,%d]", s.Units, maxUnits)
		}
	case LayerConv1D:
		if s.Filters < 1 || s.Filters > maxUnits {
			return bad("filters %d outside [1,%d]", s.Filters, maxUnits)
		}
		if s.Kernel < 0 || s.Kernel > maxKernel {
			return bad("kernel %d outside [1,%d]", s.Kernel, maxKernel)
		}
		if s.Padding != "" && s.Padding != "valid" && s.Padding != "same" {
			return bad("padding %q (want valid or same)", s.Padding)
		}
		k := s.Kernel
		if k == 0 {
			k = 3
		}
		if s.Padding == "same" && k%2 == 0 {
			return bad("padding same needs an odd kernel, got %d", k)
		}
	case LayerMaxPool1D:
		if s.Size < 0 || s.Size > maxKernel {
			return bad("size %d outside [1,%d]", s.Size, maxKernel)
		}
	case LayerDropout:
		if s.Rate < 0 || s.Rate >= 1 {
			return bad("rate %g outside [0,1)", s.Rate)
		}
	case LayerBatchNorm, LayerFlatten, LayerReLU, LayerSigmoid, LayerTanh:
	default:
		return bad("unknown layer type (want dense, conv1d, maxpool1d, lstm, gru, batchnorm, dropout, flatten, relu, sigmoid, tanh)")
	}
	if s.ReturnSequences && s.Type != LayerLSTM && s.Type != LayerGRU {
		return bad("return_sequences is for lstm and gru")
	}
	return nil
}
