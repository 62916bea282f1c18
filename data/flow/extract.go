package flow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/etchlab/etch/data"
)

// Summary tells what an extraction read.
type Summary struct {
	// Inputs names each input (base name) and its SHA-256 (of the file as stored, compressed or not).
	Inputs []data.Input
	// Packets read from the captures; Decoded TCP/UDP packets among them; Flows emitted.
	Packets, Decoded, Flows int64
	// Truncated lists the inputs that ended inside a record (their flows up to there are kept).
	Truncated []string
	// DigestsCached counts the inputs whose SHA-256 came from Config.DigestCache.
	DigestsCached int
}

// Extract reads the capture files in order and emits a record per flow. Flows do not span
// inputs: the table is flushed at the end of each. The emitted record is reused after emit
// returns. A truncated input is warned about (file and offset) and its flows are kept; a damaged
// one fails with an error naming file and offset. Inputs are hashed (SHA-256) by a goroutine
// running beside the extraction, or their digests read from Config.DigestCache.
func Extract(ctx context.Context, inputs []string, cfg Config, emit func(*data.Record) error) (Summary, error) {
	if cfg.FirstPackets > 0 && cfg.Early != nil {
		return Summary{}, fmt.Errorf("extract: Config.FirstPackets and Config.Early cannot be combined")
	}
	cfg = cfg.Defaults()
	var sum Summary
	// One goroutine hashes the inputs in order beside the extraction (a single one, so that a
	// long input list does not open every file at once).
	hashes := make([]hashResult, len(inputs))
	var cache *digestCache
	if cfg.DigestCache != "" {
		cache = &digestCache{dir: cfg.DigestCache, settle: digestSettle, now: time.Now}
	}
	hashed := make(chan struct{})
	go func() {
		defer close(hashed)
		for i, in := range inputs {
			if ctx.Err() != nil {
				hashes[i].err = ctx.Err()
				continue
			}
			hashes[i].sum, hashes[i].cached, hashes[i].err = cache.hashInput(in)
		}
	}()
	table := NewTable(cfg, func(r *data.Record) error {
		sum.Flows++
		return emit(r)
	})
	dec := NewDecoder()
	var err error
	for _, in := range inputs {
		if err = extractOne(ctx, in, table, dec, &sum, cfg); err != nil {
			break
		}
	}
	<-hashed
	for i, in := range inputs {
		hr := hashes[i]
		if err == nil && hr.err != nil {
			err = fmt.Errorf("hash %s: %w", in, hr.err)
		}
		sum.Inputs = append(sum.Inputs, data.Input{Name: filepath.Base(in), SHA256: hr.sum})
		if hr.cached {
			sum.DigestsCached++
		}
	}
	return sum, err
}

type hashResult struct {
	sum    string
	cached bool
	err    error
}

func extractOne(ctx context.Context, path string, table *Table, dec *Decoder, sum *Summary, cfg Config) error {
	r, err := Open(path)
	if err != nil {
		return err
	}
	defer r.Close()
	table.SetCapture(filepath.Base(path))
	var p Packet
	for n := 0; ; n++ {
		if n&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		frame, ts, link, err := r.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			if errors.Is(err, ErrTruncated) {
				var ce *CaptureError
				off := r.Offset()
				if errors.As(err, &ce) {
					off = ce.Offset
				}
				cfg.Log.Warn("capture truncated; keeping the flows read so far", "file", path, "offset", off, "packets", r.Packets())
				sum.Truncated = append(sum.Truncated, path)
				break
			}
			return err
		}
		sum.Packets++
		if !dec.Decode(link, frame, &p) {
			continue
		}
		sum.Decoded++
		if err := table.AddUS(ts, &p); err != nil {
			return err
		}
	}
	return table.Flush()
}

// Meta returns the footer metadata of an extraction with c from inputs.
func (c Config) Meta(inputs []data.Input) data.Meta {
	c = c.Defaults()
	m := data.Meta{
		Version:       c.Version,
		Source:        "extract",
		SeqLen:        c.SeqLen,
		IdleTimeout:   c.IdleTimeout.String(),
		ActiveTimeout: c.ActiveTimeout.String(),
		Privacy:       c.Privacy.Mode(),
		Inputs:        inputs,
		Params: map[string]string{
			"stats_cap":    strconv.Itoa(c.StatsCap),
			"close_linger": c.CloseLinger.String(),
			"max_flows":    strconv.Itoa(c.MaxFlows),
			"tls_packets":  strconv.Itoa(c.TLSPackets),
			"label_from":   c.Labeler.from(),
			"label_rules":  strconv.Itoa(c.Labeler.count()),
		},
	}
	if c.FirstPackets > 0 {
		m.Params["first_packets"] = strconv.Itoa(c.FirstPackets)
	}
	return m
}

// batchSize is how many records ExtractToFile hands the writer at once.
const batchSize = 1024

// ExtractToFile extracts inputs into out (.parquet, .jsonl or .csv by extension), written
// atomically (temporary file, renamed on success), with the footer metadata of Config.Meta.
func ExtractToFile(ctx context.Context, inputs []string, out string, cfg Config) (Summary, error) {
	cfg = cfg.Defaults()
	w, err := data.Create(out, cfg.Meta(nil))
	if err != nil {
		return Summary{}, err
	}
	b := NewAsyncBatcher(batchSize, cfg.SeqLen, w.Write)
	sum, err := Extract(ctx, inputs, cfg, b.Add)
	if cerr := b.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		w.Abort()
		return sum, err
	}
	w.SetMeta(cfg.Meta(sum.Inputs))
	return sum, w.Close()
}

// Batcher copies emitted records into a batch (sequence slices included) and hands full batches
// to write. Use its Add as a Table's emit function.
//
// A batcher from NewAsyncBatcher calls write on a goroutine of its own, one batch at a time and
// in order, while the caller fills a second batch: encoding overlaps extraction when another
// core is free. Its Close waits for the last write.
type Batcher struct {
	recs  []data.Record
	n     int
	write func([]data.Record) error

	// Asynchronous batchers only: full batches go to jobs, written ones come back on free.
	jobs   chan []data.Record
	free   chan []data.Record
	done   chan struct{}
	failed atomic.Bool
	err    error // the first write error; read after failed is set or done is closed
}

// NewBatcher returns a batcher of size records with sequences of length seqLen.
func NewBatcher(size, seqLen int, write func([]data.Record) error) *Batcher {
	return &Batcher{recs: newBatch(size, seqLen), write: write}
}

// NewAsyncBatcher returns a batcher that writes on its own goroutine; Close must be called.
func NewAsyncBatcher(size, seqLen int, write func([]data.Record) error) *Batcher {
	b := &Batcher{recs: newBatch(size, seqLen), write: write,
		jobs: make(chan []data.Record, 1), free: make(chan []data.Record, 1), done: make(chan struct{})}
	b.free <- newBatch(size, seqLen)
	go func() {
		defer close(b.done)
		for recs := range b.jobs {
			if !b.failed.Load() {
				if err := write(recs); err != nil {
					b.err = err
					b.failed.Store(true)
				}
			}
			b.free <- recs[:cap(recs)]
		}
	}()
	return b
}

func newBatch(size, seqLen int) []data.Record {
	recs := make([]data.Record, size)
	slab := make([]int32, 4*size*seqLen)
	for i := range recs {
		s := slab[4*i*seqLen:]
		recs[i].SeqSize = s[:seqLen:seqLen]
		recs[i].SeqPayload = s[seqLen : 2*seqLen : 2*seqLen]
		recs[i].SeqIATUS = s[2*seqLen : 3*seqLen : 3*seqLen]
		recs[i].SeqDir = s[3*seqLen : 4*seqLen : 4*seqLen]
	}
	return recs
}

// Add copies r into the batch, writing the batch when it is full.
func (b *Batcher) Add(r *data.Record) error {
	d := &b.recs[b.n]
	ss, sp, si, sd := d.SeqSize[:0], d.SeqPayload[:0], d.SeqIATUS[:0], d.SeqDir[:0]
	*d = *r
	d.SeqSize = append(ss, r.SeqSize...)
	d.SeqPayload = append(sp, r.SeqPayload...)
	d.SeqIATUS = append(si, r.SeqIATUS...)
	d.SeqDir = append(sd, r.SeqDir...)
	d.Extra = nil
	b.n++
	if b.n == len(b.recs) {
		return b.Flush()
	}
	return nil
}

// Flush writes the records batched so far (an asynchronous batcher hands them to its
// goroutine and returns the error of an earlier write, if one failed).
func (b *Batcher) Flush() error {
	if b.jobs == nil {
		if b.n == 0 {
			return nil
		}
		err := b.write(b.recs[:b.n])
		b.n = 0
		return err
	}
	if b.failed.Load() {
		return b.err
	}
	if b.n > 0 {
		b.jobs <- b.recs[:b.n]
		b.recs, b.n = <-b.free, 0
	}
	return nil
}

// Close flushes an asynchronous batcher and waits for its writes; it returns the first write
// error. It does nothing for a synchronous batcher.
func (b *Batcher) Close() error {
	if b.jobs == nil {
		return nil
	}
	err := b.Flush()
	close(b.jobs)
	<-b.done
	if b.err != nil {
		return b.err
	}
	return err
}
