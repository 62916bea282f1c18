package nn

import (
	"fmt"
	"strings"

	"github.com/etchlab/etch/kernels"
)

// Arch is everything needed to rebuild a network's shapes: the layers, the inputs and the class
// count. It is saved in the native format's header.
type Arch struct {
	Layers    []LayerSpec `json:"layers"`
	TabLayers []LayerSpec `json:"tab_layers,omitempty"`
	// SeqLen and SeqChannels give the sequence input ([SeqLen][SeqChannels]); 0 when unused.
	SeqLen      int `json:"seq_len"`
	SeqChannels int `json:"seq_channels"`
	// Tab is the number of tabular features read; 0 when unused.
	Tab     int `json:"tab"`
	Classes int `json:"classes"`
}

func errShape(s LayerSpec, in shape, format string, args ...any) error {
	return fmt.Errorf("%w: %s on input %v: %s", ErrConfig, s.Type, in, fmt.Sprintf(format, args...))
}

// network is a built architecture: sequence branch, tabular branch, head and classifier.
type network struct {
	nt      *net
	arch    Arch
	seq     []layer // on [n][T][C] until the tensor becomes a vector
	tab     []layer // on [n][Tab]
	head    []layer // on the merged vector; ends with the classifier dense layer
	seqOut  shape   // output of the sequence branch (a vector)
	tabOut  int     // width of the tabular branch's output
	merged  int     // seqOut.C + tabOut
	maxN    int
	xSeq    kernels.Buffer
	xTab    kernels.Buffer
	cat     kernels.Buffer // merged head input [n][merged] (only when both branches exist)
	dcat    kernels.Buffer
	logits  kernels.Buffer
	probs   kernels.Buffer
	dlogits kernels.Buffer
	labels  kernels.Buffer
	weights kernels.Buffer
}

// checkArch validates an Arch without allocating anything: it walks the shapes and counts the
// parameters, so a hostile header cannot ask for a huge network.
func checkArch(a Arch) (int, error) {
	if a.Classes < 2 || a.Classes > maxClasses {
		return 0, fmt.Errorf("%w: %d classes", ErrConfig, a.Classes)
	}
	if a.SeqLen < 0 || a.SeqLen > maxSeqLen || a.SeqChannels < 0 || a.SeqChannels > 256 || a.Tab < 0 || a.Tab > maxInputs {
		return 0, fmt.Errorf("%w: inputs seq %d×%d, tab %d", ErrConfig, a.SeqLen, a.SeqChannels, a.Tab)
	}
	if (a.SeqLen == 0) != (a.SeqChannels == 0) || (a.SeqLen == 0 && a.Tab == 0) {
		return 0, fmt.Errorf("%w: inputs seq %d×%d, tab %d", ErrConfig, a.SeqLen, a.SeqChannels, a.Tab)
	}
	if len(a.Layers) > maxLayers || len(a.TabLayers) > maxLayers {
		return 0, fmt.Errorf("%w: more than %d layers", ErrConfig, maxLayers)
	}
	total := 0
	var err error
	walk := func(specs []LayerSpec, in shape, where string, stopAtVector bool) (shape, int, error) {
		for i, s := range specs {
			if err := s.check(fmt.Sprintf("%s %d", where, i+1)); err != nil {
				return in, i, err
			}
			if stopAtVector && (in.T == 0 || s.Type == LayerDense) {
				return in, i, nil
			}
			var np int
			in, np, err = layerShape(s, in)
			if err != nil {
				return in, i, err
			}
			total += np
			if total > maxParams {
				return in, i, fmt.Errorf("%w: more than %d parameters", ErrConfig, maxParams)
			}
		}
		return in, len(specs), nil
	}
	var seqOut shape
	rest := a.Layers
	if a.SeqLen > 0 {
		var used int
		seqOut, used, err = walk(a.Layers, shape{T: a.SeqLen, C: a.SeqChannels}, "layer", true)
		if err != nil {
			return 0, err
		}
		if seqOut.T != 0 {
			seqOut = shape{C: seqOut.size()}
		}
		rest = a.Layers[used:]
	} else {
		for _, s := range a.Layers {
			if t := s.Type; t == LayerConv1D || t == LayerMaxPool1D || t == LayerLSTM || t == LayerGRU {
				return 0, fmt.Errorf("%w: %s layer needs sequence input, the data has none", ErrConfig, t)
			}
		}
	}
	tabOut := 0
	if a.Tab > 0 {
		o, _, err := walk(a.TabLayers, shape{C: a.Tab}, "tab layer", false)
		if err != nil {
			return 0, err
		}
		if o.T != 0 {
			return 0, fmt.Errorf("%w: tab layers must keep vectors", ErrConfig)
		}
		tabOut = o.C
	} else if len(a.TabLayers) > 0 {
		return 0, fmt.Errorf("%w: tab_layers given, but the model reads no tabular features", ErrConfig)
	}
	head := shape{C: seqOut.C + tabOut}
	head, _, err = walk(rest, head, "head layer", false)
	if err != nil {
		return 0, err
	}
	_, np, err := layerShape(LayerSpec{Type: LayerDense, Units: a.Classes}, head)
	if err != nil {
		return 0, err
	}
	return total + np, nil
}

// layerShape returns a layer's output shape and parameter count for input in.
func layerShape(s LayerSpec, in shape) (shape, int, error) {
	switch s.Type {
	case LayerDense:
		return shape{C: s.Units}, in.size()*s.Units + s.Units, nil
	case LayerConv1D:
		if in.T == 0 {
			return in, 0, errShape(s, in, "needs a sequence")
		}
		k := s.Kernel
		if k == 0 {
			k = 3
		}
		pad := 0
		if s.Padding == "same" {
			pad = (k - 1) / 2
		}
		t := in.T + 2*pad - k + 1
		if t < 1 {
			return in, 0, errShape(s, in, "sequence too short for kernel %d", k)
		}
		return shape{T: t, C: s.Filters}, k*in.C*s.Filters + s.Filters, nil
	case LayerMaxPool1D:
		size := s.Size
		if size == 0 {
			size = 2
		}
		if in.T == 0 || in.T/size < 1 {
			return in, 0, errShape(s, in, "needs a sequence of at least %d steps", size)
		}
		return shape{T: in.T / size, C: in.C}, 0, nil
	case LayerLSTM, LayerGRU:
		if in.T == 0 {
			return in, 0, errShape(s, in, "needs a sequence")
		}
		g := 4
		nb := 4 * s.Units
		if s.Type == LayerGRU {
			g, nb = 3, 6*s.Units
		}
		np := g*s.Units*(in.C+s.Units) + nb
		if s.ReturnSequences {
			return shape{T: in.T, C: s.Units}, np, nil
		}
		return shape{C: s.Units}, np, nil
	case LayerBatchNorm:
		return in, 2 * in.C, nil
	case LayerFlatten:
		return shape{C: in.size()}, 0, nil
	}
	return in, 0, nil
}

// newLayer builds one layer.
func newLayer(nt *net, s LayerSpec, in shape, needDx bool) (layer, error) {
	switch s.Type {
	case LayerDense:
		return newDense(nt, s, in, needDx), nil
	case LayerConv1D:
		return newConv1D(nt, s, in, needDx)
	case LayerMaxPool1D:
		return newMaxPool1D(nt, s, in, needDx)
	case LayerLSTM:
		return newLSTM(nt, s, in, needDx), nil
	case LayerGRU:
		return newGRU(nt, s, in, needDx), nil
	case LayerBatchNorm:
		return newBatchNorm(nt, s, in, needDx), nil
	case LayerDropout:
		return newDropout(nt, s, in, needDx), nil
	case LayerFlatten:
		return newFlatten(nt, s, in, needDx), nil
	case LayerReLU, LayerSigmoid, LayerTanh:
		return newAct(nt, s, in, needDx), nil
	}
	return nil, fmt.Errorf("%w: unknown layer type %q", ErrConfig, s.Type)
}

// buildNetwork allocates a network for arch with parameters initialised from seed.
func buildNetwork(b kernels.Backend, a Arch, seed uint64) (*network, error) {
	if _, err := checkArch(a); err != nil {
		return nil, err
	}
	nw := &network{nt: newNet(b, seed), arch: a}
	rest := a.Layers
	if a.SeqLen > 0 {
		in := shape{T: a.SeqLen, C: a.SeqChannels}
		i := 0
		for ; i < len(a.Layers) && in.T != 0 && a.Layers[i].Type != LayerDense; i++ {
			l, err := newLayer(nw.nt, a.Layers[i], in, hasParams(nw.seq))
			if err != nil {
				nw.close()
				return nil, err
			}
			nw.seq = append(nw.seq, l)
			in = l.out()
		}
		rest = a.Layers[i:]
		nw.seqOut = shape{C: in.size()}
	}
	if a.Tab > 0 {
		in := shape{C: a.Tab}
		for _, s := range a.TabLayers {
			l, err := newLayer(nw.nt, s, in, hasParams(nw.tab))
			if err != nil {
				nw.close()
				return nil, err
			}
			nw.tab = append(nw.tab, l)
			in = l.out()
		}
		nw.tabOut = in.C
	}
	nw.merged = nw.seqOut.C + nw.tabOut
	in := shape{C: nw.merged}
	needDx := hasParams(nw.seq) || hasParams(nw.tab)
	for _, s := range append(append([]LayerSpec(nil), rest...), LayerSpec{Type: LayerDense, Units: a.Classes}) {
		l, err := newLayer(nw.nt, s, in, needDx)
		if err != nil {
			nw.close()
			return nil, err
		}
		nw.head = append(nw.head, l)
		in = l.out()
		needDx = true
	}
	return nw, nil
}

// hasParams reports whether any of ls has parameters (then the layer after them must pass
// gradients down).
func hasParams(ls []layer) bool {
	for _, l := range ls {
		if len(l.params()) > 0 {
			return true
		}
	}
	return false
}

func (nw *network) close() { nw.nt.close() }

// layers returns every layer in a fixed order (seq, tab, head).
func (nw *network) layers() []layer {
	out := append([]layer(nil), nw.seq...)
	out = append(out, nw.tab...)
	return append(out, nw.head...)
}

// params returns every trainable tensor in a fixed order.
func (nw *network) params() []*param {
	var ps []*param
	for _, l := range nw.layers() {
		ps = append(ps, l.params()...)
	}
	return ps
}

// states returns the non-trained tensors saved with the model (batch-norm running statistics).
func (nw *network) states() []kernels.Buffer {
	var out []kernels.Buffer
	for _, l := range nw.layers() {
		if bn, ok := l.(*batchnorm); ok {
			out = append(out, bn.state()...)
		}
	}
	return out
}

// reserve makes room for batches of n examples.
func (nw *network) reserve(n int) {
	if n <= nw.maxN {
		return
	}
	if nw.maxN > 0 {
		// one set of workspaces at a time: drop the smaller one
		nw.nt.freeWork()
		for _, l := range nw.layers() {
			l.resetWork()
		}
	}
	nw.maxN = n
	nt := nw.nt
	if nw.arch.SeqLen > 0 {
		nw.xSeq = nt.alloc(n * nw.arch.SeqLen * nw.arch.SeqChannels)
	}
	if nw.arch.Tab > 0 {
		nw.xTab = nt.alloc(n * nw.arch.Tab)
	}
	if nw.seqOut.C > 0 && nw.tabOut > 0 {
		nw.cat, nw.dcat = nt.alloc(n*nw.merged), nt.alloc(n*nw.merged)
	}
	k := nw.arch.Classes
	nw.logits, nw.probs, nw.dlogits = nt.alloc(n*k), nt.alloc(n*k), nt.alloc(n*k)
	nw.labels, nw.weights = nt.alloc(n), nt.alloc(n)
	for _, l := range nw.layers() {
		l.reserve(n)
	}
	nt.onesVec(n)
}

// forward runs n examples already uploaded to xSeq/xTab and returns the logits.
func (nw *network) forward(n int, train bool) kernels.Buffer {
	b := nw.nt.b
	var vs, vt kernels.Buffer
	if nw.arch.SeqLen > 0 {
		vs = nw.xSeq
		for _, l := range nw.seq {
			vs = l.forward(vs, n, train)
		}
	}
	if nw.arch.Tab > 0 {
		vt = nw.xTab
		for _, l := range nw.tab {
			vt = l.forward(vt, n, train)
		}
	}
	h := vs
	switch {
	case vs == nil:
		h = vt
	case vt != nil:
		// concatenate [seq | tab] row by row
		s, t, m := nw.seqOut.C, nw.tabOut, nw.merged
		b.Copy2D(n, s, vs, s, nw.cat, m)
		b.Copy2D(n, t, vt, t, nw.nt.view(nw.cat, s, stridedLen(n, t, m)), m)
		h = nw.cat
	}
	for _, l := range nw.head {
		h = l.forward(h, n, train)
	}
	return h
}

// backward propagates dlogits through every layer, accumulating parameter gradients.
func (nw *network) backward(n int) {
	b := nw.nt.b
	d := nw.dlogits
	for i := len(nw.head) - 1; i >= 0; i-- {
		d = nw.head[i].backward(d, n)
	}
	if d == nil {
		return
	}
	ds, dt := d, d
	if nw.seqOut.C > 0 && nw.tabOut > 0 {
		s, t, m := nw.seqOut.C, nw.tabOut, nw.merged
		ds, dt = nw.dcat, nw.nt.view(nw.dcat, n*s, n*t)
		b.Copy2D(n, s, d, m, ds, s)
		b.Copy2D(n, t, nw.nt.view(d, s, stridedLen(n, t, m)), m, dt, t)
	}
	if nw.seqOut.C > 0 {
		for i := len(nw.seq) - 1; i >= 0 && ds != nil; i-- {
			ds = nw.seq[i].backward(ds, n)
		}
	}
	if nw.tabOut > 0 {
		for i := len(nw.tab) - 1; i >= 0 && dt != nil; i-- {
			dt = nw.tab[i].backward(dt, n)
		}
	}
}

// Summary describes the fitted architecture, one line per layer with its branch, input and
// output shapes and parameter count, for logs and reports.
func (m *Model) Summary() string {
	if m.nw == nil {
		return m.kind + ": not fitted"
	}
	var sb strings.Builder
	total := 0
	for _, p := range m.nw.params() {
		total += p.size()
	}
	fmt.Fprintf(&sb, "%s: seq %d×%d, tab %d → %d classes, %d parameters\n", m.kind, m.arch.SeqLen,
		m.arch.SeqChannels, m.arch.Tab, m.arch.Classes, total)
	line := func(branch string, l layer) {
		n := 0
		for _, p := range l.params() {
			n += p.size()
		}
		s := l.spec()
		name := s.Type
		if s.Activation != "" && s.Activation != "none" {
			name += " " + s.Activation
		}
		fmt.Fprintf(&sb, "  %-4s %-16s %-10v → %-10v %d\n", branch, name, l.in(), l.out(), n)
	}
	for _, l := range m.nw.seq {
		line("seq", l)
	}
	for _, l := range m.nw.tab {
		line("tab", l)
	}
	for _, l := range m.nw.head {
		line("head", l)
	}
	return sb.String()
}
