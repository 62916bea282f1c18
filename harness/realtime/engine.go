package realtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/etchlab/etch/data"
	"github.com/etchlab/etch/data/flow"
	"github.com/etchlab/etch/harness/model"
	"github.com/gopacket/gopacket/layers"
)

// ErrNoPacket is returned by a live Source whose read timed out without a packet: the engine
// then advances the flow table's clock to the wall clock, so idle flows still end.
var ErrNoPacket = errors.New("no packet yet")

// Source yields captured frames in capture order, like flow.Reader (which is one). Next returns
// io.EOF at the end, ErrNoPacket when a live source has nothing yet.
type Source interface {
	Next() (frame []byte, tsUS int64, link layers.LinkType, err error)
}

// Dropper is a Source that counts packets it lost (the kernel's drops of a live socket).
type Dropper interface {
	Drops() uint64
}

// Options configure an Engine.
type Options struct {
	// Flow configures the flow table (timeouts, caps, privacy, labels) as for etch extract; its
	// SeqLen is raised to K when shorter, and Early is the engine's.
	Flow flow.Config
	// Packets overrides K, the packets after which a flow is classified (0: the model's sequence
	// length; a model of statistics alone then decides when flows end). Negative: at flow end.
	Packets int
	// Batch is the largest micro-batch (default 128); MaxWait the longest a decision waits for
	// its batch to fill while the model is idle (default 500 µs); Queue how many full batches may wait for the model
	// (default 4; the reader blocks beyond it).
	Batch   int
	MaxWait time.Duration
	Queue   int
	// Log receives warnings (nil: slog.Default()).
	Log *slog.Logger
}

// Score is one class and its probability.
type Score struct {
	Label string  `json:"label"`
	P     float32 `json:"p"`
}

// Decision is one classified flow. Addresses follow the privacy options (empty unless kept or
// pseudonymised); SNI and JA4 are those seen by the time of the decision.
type Decision struct {
	// TimeUS is the capture time of the packet that completed the features.
	TimeUS  int64  `json:"ts_us"`
	Proto   string `json:"proto"`
	SrcIP   string `json:"src_ip,omitempty"`
	SrcPort int32  `json:"src_port"`
	DstIP   string `json:"dst_ip,omitempty"`
	DstPort int32  `json:"dst_port"`
	SNI     string `json:"sni,omitempty"`
	JA4     string `json:"ja4,omitempty"`
	// Label is the predicted class, Probability its probability, Top3 the three most probable.
	Label       string  `json:"label"`
	Probability float32 `json:"probability"`
	Top3        []Score `json:"top3"`
	// Packets is how many packets of the flow the decision saw; Reason "early" (K reached) or
	// why the flow ended first (fin, rst, idle, active, evict, eof).
	Packets int64  `json:"packets"`
	Reason  string `json:"reason"`
	// LatencyUS is the wall-clock time from adding the completing packet to the decision.
	LatencyUS int64 `json:"latency_us"`
}

// Counters are the engine's running totals: packets read, Decoded (TCP/UDP) among them, flows
// started and Open now; Decisions made, and the flows queued for one at their K-th packet (Early)
// or at their end (AtEnd); flows evicted from a full table, packets the kernel dropped (live
// capture), and micro-batches run.
type Counters struct {
	Packets, Decoded, Flows, Open int64
	Decisions, Early, AtEnd       int64
	Evictions, Drops, Batches     int64
	// LatencyP50US and LatencyP99US are decision latency percentiles over all decisions so far.
	LatencyP50US, LatencyP99US int64
}

// Engine classifies the flows of a packet source. Run it once.
type Engine struct {
	c     *Classifier
	opts  Options
	k     int
	enc   *data.Encoder
	td    int
	sd    int
	out   func([]Decision) error
	log   *slog.Logger
	table *flow.Table

	mu   sync.Mutex
	cur  *batch
	full chan *batch
	free chan *batch

	outErr error // the first error of the inference goroutine, under mu

	packets, decoded, flows, open         atomic.Int64
	decisions, early, atEnd, evict, drops atomic.Int64
	batches                               atomic.Int64
	busy                                  atomic.Bool // the model is running a batch
	hist                                  latencyHist
}

// batch is a micro-batch of encoded rows and what each decision reports.
type batch struct {
	n     int
	first time.Time
	tab   []float32
	seq   []float32
	meta  []rowMeta
	proba []float32
	dec   []Decision
}

type rowMeta struct {
	added time.Time
	d     Decision
}

// New returns an engine that classifies with c and hands each batch of decisions to out (from
// one goroutine; the slice is reused after out returns).
func New(c *Classifier, opts Options, out func([]Decision) error) (*Engine, error) {
	if opts.Batch <= 0 {
		opts.Batch = 128
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = 500 * time.Microsecond
	}
	if opts.Queue <= 0 {
		opts.Queue = 4
	}
	e := &Engine{c: c, opts: opts, out: out, log: opts.Log}
	if e.log == nil {
		e.log = slog.Default()
	}
	pre := &c.Pre
	if c.Model.Classes() != len(pre.ClassNames) {
		return nil, fmt.Errorf("%w: model predicts %d classes, %d names", ErrModel, c.Model.Classes(), len(pre.ClassNames))
	}
	e.k = pre.Packets()
	if opts.Packets != 0 {
		e.k = max(opts.Packets, 0)
	}
	enc, err := data.NewEncoder(pre.TabNames, pre.SeqChannels, pre.SeqLen)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrModel, err)
	}
	e.enc, e.td, e.sd = enc, enc.TabDim(), enc.SeqDim()
	cfg := opts.Flow
	cfg.SeqLen = max(cfg.SeqLen, pre.SeqLen, e.k)
	if e.k > 0 {
		cfg.Early, cfg.EarlyPackets = e.earlyRecord, e.k
	} else {
		cfg.Early = nil
	}
	e.table = flow.NewTable(cfg, e.endRecord)
	nb := opts.Queue + 2
	e.full = make(chan *batch, opts.Queue)
	e.free = make(chan *batch, nb)
	k := len(pre.ClassNames)
	for range nb {
		e.free <- &batch{tab: make([]float32, opts.Batch*e.td), seq: make([]float32, opts.Batch*e.sd),
			meta: make([]rowMeta, opts.Batch), proba: make([]float32, opts.Batch*k), dec: make([]Decision, opts.Batch)}
	}
	return e, nil
}

// Packets returns K: the packets after which flows are classified (0: at flow end only).
func (e *Engine) Packets() int { return e.k }

// Counters returns the running totals; safe to call from any goroutine.
func (e *Engine) Counters() Counters {
	c := Counters{Packets: e.packets.Load(), Decoded: e.decoded.Load(), Flows: e.flows.Load(), Open: e.open.Load(),
		Decisions: e.decisions.Load(), Early: e.early.Load(), AtEnd: e.atEnd.Load(), Evictions: e.evict.Load(),
		Drops: e.drops.Load(), Batches: e.batches.Load()}
	c.LatencyP50US, c.LatencyP99US = e.hist.quantile(0.5), e.hist.quantile(0.99)
	return c
}

func (e *Engine) earlyRecord(r *data.Record) error {
	e.early.Add(1)
	return e.enqueue(r)
}

func (e *Engine) endRecord(r *data.Record) error {
	if r.EndReason == flow.EndEvict {
		e.evict.Add(1)
	}
	if e.k > 0 && r.PktsFwd+r.PktsBwd >= int64(e.k) {
		return nil // decided when it reached K
	}
	e.atEnd.Add(1)
	return e.enqueue(r)
}

// enqueue encodes r into the current batch, handing the batch to the model when full. Only the
// reading goroutine calls it and only it makes e.cur non-nil; the inference goroutine may take
// e.cur (under e.mu) once it has waited MaxWait, so rows are written under e.mu.
func (e *Engine) enqueue(r *data.Record) error {
	if err := e.err(); err != nil {
		return err
	}
	e.mu.Lock()
	if e.cur == nil {
		e.mu.Unlock()
		b := <-e.free // may wait for the model: the bound on memory
		b.n = 0
		e.mu.Lock()
		e.cur = b
	}
	b := e.cur
	i := b.n
	e.enc.Encode(r, b.tab[i*e.td:(i+1)*e.td], b.seq[i*e.sd:(i+1)*e.sd])
	m := &b.meta[i]
	m.added = time.Now()
	m.d = Decision{TimeUS: r.EndUS, Proto: r.Proto, SrcIP: r.SrcIP, SrcPort: r.SrcPort, DstIP: r.DstIP,
		DstPort: r.DstPort, SNI: r.SNI, JA4: r.JA4, Packets: r.PktsFwd + r.PktsBwd, Reason: r.EndReason}
	if i == 0 {
		b.first = m.added
	}
	b.n++
	full := b.n == e.opts.Batch
	if full {
		e.cur = nil
	}
	e.mu.Unlock()
	if full {
		e.full <- b
		runtime.Gosched()
	}
	return nil
}

// Run reads src to its end (or until ctx is cancelled), classifying flows as they reach K
// packets or end; at the end every open flow is flushed and classified, and every decision is
// handed to out before Run returns. A truncated capture ends the input with a warning.
func (e *Engine) Run(ctx context.Context, src Source) error {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		e.infer(context.WithoutCancel(ctx))
	}()
	err := e.read(ctx, src)
	if ferr := e.table.Flush(); err == nil || errors.Is(err, context.Canceled) {
		if ferr != nil {
			err = ferr
		}
	}
	e.publish(src)
	e.mu.Lock()
	b := e.cur
	e.cur = nil
	e.mu.Unlock()
	if b != nil {
		e.full <- b
	}
	close(e.full)
	wg.Wait()
	if oerr := e.err(); oerr != nil && (err == nil || errors.Is(err, flow.ErrEmit)) {
		err = oerr
	}
	return err
}

func (e *Engine) publish(src Source) {
	e.flows.Store(e.table.Flows)
	e.open.Store(int64(e.table.Len()))
	if d, ok := src.(Dropper); ok {
		e.drops.Store(int64(d.Drops()))
	}
}

func (e *Engine) read(ctx context.Context, src Source) error {
	dec := flow.NewDecoder()
	var p flow.Packet
	var pk, dk int64
	for n := 0; ; n++ {
		if n&1023 == 0 {
			e.packets.Add(pk)
			e.decoded.Add(dk)
			pk, dk = 0, 0
			e.publish(src)
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if n&63 == 0 {
			e.flushExpired()
		}
		frame, ts, link, err := src.Next()
		if err != nil && ctx.Err() != nil {
			err = ctx.Err() // the source was closed to stop a blocked read
		}
		if err != nil {
			switch {
			case errors.Is(err, ErrNoPacket):
				n = -1 // publish and check ctx on the next turn
				if err := e.table.Advance(time.Now().UnixMicro()); err != nil {
					return err
				}
				continue
			case errors.Is(err, io.EOF):
				err = nil
			case errors.Is(err, flow.ErrTruncated):
				e.log.Warn("capture truncated; classifying the flows read so far", "err", err)
				err = nil
			}
			e.packets.Add(pk)
			e.decoded.Add(dk)
			return err
		}
		pk++
		if !dec.Decode(link, frame, &p) {
			continue
		}
		dk++
		if err := e.table.AddUS(ts, &p); err != nil {
			return err
		}
	}
}

// flushExpired hands the current batch to the model once it has waited MaxWait and the model
// is idle. The reading goroutine checks this every 64 packets, so the bound holds even when it
// keeps the only processor busy (the inference goroutine's timer covers a source that has gone
// quiet). It then yields, so that on a single processor the model runs at once. While the model
// is busy the batch keeps growing (its rows would wait for the model anyway), so batches are small
// and latency low at low rates and batches grow towards Batch under load.
func (e *Engine) flushExpired() {
	if e.busy.Load() || len(e.full) > 0 {
		return
	}
	if b := e.takeExpired(); b != nil {
		e.full <- b
		runtime.Gosched()
	}
}

// takeExpired takes the current batch when it has waited MaxWait.
func (e *Engine) takeExpired() *batch {
	e.mu.Lock()
	defer e.mu.Unlock()
	b := e.cur
	if b == nil || time.Since(b.first) < e.opts.MaxWait {
		return nil
	}
	e.cur = nil
	return b
}

// infer runs the model on full batches, and on the current batch once it has waited MaxWait
// (checked on a timer and after every batch, so rows that waited behind a busy model go next).
func (e *Engine) infer(ctx context.Context) {
	tick := time.NewTicker(max(e.opts.MaxWait/2, 100*time.Microsecond))
	defer tick.Stop()
	run := func(b *batch) {
		e.busy.Store(true)
		e.process(ctx, b)
		e.busy.Store(false)
	}
	for {
		select {
		case b, ok := <-e.full:
			if !ok {
				return
			}
			run(b)
		case <-tick.C:
		}
		if len(e.full) > 0 {
			continue // older full batches first: decisions leave in the order they were made
		}
		if b := e.takeExpired(); b != nil {
			run(b)
		}
	}
}

// process classifies a batch and hands its decisions to out.
func (e *Engine) process(ctx context.Context, b *batch) {
	defer func() { e.free <- b }()
	if e.err() != nil || b.n == 0 {
		return
	}
	pre := &e.c.Pre
	n, k := b.n, len(pre.ClassNames)
	x := &model.Data{N: n, Tab: b.tab[:n*e.td], TabNames: pre.TabNames, Seq: b.seq[:n*e.sd], SeqLen: pre.SeqLen,
		SeqChannels: pre.SeqChannels, Classes: k, ClassNames: pre.ClassNames}
	if len(pre.SeqChannels) == 0 {
		x.SeqLen = 0
	}
	if pre.Scaler != nil {
		if err := pre.Scaler.Apply(x.TabNames, x.Tab, x.SeqChannels, x.Seq); err != nil {
			e.fail(err)
			return
		}
	}
	proba := b.proba[:n*k]
	if err := e.c.Model.PredictProba(ctx, x, proba); err != nil {
		e.fail(fmt.Errorf("predict: %w", err))
		return
	}
	now := time.Now()
	out := b.dec[:n]
	for i := range n {
		top := out[i].Top3[:0]
		out[i] = b.meta[i].d
		out[i].Top3 = top
		top3(proba[i*k:(i+1)*k], pre.ClassNames, &out[i])
		out[i].LatencyUS = now.Sub(b.meta[i].added).Microseconds()
		e.hist.add(out[i].LatencyUS)
	}
	e.decisions.Add(int64(n))
	e.batches.Add(1)
	if err := e.out(out); err != nil {
		e.fail(fmt.Errorf("write decisions: %w", err))
	}
}

func (e *Engine) fail(err error) {
	e.mu.Lock()
	if e.outErr == nil {
		e.outErr = err
	}
	e.mu.Unlock()
}

func (e *Engine) err() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.outErr
}

// top3 sets the label, its probability and the three most probable classes (ties: lower class
// index first, as argmax in the batch path).
func top3(p []float32, names []string, d *Decision) {
	idx := [3]int{-1, -1, -1}
	for c := range p {
		for j := range idx {
			if idx[j] < 0 || p[c] > p[idx[j]] {
				copy(idx[j+1:], idx[j:len(idx)-1])
				idx[j] = c
				break
			}
		}
	}
	d.Top3 = d.Top3[:0]
	for _, c := range idx {
		if c >= 0 {
			d.Top3 = append(d.Top3, Score{Label: names[c], P: p[c]})
		}
	}
	d.Label, d.Probability = d.Top3[0].Label, d.Top3[0].P
}

// latencyHist counts decision latencies in 1 µs buckets up to 100 ms.
type latencyHist struct {
	mu sync.Mutex
	b  []int64
	n  int64
}

const histMax = 100_000

func (h *latencyHist) add(us int64) {
	h.mu.Lock()
	if h.b == nil {
		h.b = make([]int64, histMax+1)
	}
	h.b[min(max(us, 0), histMax)]++
	h.n++
	h.mu.Unlock()
}

func (h *latencyHist) quantile(q float64) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n == 0 {
		return 0
	}
	want := int64(q*float64(h.n-1)) + 1
	var s int64
	for i, c := range h.b {
		s += c
		if s >= want {
			return int64(i)
		}
	}
	return histMax
}
