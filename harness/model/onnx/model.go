package onnx

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/etchlab/etch/harness/model"
)

// Params are the parameters of a `type: onnx` model entry.
type Params struct {
	// Path is the .onnx file.
	Path string `json:"path"`
	// Input names the input tensor (default: the model's first input).
	Input string `json:"input,omitempty"`
	// Output names the probability output (default: the first output that is a float tensor of
	// rank 2 or a sequence of maps).
	Output string `json:"output,omitempty"`
	// Layout says how examples are fed: "flat" (default: tabular features then the flattened
	// sequences, [N, D]) or "seq" ([N, SeqLen, channels]).
	Layout string `json:"layout,omitempty"`
	// Provider is "cpu" (default), "cuda" or "auto" (CUDA when the library has it, else CPU).
	Provider string `json:"provider,omitempty"`
	// Batch is the number of examples per inference call (default 1024).
	Batch int `json:"batch,omitempty"`
}

// Model is an ONNX classifier run by ONNX Runtime. It is already trained: Fit only checks that
// the data fits the model's input.
type Model struct {
	p       Params
	classes int
	names   []string
	session *ort.DynamicAdvancedSession
	inDims  ort.Shape
	zipmap  bool
	device  string
	log     *slog.Logger
}

// Constructor returns the `type: onnx` constructor bound to rt.
func Constructor(rt *Runtime) model.Constructor {
	return func(spec model.Spec, env model.Env) (model.Model, error) {
		var p Params
		if err := model.DecodeParams(spec.Params, &p); err != nil {
			return nil, err
		}
		if p.Path == "" {
			return nil, fmt.Errorf("parameters: path is required")
		}
		return Open(rt, p, env)
	}
}

// Open loads the ONNX model p.Path.
func Open(rt *Runtime, p Params, env model.Env) (*Model, error) {
	if p.Layout == "" {
		p.Layout = "flat"
	}
	if p.Layout != "flat" && p.Layout != "seq" {
		return nil, fmt.Errorf("layout %q: want flat or seq", p.Layout)
	}
	if p.Provider == "" {
		p.Provider = "cpu"
	}
	if p.Batch <= 0 {
		p.Batch = 1024
	}
	if err := rt.Init(); err != nil {
		return nil, err
	}
	ins, outs, err := ort.GetInputOutputInfo(p.Path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p.Path, err)
	}
	if len(ins) == 0 || len(outs) == 0 {
		return nil, fmt.Errorf("%s: model has no inputs or outputs", p.Path)
	}
	m := &Model{p: p, log: env.Log}
	in := ins[0]
	if p.Input != "" {
		found := false
		for _, i := range ins {
			if i.Name == p.Input {
				in, found = i, true
			}
		}
		if !found {
			return nil, fmt.Errorf("%s: no input %q (inputs: %v)", p.Path, p.Input, ins)
		}
	}
	if in.OrtValueType != ort.ONNXTypeTensor || in.DataType != ort.TensorElementDataTypeFloat {
		return nil, fmt.Errorf("%s: input %s is not a float tensor", p.Path, in.String())
	}
	m.inDims = in.Dimensions
	var out *ort.InputOutputInfo
	for i := range outs {
		o := &outs[i]
		if p.Output != "" && o.Name != p.Output {
			continue
		}
		if o.OrtValueType == ort.ONNXTypeSequence || (o.OrtValueType == ort.ONNXTypeTensor &&
			o.DataType == ort.TensorElementDataTypeFloat && len(o.Dimensions) == 2) {
			out = o
			break
		}
	}
	if out == nil {
		return nil, fmt.Errorf("%s: no probability output (a float [N,K] tensor or a ZipMap sequence) among %v", p.Path, outs)
	}
	m.zipmap = out.OrtValueType == ort.ONNXTypeSequence
	if !m.zipmap && out.Dimensions[1] > 0 {
		m.classes = int(out.Dimensions[1])
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	if env.Threads > 0 {
		_ = opts.SetIntraOpNumThreads(env.Threads)
	}
	m.device = "cpu"
	if p.Provider == "cuda" || p.Provider == "auto" {
		if err := appendCUDA(opts); err != nil {
			if p.Provider == "cuda" {
				return nil, fmt.Errorf("%s: CUDA execution provider unavailable: %w", p.Path, err)
			}
			if env.Log != nil {
				env.Log.Info("onnx: CUDA execution provider unavailable, using CPU", "model", p.Path, "reason", err)
			}
		} else {
			m.device = "cuda"
		}
	}
	m.session, err = ort.NewDynamicAdvancedSession(p.Path, []string{in.Name}, []string{out.Name}, opts)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", p.Path, err)
	}
	return m, nil
}

func appendCUDA(opts *ort.SessionOptions) error {
	cuda, err := ort.NewCUDAProviderOptions()
	if err != nil {
		return err
	}
	defer cuda.Destroy()
	return opts.AppendExecutionProviderCUDA(cuda)
}

// Device returns the execution provider the session runs on ("cpu" or "cuda").
func (m *Model) Device() string { return m.device }

// Classes returns the number of classes (known after Fit for ZipMap models).
func (m *Model) Classes() int { return m.classes }

// Close releases the session.
func (m *Model) Close() error {
	if m.session == nil {
		return nil
	}
	err := m.session.Destroy()
	m.session = nil
	return err
}

// featureDims returns the per-example input shape x gives in the model's layout.
func (m *Model) featureDims(x *model.Data) []int64 {
	if m.p.Layout == "seq" {
		return []int64{int64(x.SeqLen), int64(len(x.SeqChannels))}
	}
	return []int64{int64(x.TabDim() + x.SeqDim())}
}

// Fit does not train (an ONNX model is already trained): it checks the input shape, takes the
// class count and names from train, and fails if the model's output cannot match them.
func (m *Model) Fit(_ context.Context, train, _ *model.Data) error {
	dims := m.featureDims(train)
	if len(m.inDims) != len(dims)+1 {
		return fmt.Errorf("%s: input rank %d, data gives rank %d (%v); check layout", m.p.Path, len(m.inDims), len(dims)+1, dims)
	}
	for i, d := range dims {
		if want := m.inDims[i+1]; want > 0 && want != d {
			return fmt.Errorf("%s: input shape %v, data gives [N %v]", m.p.Path, m.inDims, dims)
		}
	}
	if m.classes > 0 && m.classes != train.Classes {
		return fmt.Errorf("%s: model outputs %d classes, data has %d", m.p.Path, m.classes, train.Classes)
	}
	m.classes = train.Classes
	m.names = train.ClassNames
	return nil
}

// PredictProba runs the model over x in batches.
func (m *Model) PredictProba(ctx context.Context, x *model.Data, dst []float32) error {
	if m.session == nil {
		return fmt.Errorf("%s: model closed", m.p.Path)
	}
	if m.classes == 0 {
		m.classes = x.Classes
		m.names = x.ClassNames
	}
	k := m.classes
	if len(dst) < x.N*k {
		return fmt.Errorf("%w: dst %d < %d×%d", model.ErrShape, len(dst), x.N, k)
	}
	dims := m.featureDims(x)
	per := 1
	for _, d := range dims {
		per *= int(d)
	}
	buf := make([]float32, 0, m.p.Batch*per)
	td, sd := x.TabDim(), x.SeqDim()
	for start := 0; start < x.N; start += m.p.Batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := min(start+m.p.Batch, x.N)
		buf = buf[:0]
		for i := start; i < end; i++ {
			if m.p.Layout == "seq" {
				buf = append(buf, x.Seq[i*sd:(i+1)*sd]...)
			} else {
				buf = append(buf, x.Tab[i*td:(i+1)*td]...)
				buf = append(buf, x.Seq[i*sd:(i+1)*sd]...)
			}
		}
		shape := append([]int64{int64(end - start)}, dims...)
		in, err := ort.NewTensor(ort.NewShape(shape...), buf)
		if err != nil {
			return fmt.Errorf("%s: %w", m.p.Path, err)
		}
		outs := []ort.Value{nil}
		err = m.session.Run([]ort.Value{in}, outs)
		in.Destroy()
		if err != nil {
			return fmt.Errorf("run %s: %w", m.p.Path, err)
		}
		err = m.copyOut(outs[0], dst[start*k:end*k], end-start)
		outs[0].Destroy()
		if err != nil {
			return fmt.Errorf("%s: %w", m.p.Path, err)
		}
	}
	return nil
}

func (m *Model) copyOut(v ort.Value, dst []float32, n int) error {
	k := m.classes
	switch out := v.(type) {
	case *ort.Tensor[float32]:
		s := out.GetShape()
		if len(s) != 2 || int(s[0]) != n || int(s[1]) != k {
			return fmt.Errorf("%w: output shape %v, want [%d %d]", model.ErrShape, s, n, k)
		}
		copy(dst, out.GetData())
		return nil
	case *ort.Sequence:
		maps, err := out.GetValues()
		if err != nil {
			return err
		}
		if len(maps) != n {
			return fmt.Errorf("%w: %d probability maps for %d examples", model.ErrShape, len(maps), n)
		}
		clear(dst)
		for i, mv := range maps {
			mp, ok := mv.(*ort.Map)
			if !ok {
				return fmt.Errorf("probability output element is %s, not a map", mv.GetONNXType())
			}
			if err := m.copyMap(mp, dst[i*k:(i+1)*k]); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unsupported output value %s", v.GetONNXType())
}

// copyMap reads one ZipMap entry (label → probability) into row.
func (m *Model) copyMap(mp *ort.Map, row []float32) error {
	kv, vv, err := mp.GetKeysAndValues()
	if err != nil {
		return err
	}
	vals, ok := vv.(*ort.Tensor[float32])
	if !ok {
		return fmt.Errorf("ZipMap values are %T, want float tensor", vv)
	}
	probs := vals.GetData()
	index := func(label string) (int, error) {
		for j, n := range m.names {
			if n == label {
				return j, nil
			}
		}
		if j, err := strconv.Atoi(label); err == nil && j >= 0 && j < len(row) && m.names == nil {
			return j, nil
		}
		return 0, fmt.Errorf("model class %q is not one of the data's classes", label)
	}
	switch keys := kv.(type) {
	case *ort.Tensor[int64]:
		for i, key := range keys.GetData() {
			if key < 0 || int(key) >= len(row) {
				return fmt.Errorf("model class index %d outside [0,%d)", key, len(row))
			}
			row[key] = probs[i]
		}
	case *ort.StringTensor:
		labels, err := keys.GetContents()
		if err != nil {
			return err
		}
		for i, l := range labels {
			j, err := index(l)
			if err != nil {
				return err
			}
			row[j] = probs[i]
		}
	default:
		return fmt.Errorf("ZipMap keys are %T, want int64 or string", kv)
	}
	return nil
}
