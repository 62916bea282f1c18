package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Experiment is one experiment file. Field comments give each key's default (filled in by
// Defaults when the key is absent).
type Experiment struct {
	// Name names the experiment and its report directory (required; letters, digits, '-', '_', '.').
	Name string `yaml:"name" json:"name"`
	// Description is an optional paragraph shown at the top of the report.
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Seed is the experiment seed every random draw derives from (default 0).
	Seed uint64 `yaml:"seed" json:"seed"`
	// Backend is auto (default), cpu or cuda.
	Backend string `yaml:"backend" json:"backend"`
	Data    Data   `yaml:"data" json:"data"`
	Split   Split  `yaml:"split" json:"split"`
	// Models are built, trained and evaluated in this order; an ensemble's members come first.
	Models []Model `yaml:"models" json:"models"`
	// Sweep is a grid over dotted keys; each combination is one trial (default: no sweep, one
	// trial).
	Sweep Sweep `yaml:"sweep,omitempty" json:"sweep,omitempty"`
	// Repeats runs every sweep point this many times with fresh seeds (default 1).
	Repeats int `yaml:"repeats" json:"repeats"`
	// Executor says where trials run (default: in this process, jobs chosen from the cores).
	Executor Executor `yaml:"executor" json:"executor"`
	// Reference, when set, is a directory of published results (final_results.csv) that the
	// report sets beside this run's when the dataset is a GCseq/GCstats import (default: none).
	Reference string `yaml:"reference,omitempty" json:"reference,omitempty"`

	// Source is the file the experiment came from ("" when built in code).
	Source string `yaml:"-" json:"-"`
	// positions maps dotted paths (models[0].trees) to their place in Source.
	positions map[string]ast.Node
}

// Data says which dataset to load and how.
type Data struct {
	// Path is the flows file (Parquet); relative paths resolve against the working directory.
	Path string `yaml:"path" json:"path"`
	// Label is the class column: label (default), service or category.
	Label  string `yaml:"label" json:"label"`
	Filter Filter `yaml:"filter" json:"filter"`
	// Features lists column groups (stats, extra, seq_size, seq_payload, seq_iat_us, seq_dir) and
	// single columns (default [stats]).
	Features []string `yaml:"features" json:"features"`
	// Packets truncates sequences to their first Packets steps (default 0: the file's full length).
	Packets int `yaml:"packets" json:"packets"`
	// Scale is minmax (default), standard or none; scalers are fitted on training rows only.
	Scale string `yaml:"scale" json:"scale"`
}

// Filter chooses the classes kept.
type Filter struct {
	// TopN keeps the TopN most frequent classes (default 0: all).
	TopN int `yaml:"top_n" json:"top_n"`
	// MinCount keeps classes with at least MinCount flows (default 0: all); applied before TopN.
	MinCount int `yaml:"min_count" json:"min_count"`
	// Other keeps the rows of dropped classes as one class "other" (default false: drop them).
	Other bool `yaml:"other" json:"other"`
}

// Split says how rows are divided into training, validation and test sets.
type Split struct {
	// Kind is stratified (default; holdout) or kfold.
	Kind string `yaml:"kind" json:"kind"`
	// Test is the holdout test fraction (default 0.2; stratified only).
	Test float64 `yaml:"test" json:"test"`
	// Val is the validation fraction (of all rows for stratified, of each fold's training side for
	// kfold) that models use for early stopping (default 0: none).
	Val float64 `yaml:"val" json:"val"`
	// K is the number of folds (default 10; kfold only).
	K int `yaml:"k" json:"k"`
	// GroupBy keeps each group on one side of every split: capture, src_ip, dst_ip, sni or
	// time:SECONDS (default "": rows split independently).
	GroupBy string `yaml:"group_by,omitempty" json:"group_by,omitempty"`
}

// Model is one model entry: name, type, and the type's parameters inline
// ({name: rf, type: forest, trees: 100}).
type Model struct {
	Name   string
	Type   string
	Params map[string]any
}

// Executor says where and how trials run.
type Executor struct {
	// Kind is local (default: a worker pool in this process), process (one `etch trial run`
	// process per trial) or slurm (a job array; see the Slurm executor).
	Kind string `yaml:"kind" json:"kind"`
	// Jobs is the number of trials run at once (default 0: from the cores and Threads).
	Jobs int `yaml:"jobs" json:"jobs"`
	// Threads is the number of threads each trial's models may use (default 0: cores / jobs).
	Threads int `yaml:"threads" json:"threads"`
	// Slurm holds the Slurm executor's settings (ignored by the others).
	Slurm *Slurm `yaml:"slurm,omitempty" json:"slurm,omitempty"`
}

// Slurm holds job-array settings for the Slurm executor.
type Slurm struct {
	Partition   string `yaml:"partition,omitempty" json:"partition,omitempty"`
	Time        string `yaml:"time,omitempty" json:"time,omitempty"`
	CPUsPerTask int    `yaml:"cpus_per_task,omitempty" json:"cpus_per_task,omitempty"`
	Mem         string `yaml:"mem,omitempty" json:"mem,omitempty"`
	GPUs        int    `yaml:"gpus,omitempty" json:"gpus,omitempty"`
	MaxParallel int    `yaml:"max_parallel,omitempty" json:"max_parallel,omitempty"`
}

// Axis is one swept key and its values.
type Axis struct {
	Key    string
	Values []any
}

// Sweep is an ordered grid of axes; trials enumerate it with the last axis varying fastest.
type Sweep []Axis

// Keys returns the swept keys in order.
func (s Sweep) Keys() []string {
	out := make([]string, len(s))
	for i, a := range s {
		out[i] = a.Key
	}
	return out
}

// ErrConfig reports an invalid experiment; errors from Parse, Validate, Set and Expand wrap it.
var ErrConfig = errors.New("invalid experiment")

// Error is a config error at a place in a file.
type Error struct {
	File   string
	Line   int
	Column int
	// Path is the dotted path of the offending key, when known.
	Path string
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
	} else {
		b.WriteString("<experiment>")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap makes every Error match ErrConfig.
func (e *Error) Unwrap() error { return ErrConfig }

// Load reads and decodes the experiment file path, fills in defaults and validates it
// against the known model types (nil: any type).
func Load(path string, knownTypes []string) (*Experiment, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read experiment: %w", err)
	}
	e, err := Parse(path, b)
	if err != nil {
		return nil, err
	}
	if err := e.Validate(knownTypes); err != nil {
		return nil, err
	}
	return e, nil
}

// Parse decodes an experiment strictly from b (file names it in errors) and fills in defaults.
// It does not validate values; call Validate.
func Parse(file string, b []byte) (*Experiment, error) {
	var e Experiment
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, &Error{File: file, Msg: "empty experiment file"}
	}
	if err := yaml.UnmarshalWithOptions(b, &e, yaml.Strict()); err != nil {
		return nil, yamlError(file, err)
	}
	f, err := parser.ParseBytes(b, 0)
	if err != nil {
		return nil, yamlError(file, err)
	}
	e.Source = file
	e.positions = map[string]ast.Node{}
	for _, d := range f.Docs {
		collectPositions(d.Body, "", e.positions)
	}
	e.Defaults()
	return &e, nil
}

// yamlError turns a go-yaml error into an *Error with its position.
func yamlError(file string, err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		out := &Error{File: file, Msg: ye.GetMessage()}
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			out.Line, out.Column = tk.Position.Line, tk.Position.Column
		}
		return out
	}
	var pe *Error
	if errors.As(err, &pe) {
		pe.File = file
		return pe
	}
	return &Error{File: file, Msg: err.Error()}
}

// collectPositions records the node of every mapping value and sequence item under its dotted
// path (a.b, models[0].name).
func collectPositions(n ast.Node, path string, out map[string]ast.Node) {
	switch v := n.(type) {
	case *ast.DocumentNode:
		collectPositions(v.Body, path, out)
	case *ast.MappingNode:
		for _, mv := range v.Values {
			collectMapValue(mv, path, out)
		}
	case *ast.MappingValueNode:
		collectMapValue(v, path, out)
	case *ast.SequenceNode:
		for i, item := range v.Values {
			p := fmt.Sprintf("%s[%d]", path, i)
			out[p] = item
			collectPositions(item, p, out)
		}
	case *ast.TagNode:
		collectPositions(v.Value, path, out)
	case *ast.AnchorNode:
		collectPositions(v.Value, path, out)
	}
}

func collectMapValue(mv *ast.MappingValueNode, path string, out map[string]ast.Node) {
	key := mv.Key.String()
	if s, err := strconv.Unquote(key); err == nil {
		key = s
	}
	p := key
	if path != "" {
		p = path + "." + key
	}
	out[p] = mv.Key
	collectPositions(mv.Value, p, out)
}

// errAt returns an *Error for the dotted path, positioned at the path or its nearest ancestor
// that the file holds.
func (e *Experiment) errAt(path, format string, args ...any) *Error {
	err := &Error{File: e.Source, Path: path, Msg: fmt.Sprintf(format, args...)}
	for p := path; p != ""; p = parent(p) {
		if n, ok := e.positions[p]; ok {
			if tk := n.GetToken(); tk != nil && tk.Position != nil {
				err.Line, err.Column = tk.Position.Line, tk.Position.Column
			}
			break
		}
	}
	return err
}

// parent strips the last element of a dotted path: a.b[2] → a.b, a.b → a.
func parent(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// UnmarshalYAML decodes a model entry: name and type, everything else a parameter.
func (m *Model) UnmarshalYAML(node ast.Node) error {
	var raw map[string]any
	err := yaml.NodeToValue(node, &raw)
	if err == nil {
		err = m.fromMap(raw)
	}
	if err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) {
			return err
		}
		out := &Error{Msg: err.Error()}
		if tk := node.GetToken(); tk != nil && tk.Position != nil {
			out.Line, out.Column = tk.Position.Line, tk.Position.Column
		}
		return out
	}
	return nil
}

func (m *Model) fromMap(raw map[string]any) error {
	*m = Model{Params: map[string]any{}}
	for k, v := range raw {
		switch k {
		case "name":
			s, ok := v.(string)
			if !ok {
				return fmt.Errorf("model name must be a string, got %v", v)
			}
			m.Name = s
		case "type":
			s, ok := v.(string)
			if !ok {
				return fmt.Errorf("model type must be a string, got %v", v)
			}
			m.Type = s
		default:
			m.Params[k] = normalize(v)
		}
	}
	return nil
}

// MarshalYAML writes the entry back in its inline form.
func (m Model) MarshalYAML() (any, error) {
	out := yaml.MapSlice{{Key: "name", Value: m.Name}, {Key: "type", Value: m.Type}}
	keys := make([]string, 0, len(m.Params))
	for k := range m.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, yaml.MapItem{Key: k, Value: yamlValue(m.Params[k])})
	}
	return out, nil
}

// yamlValue prepares a parameter for YAML output: whole numbers print as integers (trees: 100,
// not 100.0); lists and maps are converted recursively.
func yamlValue(v any) any {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x)
		}
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = yamlValue(x[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, vv := range x {
			out[k] = yamlValue(vv)
		}
		return out
	}
	return v
}

// MarshalJSON writes the entry as one object (name, type and parameters).
func (m Model) MarshalJSON() ([]byte, error) {
	obj := make(map[string]any, len(m.Params)+2)
	for k, v := range m.Params {
		obj[k] = v
	}
	obj["name"], obj["type"] = m.Name, m.Type
	return json.Marshal(obj)
}

// UnmarshalJSON reads the form MarshalJSON writes.
func (m *Model) UnmarshalJSON(b []byte) error {
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	return m.fromMap(raw)
}

// UnmarshalYAML decodes the sweep mapping, keeping its order.
func (s *Sweep) UnmarshalYAML(unmarshal func(any) error) error {
	var ms yaml.MapSlice
	if err := unmarshal(&ms); err != nil {
		return err
	}
	*s = nil
	for _, it := range ms {
		k, ok := it.Key.(string)
		if !ok {
			return fmt.Errorf("sweep key %v: want a dotted key", it.Key)
		}
		vals, ok := it.Value.([]any)
		if !ok {
			return fmt.Errorf("sweep %s: want a list of values, got %v", k, it.Value)
		}
		for i := range vals {
			vals[i] = normalize(vals[i])
		}
		*s = append(*s, Axis{Key: k, Values: vals})
	}
	return nil
}

// MarshalYAML writes the sweep as an ordered mapping.
func (s Sweep) MarshalYAML() (any, error) {
	out := yaml.MapSlice{}
	for _, a := range s {
		out = append(out, yaml.MapItem{Key: a.Key, Value: yamlValue(a.Values)})
	}
	return out, nil
}

// MarshalJSON writes the sweep as a list of {key, values} (JSON objects have no order).
func (s Sweep) MarshalJSON() ([]byte, error) {
	type axis struct {
		Key    string `json:"key"`
		Values []any  `json:"values"`
	}
	out := make([]axis, len(s))
	for i, a := range s {
		out[i] = axis(a)
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads the form MarshalJSON writes.
func (s *Sweep) UnmarshalJSON(b []byte) error {
	var in []struct {
		Key    string `json:"key"`
		Values []any  `json:"values"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	*s = nil
	for _, a := range in {
		*s = append(*s, Axis{Key: a.Key, Values: a.Values})
	}
	return nil
}

// normalize turns YAML-decoded values into the JSON-shaped values the rest of etch uses:
// numbers float64, maps map[string]any, lists []any.
func normalize(v any) any {
	switch x := v.(type) {
	case int:
		return intValue(int64(x))
	case int64:
		return intValue(x)
	case uint64:
		if x < 1<<53 {
			return float64(x)
		}
		return json.Number(strconv.FormatUint(x, 10))
	case float32:
		return float64(x)
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return intValue(i)
		}
		if f, err := x.Float64(); err == nil {
			return f
		}
		return x
	case map[string]any:
		for k, vv := range x {
			x[k] = normalize(vv)
		}
		return x
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, vv := range x {
			out[fmt.Sprint(k)] = normalize(vv)
		}
		return out
	case yaml.MapSlice:
		out := make(map[string]any, len(x))
		for _, it := range x {
			out[fmt.Sprint(it.Key)] = normalize(it.Value)
		}
		return out
	case []any:
		for i := range x {
			x[i] = normalize(x[i])
		}
		return x
	}
	return v
}

// intValue returns x as float64 when that is exact, else as a json.Number.
func intValue(x int64) any {
	if x > -(1<<53) && x < 1<<53 {
		return float64(x)
	}
	return json.Number(strconv.FormatInt(x, 10))
}

// Defaults fills in the documented defaults of absent keys.
func (e *Experiment) Defaults() {
	if e.Backend == "" {
		e.Backend = "auto"
	}
	if e.Data.Label == "" {
		e.Data.Label = "label"
	}
	if len(e.Data.Features) == 0 {
		e.Data.Features = []string{"stats"}
	}
	if e.Data.Scale == "" {
		e.Data.Scale = "minmax"
	}
	if e.Split.Kind == "" {
		e.Split.Kind = "stratified"
	}
	switch e.Split.Kind {
	case "stratified":
		if e.Split.Test == 0 {
			e.Split.Test = 0.2
		}
	case "kfold":
		if e.Split.K == 0 {
			e.Split.K = 10
		}
	}
	if e.Repeats == 0 {
		e.Repeats = 1
	}
	if e.Executor.Kind == "" {
		e.Executor.Kind = "local"
	}
	for i := range e.Models {
		if e.Models[i].Params == nil {
			e.Models[i].Params = map[string]any{}
		}
	}
}

// YAML returns the experiment in YAML form (resolved: defaults and overrides applied).
func (e *Experiment) YAML() string {
	b, err := yaml.MarshalWithOptions(e, yaml.Indent(2), yaml.IndentSequence(true))
	if err != nil {
		return fmt.Sprintf("# cannot encode: %v\n", err)
	}
	return string(b)
}
