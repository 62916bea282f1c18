package realtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/etchlab/etch/data"
	"github.com/etchlab/etch/harness/model"
	"github.com/etchlab/etch/harness/model/onnx"
	"github.com/etchlab/etch/harness/model/saved"
)

// ErrModel reports a --model argument that cannot be used.
var ErrModel = errors.New("model")

// Classifier is a fitted model with the preprocessing that feeds it.
type Classifier struct {
	Model model.Model
	Pre   saved.Preprocess
	// Source says where the model came from (a path, and trial/name for run directories).
	Source string
}

// LoadOptions choose a model inside a run directory and describe bare models.
type LoadOptions struct {
	// Trial and Name pick the model in a run directory (models/<trial>/<name>.etchm): Trial
	// defaults to the first trial with saved models (in name order), Name to the only model of
	// the trial (several: an error listing them).
	Trial, Name string
	// Features, Packets and Classes describe a bare model file (native forest/nn/ensemble or
	// .onnx), which has no preprocessing header: the data.features it reads (no scaling is
	// applied), its sequence length K and its class names (default class0, class1, ...).
	Features []string
	Packets  int
	Classes  []string
	// Preprocess, when set, is the preprocessing of a bare model (typically the header of the
	// bundle the model was exported from: features, K, scaler, classes); Features, Packets and
	// Classes are then ignored.
	Preprocess *saved.Preprocess
	// Layout is the ONNX input layout (flat or seq); ONNXLib the ONNX Runtime library ("" :
	// found as harness/model/onnx documents).
	Layout, ONNXLib string
	// Env is passed to the model loaders (Threads, Backend, Log).
	Env model.Env
}

// Load loads the classifier at path: a run directory, a saved model (.etchm), a native model
// file (forest, nn or ensemble) or an .onnx file.
func Load(path string, opts LoadOptions) (*Classifier, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	if st.IsDir() {
		p, err := pickRunModel(path, opts.Trial, opts.Name)
		if err != nil {
			return nil, err
		}
		path = p
	}
	if strings.EqualFold(filepath.Ext(path), ".onnx") {
		return loadBare(path, opts, func() (model.Model, error) {
			return onnx.Open(onnx.NewRuntime(opts.ONNXLib), onnx.Params{Path: path, Layout: opts.Layout}, opts.Env)
		})
	}
	kind, err := saved.Kind(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	switch kind {
	case "bundle":
		b, err := saved.ReadFile(path, opts.Env)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrModel, err)
		}
		src := path
		if b.Trial != "" {
			src = fmt.Sprintf("%s (experiment %s, trial %s, model %s, type %s)", path, b.Experiment, b.Trial, b.Name, b.Type)
		}
		return &Classifier{Model: b.Model, Pre: b.Preprocess, Source: src}, nil
	case "":
		return nil, fmt.Errorf("%w: %s: not a saved etch model, a native etch model or an .onnx file", ErrModel, path)
	}
	return loadBare(path, opts, func() (model.Model, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return saved.LoadModel(f, opts.Env)
	})
}

// loadBare loads a model without a preprocessing header, described by opts.
func loadBare(path string, opts LoadOptions, open func() (model.Model, error)) (*Classifier, error) {
	if opts.Preprocess != nil {
		pre := *opts.Preprocess
		if err := pre.Validate(); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrModel, err)
		}
		m, err := open()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrModel, path, err)
		}
		if m.Classes() != len(pre.ClassNames) {
			return nil, fmt.Errorf("%w: %s predicts %d classes, the preprocessing names %d", ErrModel, path, m.Classes(), len(pre.ClassNames))
		}
		return &Classifier{Model: m, Pre: pre, Source: path}, nil
	}
	if len(opts.Features) == 0 {
		return nil, fmt.Errorf("%w: %s has no preprocessing header: give its features (and packets, classes)", ErrModel, path)
	}
	tab, ch, err := FeatureNames(opts.Features)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	if len(ch) > 0 && opts.Packets <= 0 {
		return nil, fmt.Errorf("%w: %s reads sequences: give the packets K it was trained on", ErrModel, path)
	}
	m, err := open()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrModel, path, err)
	}
	classes := opts.Classes
	if len(classes) == 0 {
		for i := range m.Classes() {
			classes = append(classes, fmt.Sprintf("class%d", i))
		}
	}
	if len(classes) != m.Classes() {
		return nil, fmt.Errorf("%w: %s predicts %d classes, %d class names given", ErrModel, path, m.Classes(), len(classes))
	}
	pre := saved.Preprocess{Features: opts.Features, TabNames: tab, SeqChannels: ch, ClassNames: classes}
	if len(ch) > 0 {
		pre.SeqLen = opts.Packets
	}
	return &Classifier{Model: m, Pre: pre, Source: path}, nil
}

// FeatureNames expands a data.features list into the tabular names and sequence channels that
// data.Load gives (groups stats and the sequence channels; other entries name columns).
func FeatureNames(features []string) (tab, channels []string, err error) {
	for _, f := range features {
		switch {
		case f == data.GroupStats:
			tab = append(tab, data.StatNames[:]...)
		case f == data.GroupExtra || strings.HasPrefix(f, "extra:"):
			return nil, nil, fmt.Errorf("feature %q: imported extra features do not exist in captures", f)
		case slices.Contains(data.SeqGroups[:], f):
			channels = append(channels, f)
		default:
			tab = append(tab, f)
		}
	}
	if _, err := data.NewEncoder(tab, channels, max(1, len(channels))); err != nil {
		return nil, nil, err
	}
	return tab, channels, nil
}

// pickRunModel finds models/<trial>/<name>.etchm in a run directory.
func pickRunModel(dir, trial, name string) (string, error) {
	root := filepath.Join(dir, "models")
	trials, err := os.ReadDir(root)
	if err != nil {
		return "", fmt.Errorf("%w: %s is not a run directory with saved models: %w", ErrModel, dir, err)
	}
	var names []string
	for _, t := range trials {
		if t.IsDir() {
			names = append(names, t.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return "", fmt.Errorf("%w: %s has no saved models", ErrModel, root)
	}
	if trial == "" {
		trial = names[0]
	} else if !slices.Contains(names, trial) {
		return "", fmt.Errorf("%w: %s: no trial %q (trials: %s)", ErrModel, root, trial, strings.Join(names, ", "))
	}
	files, _ := filepath.Glob(filepath.Join(root, trial, "*"+saved.Ext))
	var models []string
	for _, f := range files {
		models = append(models, strings.TrimSuffix(filepath.Base(f), saved.Ext))
	}
	sort.Strings(models)
	switch {
	case name != "" && slices.Contains(models, name):
	case name != "":
		return "", fmt.Errorf("%w: trial %s has no saved model %q (models: %s)", ErrModel, trial, name, strings.Join(models, ", "))
	case len(models) == 1:
		name = models[0]
	case len(models) == 0:
		return "", fmt.Errorf("%w: trial %s has no saved models", ErrModel, trial)
	default:
		return "", fmt.Errorf("%w: trial %s has %d models (%s): pick one by name", ErrModel, trial, len(models), strings.Join(models, ", "))
	}
	return filepath.Join(root, trial, name+saved.Ext), nil
}
