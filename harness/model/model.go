package model

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
)

// Data is a batch of examples in the layouts models consume. Rows are examples.
//
// Tab holds tabular features (statistics, imported features), row-major N×len(TabNames).
// Seq holds sequence channels, row-major N×SeqLen×len(SeqChannels) (example, time step, channel),
// e.g. channels seq_size, seq_payload, seq_iat_us, seq_dir. Either may be empty. Values are already
// scaled by the caller (scalers are fitted on the training split only).
type Data struct {
	N           int
	Tab         []float32
	TabNames    []string
	Seq         []float32
	SeqLen      int
	SeqChannels []string
	// Y holds class indices in [0, Classes); nil when only predicting.
	Y []int32
	// Classes is the number of classes; ClassNames, when set, names them (index order).
	Classes    int
	ClassNames []string
	// Weights, when not nil, holds one weight per class (class weighting).
	Weights []float32
}

// TabDim returns the number of tabular features per example.
func (d *Data) TabDim() int { return len(d.TabNames) }

// SeqDim returns the number of sequence values per example (SeqLen × channels).
func (d *Data) SeqDim() int { return d.SeqLen * len(d.SeqChannels) }

// Validate checks that the slices have the shapes the counts promise.
func (d *Data) Validate() error {
	if d.N < 0 || len(d.Tab) != d.N*d.TabDim() || len(d.Seq) != d.N*d.SeqDim() {
		return fmt.Errorf("%w: N=%d tab=%d (dim %d) seq=%d (dim %d)", ErrShape, d.N, len(d.Tab), d.TabDim(), len(d.Seq), d.SeqDim())
	}
	if d.Y != nil && len(d.Y) != d.N {
		return fmt.Errorf("%w: %d labels for %d examples", ErrShape, len(d.Y), d.N)
	}
	for i, y := range d.Y {
		if y < 0 || int(y) >= d.Classes {
			return fmt.Errorf("%w: label %d of example %d outside [0,%d)", ErrShape, y, i, d.Classes)
		}
	}
	return nil
}

// Slice returns the examples idx as a new Data (copying).
func (d *Data) Slice(idx []int) *Data {
	out := &Data{N: len(idx), TabNames: d.TabNames, SeqLen: d.SeqLen, SeqChannels: d.SeqChannels,
		Classes: d.Classes, ClassNames: d.ClassNames, Weights: d.Weights}
	if td := d.TabDim(); td > 0 {
		out.Tab = make([]float32, len(idx)*td)
		for i, j := range idx {
			copy(out.Tab[i*td:(i+1)*td], d.Tab[j*td:(j+1)*td])
		}
	}
	if sd := d.SeqDim(); sd > 0 {
		out.Seq = make([]float32, len(idx)*sd)
		for i, j := range idx {
			copy(out.Seq[i*sd:(i+1)*sd], d.Seq[j*sd:(j+1)*sd])
		}
	}
	if d.Y != nil {
		out.Y = make([]int32, len(idx))
		for i, j := range idx {
			out.Y[i] = d.Y[j]
		}
	}
	return out
}

// ErrShape reports inputs whose shapes do not fit.
var ErrShape = errors.New("shape mismatch")

// Model is a trained or trainable classifier.
type Model interface {
	// Fit trains on train; val (may be nil) is used for early stopping where the model has it.
	Fit(ctx context.Context, train, val *Data) error
	// PredictProba writes class probabilities, row-major x.N × Classes, into dst.
	PredictProba(ctx context.Context, x *Data, dst []float32) error
	// Classes returns the number of classes the model predicts.
	Classes() int
}

// Saver is a model that can write itself in etch's native format.
type Saver interface {
	Save(w io.Writer) error
}

// Spec is one model entry of an experiment: its name, its type and the type's parameters, as the
// config gave them (YAML scalars, lists and maps).
type Spec struct {
	Name   string
	Type   string
	Params map[string]any
}

// Env is what a constructor gets from the runner besides the spec.
type Env struct {
	// Seed seeds every random draw of the model (derived from experiment seed, trial, model).
	Seed uint64
	// Threads is how many OS threads the model may keep busy.
	Threads int
	// Backend is the compute backend for models that use kernels (any, to keep this package free
	// of a kernels import; nn asserts kernels.Backend).
	Backend any
	// Members holds already-built models by name, for ensembles (harness/model/ensemble). They
	// are taken as fitted on the same training data the ensemble gets, unless FitMembers is set.
	Members map[string]Model
	// FitMembers says the models in Members are not fitted yet: an ensemble's Fit fits them on its
	// own training data. When false (the runner fitted them earlier in the same trial), an
	// ensemble uses them as they are.
	FitMembers bool
	// Build, when not nil, builds a fresh, untrained instance of the experiment's model called
	// name, as the runner would for this trial, with the given seed (nested ensembles built this
	// way get an Env with Build set and no Members). Ensembles call it for members missing from
	// Members and, for stacking, for the per-fold copies that give out-of-fold probabilities.
	Build func(name string, seed uint64) (Model, error)
	// Log receives progress messages (epochs, trees); never nil when set by the runner.
	Log *slog.Logger
	// Progress, when not nil, is told how far training is: done of total units (epochs, trees).
	Progress func(done, total int, unit string)
}

// DecodeParams decodes a spec's parameters into dst (a pointer to a struct with json tags),
// rejecting unknown keys and wrong types. Keys may be given in the config as YAML; every value is
// a scalar, list or map.
func DecodeParams(params map[string]any, dst any) error {
	b, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("parameters: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("parameters: %w", err)
	}
	return nil
}

// Constructor builds an untrained model from its spec.
type Constructor func(spec Spec, env Env) (Model, error)

// Registry maps a model `type:` name to its constructor.
type Registry map[string]Constructor

// ErrUnknownType reports a model type no constructor is registered for.
var ErrUnknownType = errors.New("unknown model type")

// New builds the model spec names.
func (r Registry) New(spec Spec, env Env) (Model, error) {
	c, ok := r[spec.Type]
	if !ok {
		return nil, fmt.Errorf("model %q: %w %q (known: %v)", spec.Name, ErrUnknownType, spec.Type, r.Types())
	}
	m, err := c(spec, env)
	if err != nil {
		return nil, fmt.Errorf("model %q (%s): %w", spec.Name, spec.Type, err)
	}
	return m, nil
}

// Types returns the registered type names, sorted.
func (r Registry) Types() []string {
	out := make([]string, 0, len(r))
	for k := range r {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Epoch is one point of a training curve.
type Epoch struct {
	Epoch       int     `json:"epoch"`
	TrainLoss   float64 `json:"train_loss"`
	ValLoss     float64 `json:"val_loss,omitempty"`
	ValAccuracy float64 `json:"val_accuracy,omitempty"`
}

// Historian is a model that records a training curve (neural models); reports plot it.
type Historian interface {
	History() []Epoch
}
