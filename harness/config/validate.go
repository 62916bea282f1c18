package config

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Feature groups a config may name besides single columns.
var FeatureGroups = []string{"stats", "extra", "seq_size", "seq_payload", "seq_iat_us", "seq_dir"}

var (
	nameRE      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	modelNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)
	columnRE    = regexp.MustCompile(`^(extra:)?[A-Za-z0-9_.-]+$`)
)

// Validate checks every value; knownTypes, when not nil, lists the model types that may be used.
// All problems are reported, joined, each with its file position.
func (e *Experiment) Validate(knownTypes []string) error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, e.errAt(path, format, args...))
	}
	if e.Name == "" {
		bad("name", "name is required")
	} else if !nameRE.MatchString(e.Name) {
		bad("name", "%q: use letters, digits, '-', '_' and '.'", e.Name)
	}
	switch e.Backend {
	case "auto", "cpu", "cuda":
	default:
		bad("backend", "%q: want auto, cpu or cuda", e.Backend)
	}
	e.validateData(bad)
	e.validateSplit(bad)
	e.validateModels(knownTypes, bad)
	if e.Repeats < 1 {
		bad("repeats", "%d: want at least 1", e.Repeats)
	}
	switch e.Executor.Kind {
	case "local", "process", "slurm":
	default:
		bad("executor.kind", "%q: want local, process or slurm", e.Executor.Kind)
	}
	if e.Executor.Jobs < 0 {
		bad("executor.jobs", "%d: want ≥ 0", e.Executor.Jobs)
	}
	if e.Executor.Threads < 0 {
		bad("executor.threads", "%d: want ≥ 0", e.Executor.Threads)
	}
	if len(errs) == 0 {
		// Sweep keys are checked by applying every value to a copy: a key that cannot be set, or
		// a value of the wrong type, is an error at the sweep entry.
		seen := map[string]bool{}
		for _, a := range e.Sweep {
			path := "sweep." + a.Key
			if seen[a.Key] {
				bad(path, "swept twice")
			}
			seen[a.Key] = true
			if len(a.Values) == 0 {
				bad(path, "no values")
			}
			if a.Key == "sweep" || strings.HasPrefix(a.Key, "sweep.") || a.Key == "repeats" || a.Key == "name" {
				bad(path, "cannot be swept")
				continue
			}
			for _, v := range a.Values {
				c, err := e.with(map[string]any{a.Key: v})
				if err == nil {
					c.Sweep = nil
					err = c.Validate(knownTypes)
				}
				if err != nil {
					bad(path, "value %s: %v", formatValue(v), stripPlace(err))
					break
				}
			}
		}
	}
	return errors.Join(errs...)
}

// stripPlace drops the file prefix of a nested error so it reads as a reason.
func stripPlace(err error) string {
	var ce *Error
	if errors.As(err, &ce) {
		if ce.Path != "" {
			return ce.Path + ": " + ce.Msg
		}
		return ce.Msg
	}
	return err.Error()
}

func (e *Experiment) validateData(bad func(string, string, ...any)) {
	d := e.Data
	if d.Path == "" {
		bad("data.path", "data.path is required")
	}
	switch d.Label {
	case "label", "service", "category":
	default:
		bad("data.label", "%q: want label, service or category", d.Label)
	}
	if d.Filter.TopN < 0 {
		bad("data.filter.top_n", "%d: want ≥ 0", d.Filter.TopN)
	}
	if d.Filter.MinCount < 0 {
		bad("data.filter.min_count", "%d: want ≥ 0", d.Filter.MinCount)
	}
	seen := map[string]bool{}
	for i, f := range d.Features {
		p := fmt.Sprintf("data.features[%d]", i)
		if seen[f] {
			bad(p, "%q listed twice", f)
		}
		seen[f] = true
		if !slices.Contains(FeatureGroups, f) && !columnRE.MatchString(f) {
			bad(p, "%q is neither a feature group (%s) nor a column name", f, strings.Join(FeatureGroups, ", "))
		}
	}
	if d.Packets < 0 {
		bad("data.packets", "%d: want ≥ 0", d.Packets)
	}
	switch d.Scale {
	case "minmax", "standard", "none":
	default:
		bad("data.scale", "%q: want minmax, standard or none", d.Scale)
	}
}

func (e *Experiment) validateSplit(bad func(string, string, ...any)) {
	s := e.Split
	switch s.Kind {
	case "stratified":
		if s.Test <= 0 || s.Test >= 1 {
			bad("split.test", "%g: want a fraction in (0, 1)", s.Test)
		}
		if s.Val < 0 || s.Test+s.Val >= 1 {
			bad("split.val", "%g: want ≥ 0 and test + val < 1", s.Val)
		}
		if s.K != 0 {
			bad("split.k", "k is for kfold splits")
		}
	case "kfold":
		if s.K < 2 {
			bad("split.k", "%d: want at least 2 folds", s.K)
		}
		if s.Val < 0 || s.Val >= 1 {
			bad("split.val", "%g: want a fraction in [0, 1)", s.Val)
		}
		if s.Test != 0 {
			bad("split.test", "test is for stratified splits (k-fold tests every row once)")
		}
	default:
		bad("split.kind", "%q: want stratified or kfold", s.Kind)
	}
	if g := s.GroupBy; g != "" {
		switch {
		case g == "capture", g == "src_ip", g == "dst_ip", g == "sni":
		case strings.HasPrefix(g, "time:"):
			if sec, err := strconv.ParseFloat(strings.TrimPrefix(g, "time:"), 64); err != nil || sec <= 0 {
				bad("split.group_by", "%q: want time:SECONDS with SECONDS > 0", g)
			}
		default:
			bad("split.group_by", "%q: want capture, src_ip, dst_ip, sni or time:SECONDS", g)
		}
	}
}

func (e *Experiment) validateModels(knownTypes []string, bad func(string, string, ...any)) {
	if len(e.Models) == 0 {
		bad("models", "at least one model is required")
	}
	index := map[string]int{}
	for i, m := range e.Models {
		p := fmt.Sprintf("models[%d]", i)
		switch {
		case m.Name == "":
			bad(p, "model name is required")
		case !modelNameRE.MatchString(m.Name):
			bad(p+".name", "%q: use a letter, then letters, digits, '-' and '_'", m.Name)
		case index[m.Name] > 0:
			bad(p+".name", "%q already names models[%d]", m.Name, index[m.Name]-1)
		}
		if m.Type == "" {
			bad(p, "model %q: type is required", m.Name)
		} else if knownTypes != nil && !slices.Contains(knownTypes, m.Type) {
			bad(p+".type", "unknown model type %q (known: %s)", m.Type, strings.Join(knownTypes, ", "))
		}
		if fs, ok := m.Params[FeaturesKey]; ok {
			list, ok := fs.([]any)
			if !ok || len(list) == 0 {
				bad(p+".features", "want a non-empty list of entries of data.features")
			}
			for j, x := range list {
				f, ok := x.(string)
				if !ok || !slices.Contains(e.Data.Features, f) {
					bad(fmt.Sprintf("%s.features[%d]", p, j), "%v is not in data.features %v", x, e.Data.Features)
				}
			}
		}
		if mem, ok := m.Params["members"]; ok {
			e.validateMembers(p, m, mem, index, bad)
		}
		if m.Name != "" && index[m.Name] == 0 {
			index[m.Name] = i + 1
		}
	}
}

// validateMembers checks an ensemble's members (names of earlier models) and weights.
func (e *Experiment) validateMembers(p string, m Model, mem any, index map[string]int, bad func(string, string, ...any)) {
	list, ok := mem.([]any)
	if !ok || len(list) == 0 {
		bad(p+".members", "want a non-empty list of model names")
		return
	}
	for j, x := range list {
		name, ok := x.(string)
		switch {
		case !ok:
			bad(fmt.Sprintf("%s.members[%d]", p, j), "want a model name, got %v", x)
		case name == m.Name:
			bad(fmt.Sprintf("%s.members[%d]", p, j), "model %q cannot be its own member", name)
		case index[name] == 0:
			bad(fmt.Sprintf("%s.members[%d]", p, j), "%q is not a model listed before %q", name, m.Name)
		}
	}
	if w, ok := m.Params["weights"]; ok {
		ws, ok := w.([]any)
		if !ok || len(ws) != len(list) {
			bad(p+".weights", "want one weight per member (%d)", len(list))
			return
		}
		for j, x := range ws {
			if f, ok := x.(float64); !ok || f < 0 {
				bad(fmt.Sprintf("%s.weights[%d]", p, j), "want a number ≥ 0, got %v", x)
			}
		}
	}
}

// FeaturesKey is the model parameter that restricts a model to some of data.features; the
// runner handles it and does not pass it to the model's constructor.
const FeaturesKey = "features"

// Features returns a model's own feature list (nil: all of data.features).
func (m Model) Features() []string {
	list, _ := m.Params[FeaturesKey].([]any)
	var out []string
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Members returns the member names of an ensemble entry (nil for other models).
func (m Model) Members() []string {
	list, _ := m.Params["members"].([]any)
	var out []string
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func formatValue(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

// KnownFamilies lists the model types of etch's model families (forest, nn presets, ensembles,
// onnx), for checking experiment files where the registry is not at hand.
var KnownFamilies = []string{"forest", "nn", "dnn", "cnn_lstm", "cnn_gru", "rnn_baseline", "soft_vote", "hard_vote", "stacking", "onnx"}
