package nn

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/etchlab/etch/harness/model/onnx"
	"github.com/etchlab/etch/kernels"
)

// bufLen is a device buffer and the number of values of it in use.
type bufLen struct {
	b kernels.Buffer
	n int
}

// host downloads the first n values of b.
func (m *Model) host(b kernels.Buffer, n int) []float32 {
	out := make([]float32, n)
	m.b.Download(out, m.nw.nt.view(b, 0, n))
	return out
}

// reorderBlocks returns w (blocks of rows, each blockRows×cols) with its blocks in the order
// order (order[k] = source block of destination block k).
func reorderBlocks(w []float32, blockLen int, order []int) []float32 {
	out := make([]float32, 0, len(w))
	for _, src := range order {
		out = append(out, w[src*blockLen:(src+1)*blockLen]...)
	}
	return out
}

// exporter builds the ONNX graph of a network, tracking the current tensor's name and shape.
type exporter struct {
	m   *Model
	g   *onnx.Graph
	n   int
	cur string
	sh  shape
}

func (e *exporter) name(prefix string) string {
	e.n++
	return prefix + "_" + strconv.Itoa(e.n)
}

func (e *exporter) node(op string, inputs []string, attrs ...onnx.Attr) string {
	out := e.name(strings.ToLower(op))
	e.g.Node(op, "", inputs, []string{out}, attrs...)
	return out
}

func (e *exporter) constF(prefix string, dims []int64, v []float32) string {
	n := e.name(prefix)
	e.g.Float(n, dims, v)
	return n
}

func (e *exporter) constI(prefix string, v ...int64) string {
	n := e.name(prefix)
	e.g.Int64(n, []int64{int64(len(v))}, v)
	return n
}

func (e *exporter) transpose(x string, perm ...int64) string {
	return e.node("Transpose", []string{x}, onnx.AttrInts("perm", perm))
}

func (e *exporter) activation(x, act string) string {
	switch act {
	case "relu":
		return e.node("Relu", []string{x})
	case "sigmoid":
		return e.node("Sigmoid", []string{x})
	case "tanh":
		return e.node("Tanh", []string{x})
	}
	return x
}

// flat makes the current tensor a vector per example.
func (e *exporter) flat() {
	if e.sh.T != 0 {
		e.cur = e.node("Flatten", []string{e.cur}, onnx.AttrInt("axis", 1))
		e.sh = shape{C: e.sh.size()}
	}
}

// layer appends the nodes of one layer.
func (e *exporter) layer(l layer) error {
	m := e.m
	s := l.spec()
	switch l := l.(type) {
	case *dense:
		e.flat()
		w := m.host(l.w.w, l.w.size())
		b := m.host(l.bias.w, l.bias.size())
		wn := e.constF("W", []int64{int64(l.inS.C), int64(l.outS.C)}, w)
		bn := e.constF("B", []int64{int64(l.outS.C)}, b)
		e.cur = e.activation(e.node("Gemm", []string{e.cur, wn, bn}), s.Activation)
	case *conv1d:
		cin, f, k := l.inS.C, l.outS.C, l.k
		w := m.host(l.w.w, l.w.size())
		ow := make([]float32, len(w))
		for o := range f {
			for c := range cin {
				for j := range k {
					ow[(o*cin+c)*k+j] = w[(j*cin+c)*f+o]
				}
			}
		}
		wn := e.constF("W", []int64{int64(f), int64(cin), int64(k)}, ow)
		bn := e.constF("B", []int64{int64(f)}, m.host(l.bias.w, f))
		x := e.transpose(e.cur, 0, 2, 1)
		y := e.node("Conv", []string{x, wn, bn}, onnx.AttrInts("kernel_shape", []int64{int64(k)}),
			onnx.AttrInts("pads", []int64{int64(l.pad), int64(l.pad)}), onnx.AttrInts("strides", []int64{1}))
		y = e.activation(y, s.Activation)
		e.cur = e.transpose(y, 0, 2, 1)
	case *maxpool1d:
		x := e.transpose(e.cur, 0, 2, 1)
		y := e.node("MaxPool", []string{x}, onnx.AttrInts("kernel_shape", []int64{int64(l.size)}),
			onnx.AttrInts("strides", []int64{int64(l.size)}))
		e.cur = e.transpose(y, 0, 2, 1)
	case *batchnorm:
		c := l.inS.C
		ins := []string{"", e.constF("gamma", []int64{int64(c)}, m.host(l.gamma.w, c)),
			e.constF("beta", []int64{int64(c)}, m.host(l.beta.w, c)),
			e.constF("mean", []int64{int64(c)}, m.host(l.runMean, c)),
			e.constF("var", []int64{int64(c)}, m.host(l.runVar, c))}
		if l.inS.T != 0 {
			ins[0] = e.transpose(e.cur, 0, 2, 1)
			y := e.node("BatchNormalization", ins, onnx.AttrFloat("epsilon", bnEps))
			e.cur = e.transpose(y, 0, 2, 1)
		} else {
			ins[0] = e.cur
			e.cur = e.node("BatchNormalization", ins, onnx.AttrFloat("epsilon", bnEps))
		}
	case *dropout:
		// identity at inference
	case *flatten:
		e.flat()
	case *act:
		e.cur = e.activation(e.cur, s.Type)
	case *lstm:
		H, I := l.h, l.inS.C
		// etch (PyTorch) i,f,g,o → ONNX i,o,f,c
		order := []int{0, 3, 1, 2}
		w := reorderBlocks(m.host(l.wx.w, l.wx.size()), H*I, order)
		r := reorderBlocks(m.host(l.wh.w, l.wh.size()), H*H, order)
		b := append(reorderBlocks(m.host(l.bias.w, 4*H), H, order), make([]float32, 4*H)...)
		e.recurrent("LSTM", l.rnnBase, w, r, b)
	case *gru:
		H, I := l.h, l.inS.C
		// etch r,z,n → ONNX z,r,h
		order := []int{1, 0, 2}
		w := reorderBlocks(m.host(l.wx.w, l.wx.size()), H*I, order)
		r := reorderBlocks(m.host(l.wh.w, l.wh.size()), H*H, order)
		b := append(reorderBlocks(m.host(l.bx.w, 3*H), H, order), reorderBlocks(m.host(l.bh.w, 3*H), H, order)...)
		e.recurrent("GRU", l.rnnBase, w, r, b, onnx.AttrInt("linear_before_reset", 1))
	default:
		return fmt.Errorf("onnx export: layer %s not supported", s.Type)
	}
	e.sh = l.out()
	return nil
}

// recurrent appends an ONNX LSTM or GRU node (time-major input) and brings the output back to
// etch's layout.
func (e *exporter) recurrent(op string, l rnnBase, w, r, b []float32, attrs ...onnx.Attr) {
	G, H, I, T := int64(l.gates), int64(l.h), int64(l.inS.C), int64(l.inS.T)
	x := e.transpose(e.cur, 1, 0, 2)
	wn := e.constF("W", []int64{1, G * H, I}, w)
	rn := e.constF("R", []int64{1, G * H, H}, r)
	bn := e.constF("B", []int64{1, 2 * G * H}, b)
	y, yh := e.name("y"), e.name("y_h")
	attrs = append(attrs, onnx.AttrInt("hidden_size", H))
	e.g.Node(op, "", []string{x, wn, rn, bn}, []string{y, yh}, attrs...)
	if l.seqOut {
		y = e.node("Reshape", []string{y, e.constI("shape", T, -1, H)})
		e.cur = e.transpose(y, 1, 0, 2)
		return
	}
	e.cur = e.node("Reshape", []string{yh, e.constI("shape", -1, H)})
}

// scale appends (x − mean)·inv with per-last-axis constants.
func (e *exporter) scale(x string, s Scaler) string {
	c := int64(len(s.Mean))
	x = e.node("Sub", []string{x, e.constF("mean", []int64{c}, s.Mean)})
	return e.node("Mul", []string{x, e.constF("inv", []int64{c}, s.Inv)})
}

// ExportONNX writes the fitted model as an ONNX graph of standard operators (opset 17). The
// graph's input "x" is [N, Tab + SeqLen·Channels] float: the tabular features the model reads,
// then the flattened sequence ([time][channel]), unscaled — the scalers are part of the graph —
// which is onnx.Params layout "flat". The output "probabilities" is [N, Classes].
func (m *Model) ExportONNX(w io.Writer) error {
	if m.nw == nil {
		return ErrNotFitted
	}
	a, nw := m.arch, m.nw
	e := &exporter{m: m, g: onnx.NewGraph("etch_" + m.kind)}
	seqDim := a.SeqLen * a.SeqChannels
	e.g.Input("x", -1, int64(a.Tab+seqDim))
	var seqVec, tabVec string
	if m.useSeq {
		x := "x"
		if m.useTab {
			x = e.node("Slice", []string{"x", e.constI("starts", int64(a.Tab)), e.constI("ends", int64(a.Tab+seqDim)), e.constI("axes", 1)})
		}
		x = e.node("Reshape", []string{x, e.constI("shape", -1, int64(a.SeqLen), int64(a.SeqChannels))})
		e.cur, e.sh = e.scale(x, m.seqScale), shape{T: a.SeqLen, C: a.SeqChannels}
		for _, l := range nw.seq {
			if err := e.layer(l); err != nil {
				return err
			}
		}
		e.flat()
		seqVec = e.cur
	}
	if m.useTab {
		x := "x"
		if m.useSeq {
			x = e.node("Slice", []string{"x", e.constI("starts", 0), e.constI("ends", int64(a.Tab)), e.constI("axes", 1)})
		}
		e.cur, e.sh = e.scale(x, m.tabScale), shape{C: a.Tab}
		for _, l := range nw.tab {
			if err := e.layer(l); err != nil {
				return err
			}
		}
		tabVec = e.cur
	}
	switch {
	case seqVec == "":
		e.cur = tabVec
	case tabVec == "":
		e.cur = seqVec
	default:
		e.cur = e.node("Concat", []string{seqVec, tabVec}, onnx.AttrInt("axis", 1))
	}
	e.sh = shape{C: nw.merged}
	for _, l := range nw.head {
		if err := e.layer(l); err != nil {
			return err
		}
	}
	e.g.Node("Softmax", "", []string{e.cur}, []string{"probabilities"}, onnx.AttrInt("axis", -1))
	e.g.Output("probabilities", -1, int64(a.Classes))
	meta := map[string]string{
		"etch.type":     m.kind,
		"etch.classes":  strings.Join(m.classes, ","),
		"etch.input":    "tab then seq (time-major, channels last), unscaled",
		"etch.channels": strings.Join(m.channels, ","),
		"etch.tab":      strings.Join(m.tabNames, ","),
	}
	keys := []string{"etch.type", "etch.classes", "etch.input", "etch.channels", "etch.tab"}
	if _, err := w.Write(e.g.Model("etch", meta, keys)); err != nil {
		return fmt.Errorf("onnx export: %w", err)
	}
	return nil
}

// ExportONNXFile writes the ONNX export to path atomically.
func (m *Model) ExportONNXFile(path string) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("export %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if err := m.ExportONNX(f); err != nil {
		f.Close()
		return fmt.Errorf("export %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("export %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("export %s: %w", path, err)
	}
	return nil
}
