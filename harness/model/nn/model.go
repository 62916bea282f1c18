package nn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"time"

	"github.com/etchlab/etch/harness/model"
	"github.com/etchlab/etch/kernels"
	"github.com/etchlab/etch/kernels/cpu"
)

// Adam's constants (the usual defaults).
const (
	adamBeta1 = 0.9
	adamBeta2 = 0.999
	adamEps   = 1e-7
)

// ErrNotFitted reports a prediction or save before Fit or Load.
var ErrNotFitted = errors.New("nn model is not fitted")

// Scaler standardises features: x' = (x − Mean)·Inv, one entry per tabular feature or per
// sequence channel.
type Scaler struct {
	Mean []float32 `json:"mean"`
	Inv  []float32 `json:"inv"`
}

// fitScaler computes per-column mean and inverse standard deviation of rows×cols values in
// x (float64 accumulation).
func fitScaler(x []float32, cols int) Scaler {
	s := Scaler{Mean: make([]float32, cols), Inv: make([]float32, cols)}
	if cols == 0 || len(x) == 0 {
		for i := range s.Inv {
			s.Inv[i] = 1
		}
		return s
	}
	sum, sq := make([]float64, cols), make([]float64, cols)
	rows := len(x) / cols
	for r := range rows {
		for c, v := range x[r*cols : (r+1)*cols] {
			sum[c] += float64(v)
			sq[c] += float64(v) * float64(v)
		}
	}
	for c := range cols {
		m := sum[c] / float64(rows)
		v := sq[c]/float64(rows) - m*m
		s.Mean[c] = float32(m)
		s.Inv[c] = 1
		if sd := math.Sqrt(max(v, 0)); sd > 1e-6 && !math.IsNaN(sd) {
			s.Inv[c] = float32(1 / sd)
		}
	}
	return s
}

// apply scales x in place (rows of len(Mean) values).
func (s Scaler) apply(x []float32) {
	cols := len(s.Mean)
	if cols == 0 {
		return
	}
	for i := range x {
		c := i % cols
		x[i] = (x[i] - s.Mean[c]) * s.Inv[c]
	}
}

// Model is a neural classifier of one architecture; it implements model.Model, model.Saver and
// model.Historian.
type Model struct {
	kind     string
	p        Params
	arch     Arch
	useSeq   bool
	useTab   bool
	seqScale Scaler
	tabScale Scaler
	classes  []string
	channels []string
	tabNames []string

	b        kernels.Backend
	ownsB    bool
	nw       *network
	hist     []model.Epoch
	seed     uint64
	log      *slog.Logger
	progress func(done, total int, unit string)
	natural  string
	fitTime  time.Duration
}

// New builds an untrained model of type kind ("nn" or a preset) with parameters p. Env.Backend
// must be a kernels.Backend or nil; nil opens the CPU backend with Env.Threads (or p.Threads)
// threads.
func New(kind string, p Params, env model.Env) (*Model, error) {
	p = p.withDefaults()
	if err := p.validate(); err != nil {
		return nil, err
	}
	layers, natural, err := resolveLayers(kind, p)
	if err != nil {
		return nil, err
	}
	for i, s := range layers {
		if err := s.check(fmt.Sprintf("layer %d", i+1)); err != nil {
			return nil, err
		}
	}
	for i, s := range p.TabLayers {
		if err := s.check(fmt.Sprintf("tab layer %d", i+1)); err != nil {
			return nil, err
		}
	}
	m := &Model{kind: kind, p: p, natural: natural, seed: env.Seed, log: env.Log, progress: env.Progress}
	m.arch.Layers, m.arch.TabLayers = layers, p.TabLayers
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if err := m.setBackend(env.Backend, env.Threads); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Model) setBackend(be any, threads int) error {
	if be != nil {
		b, ok := be.(kernels.Backend)
		if !ok {
			return fmt.Errorf("nn: Env.Backend is %T, want kernels.Backend", be)
		}
		m.b = b
		return nil
	}
	if m.p.Threads > 0 {
		threads = m.p.Threads
	}
	m.b = cpu.New(kernels.Options{Threads: threads, Log: m.log})
	m.ownsB = true
	return nil
}

// Kind returns the model type ("nn" or a preset name).
func (m *Model) Kind() string { return m.kind }

// Classes returns the number of classes (after Fit or Load).
func (m *Model) Classes() int { return m.arch.Classes }

// History returns the training curve of the last Fit.
func (m *Model) History() []model.Epoch { return m.hist }

// FitTime returns how long the last Fit took.
func (m *Model) FitTime() time.Duration { return m.fitTime }

// Inputs reports which inputs the fitted model reads: the sequence channels, the tabular
// features, or both. The ONNX export takes exactly these (tabular first), so a caller running it
// through onnx.Params{Layout: "flat"} must drop the inputs the model does not read.
func (m *Model) Inputs() (seq, tab bool) { return m.useSeq, m.useTab }

// Architecture returns the built architecture (after Fit or Load).
func (m *Model) Architecture() Arch { return m.arch }

// Close releases the model's device buffers (and its backend, when it opened one).
func (m *Model) Close() error {
	if m.nw != nil {
		m.nw.close()
		m.nw = nil
	}
	return nil
}

// chooseInputs decides which inputs the model reads from data d.
func (m *Model) chooseInputs(d *model.Data) error {
	hasSeq, hasTab := d.SeqDim() > 0, d.TabDim() > 0
	mode := m.p.Inputs
	if mode == "auto" {
		mode = m.natural
		if mode == "both" {
			switch {
			case hasSeq && hasTab:
			case hasSeq:
				mode = "seq"
			case hasTab:
				mode = "tab"
			}
		}
	}
	m.useSeq = mode == "seq" || mode == "both"
	m.useTab = mode == "tab" || mode == "both"
	if m.useSeq && !hasSeq {
		return fmt.Errorf("%w: %s reads sequence channels, the data has none", model.ErrShape, m.kind)
	}
	if m.useTab && !hasTab {
		return fmt.Errorf("%w: %s reads tabular features, the data has none", model.ErrShape, m.kind)
	}
	return nil
}

// Fit trains the model on train. val, when nil, is a stratified, seeded split of train of
// fraction Params.Val (none when Val is 0; then no early stopping).
func (m *Model) Fit(ctx context.Context, train, val *model.Data) error {
	start := time.Now()
	if err := train.Validate(); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if train.Y == nil || train.N == 0 {
		return fmt.Errorf("%w: training data without labels", model.ErrShape)
	}
	if train.Classes < 2 {
		return fmt.Errorf("%w: %d classes", model.ErrShape, train.Classes)
	}
	if w := train.Weights; w != nil {
		if len(w) != train.Classes {
			return fmt.Errorf("%w: %d class weights for %d classes", model.ErrShape, len(w), train.Classes)
		}
		for i, v := range w {
			if !(v >= 0) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("%w: class weight %d is %v", model.ErrShape, i, v)
			}
		}
	}
	if err := m.chooseInputs(train); err != nil {
		return err
	}
	if val == nil && *m.p.Val > 0 && train.N >= 10 {
		tr, va := stratifiedSplit(train, *m.p.Val, m.seed^0x9e3779b97f4a7c15)
		train, val = train.Slice(tr), train.Slice(va)
	}
	if val != nil {
		if err := val.Validate(); err != nil {
			return fmt.Errorf("val: %w", err)
		}
		if val.SeqDim() != train.SeqDim() || val.TabDim() != train.TabDim() || val.Y == nil {
			return fmt.Errorf("%w: validation data differs from training data", model.ErrShape)
		}
	}
	m.arch.Classes, m.classes = train.Classes, train.ClassNames
	m.arch.SeqLen, m.arch.SeqChannels, m.arch.Tab = 0, 0, 0
	m.seqScale, m.tabScale = Scaler{}, Scaler{}
	if m.useSeq {
		m.arch.SeqLen, m.arch.SeqChannels, m.channels = train.SeqLen, len(train.SeqChannels), train.SeqChannels
		m.seqScale = identityScaler(m.arch.SeqChannels)
		if *m.p.Scale {
			m.seqScale = fitScaler(train.Seq, m.arch.SeqChannels)
		}
	}
	if m.useTab {
		m.arch.Tab, m.tabNames = train.TabDim(), train.TabNames
		m.tabScale = identityScaler(m.arch.Tab)
		if *m.p.Scale {
			m.tabScale = fitScaler(train.Tab, m.arch.Tab)
		}
	}
	if m.nw != nil {
		m.nw.close()
	}
	nw, err := buildNetwork(m.b, m.arch, m.seed)
	if err != nil {
		return err
	}
	m.nw = nw
	err = m.train(ctx, train, val)
	m.fitTime = time.Since(start)
	return err
}

func identityScaler(n int) Scaler {
	s := Scaler{Mean: make([]float32, n), Inv: make([]float32, n)}
	for i := range s.Inv {
		s.Inv[i] = 1
	}
	return s
}

// stratifiedSplit returns train and validation indices: a fraction frac of every class (at
// least one example of classes with two or more) goes to validation.
func stratifiedSplit(d *model.Data, frac float64, seed uint64) (tr, va []int) {
	rng := rand.New(rand.NewPCG(seed, 0x7e57))
	byClass := make([][]int, d.Classes)
	for i, y := range d.Y {
		byClass[y] = append(byClass[y], i)
	}
	for _, idx := range byClass {
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		k := int(math.Round(frac * float64(len(idx))))
		if k == 0 && len(idx) >= 2 && frac > 0 {
			k = 1
		}
		va = append(va, idx[:k]...)
		tr = append(tr, idx[k:]...)
	}
	return tr, va
}

// batcher gathers, scales and uploads batches of examples.
type batcher struct {
	m        *Model
	seq, tab []float32
	lab, w   []float32
}

func (m *Model) newBatcher(n int) *batcher {
	return &batcher{m: m, seq: make([]float32, n*m.arch.SeqLen*m.arch.SeqChannels),
		tab: make([]float32, n*m.arch.Tab), lab: make([]float32, n), w: make([]float32, n)}
}

// load uploads examples idx of d (or rows [lo, lo+len) when idx is nil) and, with labels,
// their labels and class weights; it returns the batch size.
func (bt *batcher) load(d *model.Data, idx []int, lo, n int, labels bool) {
	m, nw, b := bt.m, bt.m.nw, bt.m.b
	row := func(i int) int {
		if idx != nil {
			return idx[i]
		}
		return lo + i
	}
	if m.useSeq {
		sd := d.SeqDim()
		for i := range n {
			j := row(i)
			copy(bt.seq[i*sd:(i+1)*sd], d.Seq[j*sd:(j+1)*sd])
		}
		m.seqScale.apply(bt.seq[:n*sd])
		b.Upload(nw.xSeq, bt.seq[:n*sd])
	}
	if m.useTab {
		td := d.TabDim()
		for i := range n {
			j := row(i)
			copy(bt.tab[i*td:(i+1)*td], d.Tab[j*td:(j+1)*td])
		}
		m.tabScale.apply(bt.tab[:n*td])
		b.Upload(nw.xTab, bt.tab[:n*td])
	}
	if labels {
		for i := range n {
			y := d.Y[row(i)]
			bt.lab[i] = float32(y)
			bt.w[i] = 1
			if d.Weights != nil {
				bt.w[i] = d.Weights[y]
			}
		}
		b.Upload(nw.labels, bt.lab[:n])
		b.Upload(nw.weights, bt.w[:n])
	}
}

func (m *Model) train(ctx context.Context, train, val *model.Data) error {
	nw, b, p := m.nw, m.b, m.p
	bs := min(p.Batch, train.N)
	nw.reserve(p.Batch)
	bt := m.newBatcher(nw.maxN)
	params := nw.params()
	var best []kernels.Buffer
	states := nw.states()
	if val != nil && p.Patience > 0 {
		for _, q := range params {
			best = append(best, nw.nt.keepAlloc(q.size()))
		}
		for _, s := range states {
			best = append(best, nw.nt.keepAlloc(s.Len()))
		}
	}
	snapshot := func(restore bool) {
		i := 0
		for _, q := range params {
			if restore {
				b.Copy(q.w, best[i])
			} else {
				b.Copy(best[i], q.w)
			}
			i++
		}
		for _, s := range states {
			if restore {
				b.Copy(s, best[i])
			} else {
				b.Copy(best[i], s)
			}
			i++
		}
	}
	adam, _ := b.(kernels.AdamStepper)
	if adam == nil {
		m.log.Info("nn: backend has no fused Adam step; updating on the host", "backend", b.Name())
		adam = &hostAdam{b: b}
	}
	rng := rand.New(rand.NewPCG(m.seed, 0x5eed))
	perm := make([]int, train.N)
	for i := range perm {
		perm[i] = i
	}
	m.hist = m.hist[:0]
	bestLoss, bad, bestEpoch := math.Inf(1), 0, 0
	step := 0
	for epoch := 1; epoch <= p.Epochs; epoch++ {
		rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		var sum float64
		for lo := 0; lo < train.N; lo += bs {
			if err := ctx.Err(); err != nil {
				return err
			}
			n := min(bs, train.N-lo)
			bt.load(train, perm[lo:lo+n], 0, n, true)
			logits := nw.forward(n, true)
			loss := b.SoftmaxXent(logits, n, nw.arch.Classes, nw.labels, nw.weights, nw.probs, nw.dlogits)
			sum += float64(loss) * float64(n)
			for _, q := range params {
				b.Fill(q.g, 0)
			}
			nw.backward(n)
			step++
			for _, q := range params {
				wd := float32(0)
				if q.decay {
					wd = float32(p.WeightDecay)
				}
				adam.AdamStep(q.size(), q.w, q.g, q.m, q.v, float32(p.LR), adamBeta1, adamBeta2, adamEps, wd, step)
			}
		}
		if err := b.Sync(); err != nil {
			return fmt.Errorf("nn: epoch %d: %w", epoch, err)
		}
		e := model.Epoch{Epoch: epoch, TrainLoss: sum / float64(train.N)}
		if math.IsNaN(e.TrainLoss) || math.IsInf(e.TrainLoss, 0) {
			return fmt.Errorf("nn: training diverged at epoch %d (loss %v); lower lr", epoch, e.TrainLoss)
		}
		if val != nil {
			vl, va, err := m.evaluate(ctx, val, bt)
			if err != nil {
				return err
			}
			e.ValLoss, e.ValAccuracy = vl, va
		}
		m.hist = append(m.hist, e)
		m.log.Info("nn epoch", "model", m.kind, "epoch", epoch, "of", p.Epochs, "train_loss", e.TrainLoss,
			"val_loss", e.ValLoss, "val_accuracy", e.ValAccuracy)
		if m.progress != nil {
			m.progress(epoch, p.Epochs, "epoch")
		}
		if best == nil {
			continue
		}
		if e.ValLoss < bestLoss {
			bestLoss, bad, bestEpoch = e.ValLoss, 0, epoch
			snapshot(false)
		} else if bad++; bad >= p.Patience {
			m.log.Info("nn early stop", "model", m.kind, "epoch", epoch, "best_epoch", bestEpoch)
			break
		}
	}
	if best != nil && bestEpoch > 0 {
		snapshot(true)
	}
	return b.Sync()
}

// evaluate returns the weighted mean loss and the accuracy on d.
func (m *Model) evaluate(ctx context.Context, d *model.Data, bt *batcher) (float64, float64, error) {
	nw, b := m.nw, m.b
	k := nw.arch.Classes
	probs := make([]float32, nw.maxN*k)
	var loss float64
	correct := 0
	for lo := 0; lo < d.N; lo += nw.maxN {
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		n := min(nw.maxN, d.N-lo)
		bt.load(d, nil, lo, n, true)
		logits := nw.forward(n, false)
		loss += float64(b.SoftmaxXent(logits, n, k, nw.labels, nw.weights, nw.probs, nw.dlogits)) * float64(n)
		b.Download(probs[:n*k], nw.nt.view(nw.probs, 0, n*k))
		for i := range n {
			if argmax(probs[i*k:(i+1)*k]) == int(d.Y[lo+i]) {
				correct++
			}
		}
	}
	return loss / float64(d.N), float64(correct) / float64(d.N), nil
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// Inference batches: as large as inferMax examples while the workspaces stay under
// inferBudget float32 values (larger batches mean fewer, bigger GEMMs and kernel calls).
const (
	inferMax    = 1024
	inferBudget = 64 << 20
)

// inferBatch returns the batch size for inference: the training batch, or larger where the
// workspaces of one example are small enough.
func (m *Model) inferBatch() int {
	nw := m.nw
	nw.reserve(m.p.Batch)
	per := nw.nt.workFloats / max(1, nw.maxN)
	return max(nw.maxN, min(inferMax, inferBudget/max(1, per)))
}

// checkInputs verifies that x has the inputs the model was trained on.
func (m *Model) checkInputs(x *model.Data) error {
	if err := x.Validate(); err != nil {
		return err
	}
	if m.useSeq && (x.SeqLen != m.arch.SeqLen || len(x.SeqChannels) != m.arch.SeqChannels) {
		return fmt.Errorf("%w: sequence input %d×%d, model wants %d×%d", model.ErrShape, x.SeqLen, len(x.SeqChannels), m.arch.SeqLen, m.arch.SeqChannels)
	}
	if m.useTab && x.TabDim() != m.arch.Tab {
		return fmt.Errorf("%w: %d tabular features, model wants %d", model.ErrShape, x.TabDim(), m.arch.Tab)
	}
	return nil
}

// PredictProba writes class probabilities for x (x.N × Classes) into dst.
func (m *Model) PredictProba(ctx context.Context, x *model.Data, dst []float32) error {
	if m.nw == nil {
		return ErrNotFitted
	}
	if err := m.checkInputs(x); err != nil {
		return err
	}
	k := m.arch.Classes
	if len(dst) < x.N*k {
		return fmt.Errorf("%w: dst holds %d values, need %d×%d", model.ErrShape, len(dst), x.N, k)
	}
	nw, b := m.nw, m.b
	nw.reserve(m.inferBatch())
	bt := m.newBatcher(nw.maxN)
	for lo := 0; lo < x.N; lo += nw.maxN {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(nw.maxN, x.N-lo)
		bt.load(x, nil, lo, n, false)
		logits := nw.forward(n, false)
		b.Softmax(logits, n, k, nw.probs)
		b.Download(dst[lo*k:(lo+n)*k], nw.nt.view(nw.probs, 0, n*k))
	}
	return b.Sync()
}
