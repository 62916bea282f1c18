package flow

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/bits"
	"time"

	"github.com/etchlab/etch/data"
	"github.com/etchlab/etch/data/tlsfp"
)

// End reasons written to data.Record.EndReason.
const (
	EndFIN    = "fin"    // both sides sent FIN
	EndRST    = "rst"    // a side sent RST
	EndIdle   = "idle"   // no packet for Config.IdleTimeout
	EndActive = "active" // the flow lasted Config.ActiveTimeout; later packets start a new flow
	EndEOF    = "eof"    // the input ended (Flush)
	EndEvict  = "evict"  // the table held Config.MaxFlows flows; the least recently active went
	// EndEarly marks the snapshot records given to Config.Early: the flow reached
	// Config.EarlyPackets packets and goes on (it is emitted again when it ends).
	EndEarly = "early"
)

// HandshakeTracker follows one flow's TLS or QUIC handshake. The table feeds it the flow's
// payload packets in arrival order until Done or Config.TLSPackets payload packets were seen;
// payload is only valid during the call (copy what you keep). tlsfp.Tracker implements it.
type HandshakeTracker interface {
	Packet(fromClient bool, seq uint32, payload []byte)
	Done() bool
	Result() TLSResult
}

// Config configures a Table (and Extract). The zero value is usable: Defaults fills it in.
type Config struct {
	// SeqLen is N of the first-N sequences (default 100).
	SeqLen int
	// IdleTimeout ends a flow after this long without a packet (default 60 s); ActiveTimeout
	// ends a flow this long after its first packet (default 30 min).
	IdleTimeout, ActiveTimeout time.Duration
	// CloseLinger is how long a flow ended by FIN/RST waits before it is emitted: the old
	// connection's last packets (the final ACK, retransmissions) arriving within it still count
	// in it instead of starting a flow of their own; a new SYN on the same 5-tuple emits it at
	// once and starts a new flow (default 5 s).
	CloseLinger time.Duration
	// StatsCap bounds per-flow state: packet sizes, payloads and times are kept for the first
	// StatsCap packets (default 1000, at least SeqLen). Percentiles are computed over them;
	// counts, bytes, maxima, means and variances cover every packet.
	StatsCap int
	// MaxFlows bounds the table (default 1<<20); beyond it the least recently active flow ends
	// with EndEvict.
	MaxFlows int
	// TLSPackets is how many payload packets of a flow the handshake tracker sees at most
	// (default 32).
	TLSPackets int
	// NewTracker returns a handshake tracker for a new TCP (udp false) or UDP flow, or nil to
	// skip the flow. Default (nil): a tlsfp.Tracker whose fingerprint strings go through a
	// tlsfp.Memo that the table's flows share. Set NoTLS to disable tracking.
	NewTracker func(udp bool) HandshakeTracker
	NoTLS      bool
	// Labeler sets Label, Service and Category (default: label = SNI, service and category
	// "unknown"). Privacy rewrites addresses and SNI after labelling.
	Labeler *Labeler
	Privacy *Privacy
	// Capture is written to every record's Capture column (Extract sets the input's base name).
	Capture string
	// Version is the extractor's (etch's) version, recorded in the footer.
	Version string
	// DigestCache, when not empty, is a directory where Extract remembers the SHA-256 of its
	// inputs by file identity (device, inode, size, modification and change times), so that
	// extracting an unchanged file again skips hashing it (see digest.go for why an entry can
	// be trusted). Empty: every input is hashed.
	DigestCache string
	// Log receives warnings (default slog.Default()).
	Log *slog.Logger
	// Early, when not nil, is called with a snapshot of each flow the moment its EarlyPackets-th
	// packet (both directions together) is added: the record the flow would give if it ended
	// there, built by the same code as emitted records, with EndReason EndEarly and the TLS
	// result found so far. The flow goes on and is emitted as usual when it ends, so a flow with
	// at least EarlyPackets packets was seen by Early, and a shorter one was not (real-time
	// classification decides on the first and on the end of the second). The record is reused
	// after the call; an error stops the table like an emit error.
	Early        func(*data.Record) error
	EarlyPackets int
	// FirstPackets, when > 0, cuts every flow at its first FirstPackets packets (both directions
	// together): a flow that reaches them is emitted at that packet (EndReason EndEarly) and the
	// packets after it are in no record; a shorter flow is emitted when it ends. Its records are
	// what `etch classify` decides on at K = FirstPackets, statistics included, so a model trained
	// on them sees the same features as the real-time path. It is built on Early, which must then
	// be nil (Extract refuses both; NewTable replaces Early).
	FirstPackets int
}

// Defaults returns c with every zero field set to its default.
func (c Config) Defaults() Config {
	if c.SeqLen <= 0 {
		c.SeqLen = 100
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 60 * time.Second
	}
	if c.ActiveTimeout <= 0 {
		c.ActiveTimeout = 30 * time.Minute
	}
	if c.CloseLinger <= 0 {
		c.CloseLinger = 5 * time.Second
	}
	if c.StatsCap <= 0 {
		c.StatsCap = 1000
	}
	c.StatsCap = max(c.StatsCap, c.SeqLen)
	if c.MaxFlows <= 0 {
		c.MaxFlows = 1 << 20
	}
	if c.TLSPackets <= 0 {
		c.TLSPackets = 32
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Early != nil && c.EarlyPackets <= 0 {
		c.EarlyPackets = c.SeqLen
	}
	return c
}

// flowKey is a canonical 5-tuple: side a is the smaller (address, port).
type flowKey struct {
	a, b   [16]byte
	pa, pb uint16
	proto  uint8
}

// pktRec is what a flow keeps of each of its first StatsCap packets (16 bytes).
type pktRec struct {
	ts      int64
	dsize   int32 // IP length client→server, its complement (^size, negative) server→client
	payload int32
}

func (p *pktRec) fwd() bool { return p.dsize >= 0 }

// size returns the IP length.
func (p *pktRec) size() int32 {
	if p.dsize < 0 {
		return ^p.dsize
	}
	return p.dsize
}

type flow struct {
	// Fields are ordered by use: those every packet touches first (five cache lines), the
	// ones read when the flow ends last.
	key     flowKey
	cliIsA  bool
	closing bool   // ended by FIN/RST, waiting CloseLinger in the closed list
	hash    uint64 // of key, in Table.flows
	startUS int64
	lastUS  int64
	prev    *flow
	next    *flow
	tracker HandshakeTracker
	log     []pktRec
	tlsSeen int

	pkts, bytes, pay [2]int64   // [0] fwd, [1] bwd
	sum, sumSq       [2]float64 // sizes
	psum, psumSq     [2]float64 // payloads
	maxSize, maxPay  [2]int32
	flags            [6]int32 // SYN FIN RST PSH ACK URG
	tlsDone          bool
	finCli           bool
	finSrv           bool
	hasTLS           bool
	ipv              uint8

	reason  string // why a closing flow ended
	closeUS int64
	tls     TLSResult
}

// list is an intrusive doubly linked list of flows, oldest first.
type list struct{ head, tail *flow }

func (l *list) pushBack(f *flow) {
	f.prev, f.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = f
	} else {
		l.head = f
	}
	l.tail = f
}

func (l *list) remove(f *flow) {
	if f.prev != nil {
		f.prev.next = f.next
	} else {
		l.head = f.next
	}
	if f.next != nil {
		f.next.prev = f.prev
	} else {
		l.tail = f.prev
	}
	f.prev, f.next = nil, nil
}

// Table is a bidirectional flow table. Packets go in with Add or AddUS, in capture order; each
// finished flow comes out through the emit function given to NewTable, as a *data.Record that
// the table reuses after emit returns (copy what you keep, including the sequence slices).
// A Table is not safe for concurrent use.
type Table struct {
	cfg                        Config
	emit                       func(*data.Record) error
	flows                      flowMap
	active                     list // open flows by last activity
	closed                     list // tombstones by close time
	nowUS                      int64
	idleUS, activeUS, lingerUS int64

	free    []*flow
	memo    *tlsfp.Memo // of the default trackers, made on first use
	earlyAt int64       // packets at which Config.Early is called; -1 when it is not set
	rec     data.Record
	scratch scratch
	err     error

	// Packets counts the packets added, Skipped those that were not TCP/UDP, Flows the flows
	// started.
	Packets, Skipped, Flows int64
}

// ErrEmit wraps the first error returned by the emit function; the table emits nothing after it.
var ErrEmit = errors.New("emit flow")

// NewTable returns a table that calls emit for every finished flow.
func NewTable(cfg Config, emit func(*data.Record) error) *Table {
	if k := int64(cfg.FirstPackets); k > 0 {
		whole := emit
		cfg.Early, cfg.EarlyPackets = whole, cfg.FirstPackets
		emit = func(r *data.Record) error {
			if r.PktsFwd+r.PktsBwd >= k {
				return nil // emitted when it reached k
			}
			return whole(r)
		}
	}
	cfg = cfg.Defaults()
	t := &Table{cfg: cfg, emit: emit, flows: newFlowMap(1024),
		idleUS: cfg.IdleTimeout.Microseconds(), activeUS: cfg.ActiveTimeout.Microseconds(),
		lingerUS: cfg.CloseLinger.Microseconds(), earlyAt: -1}
	if cfg.Early != nil {
		t.earlyAt = int64(cfg.EarlyPackets)
	}
	n := cfg.SeqLen
	t.rec.SeqSize = make([]int32, n)
	t.rec.SeqPayload = make([]int32, n)
	t.rec.SeqIATUS = make([]int32, n)
	t.rec.SeqDir = make([]int32, n)
	return t
}

// Config returns the table's configuration with defaults filled in.
func (t *Table) Config() Config { return t.cfg }

// SetCapture sets the Capture column of the records emitted from now on.
func (t *Table) SetCapture(name string) { t.cfg.Capture = name }

// Len returns the number of open flows.
func (t *Table) Len() int { return t.flows.len() }

// Add adds a packet captured at ts.
func (t *Table) Add(ts time.Time, p *Packet) error { return t.AddUS(ts.UnixMicro(), p) }

// AddUS adds a packet captured at tsUS microseconds since the Unix epoch. It returns an error
// (wrapping ErrEmit) only when emit failed.
func (t *Table) AddUS(tsUS int64, p *Packet) error {
	if t.err != nil {
		return t.err
	}
	if p.Proto != ProtoTCP && p.Proto != ProtoUDP {
		t.Skipped++
		return nil
	}
	t.Packets++
	if tsUS > t.nowUS {
		t.nowUS = tsUS
		t.expire()
	}
	// The key is built from 8-byte words: the decoder stored the addresses as such, so the loads
	// are forwarded from its stores (copying the 16-byte arrays whole would stall on that).
	s0, s1 := binary.LittleEndian.Uint64(p.Src[:8]), binary.LittleEndian.Uint64(p.Src[8:])
	d0, d1 := binary.LittleEndian.Uint64(p.Dst[:8]), binary.LittleEndian.Uint64(p.Dst[8:])
	srcIsA := endpointLE(s0, s1, p.SrcPort, d0, d1, p.DstPort) // cmpEndpoint(src, dst) <= 0
	// The key's words (see keyWords), kept in registers.
	a0, a1, b0, b1 := s0, s1, d0, d1
	x := uint64(p.SrcPort) | uint64(p.DstPort)<<16 | uint64(p.Proto)<<32
	if !srcIsA {
		a0, a1, b0, b1 = d0, d1, s0, s1
		x = uint64(p.DstPort) | uint64(p.SrcPort)<<16 | uint64(p.Proto)<<32
	}
	syn := p.Proto == ProtoTCP && p.Flags&(FlagSYN|FlagACK) == FlagSYN
	h := t.flows.hashWords(a0, a1, b0, b1, x)
	f := t.flows.getWords(a0, a1, b0, b1, x, h)
	if f != nil && f.closing && syn {
		t.finish(f, f.reason) // a new connection on the same 5-tuple
		f = nil
	}
	if f != nil && !f.closing && tsUS-f.startUS >= t.activeUS {
		cliIsA := f.cliIsA
		t.finish(f, EndActive)
		f = t.newFlow(keyOf(a0, a1, b0, b1, x), h, p, tsUS)
		f.cliIsA = cliIsA
	} else if f == nil {
		f = t.newFlow(keyOf(a0, a1, b0, b1, x), h, p, tsUS)
		switch {
		case syn:
			f.cliIsA = srcIsA
		case p.Proto == ProtoTCP && p.Flags&(FlagSYN|FlagACK) == FlagSYN|FlagACK:
			f.cliIsA = !srcIsA // we missed the SYN: the receiver of the SYN-ACK is the client
		default:
			f.cliIsA = srcIsA
		}
	} else if !f.closing && t.active.tail != f {
		t.active.remove(f)
		t.active.pushBack(f)
	}
	t.update(f, tsUS, p, srcIsA == f.cliIsA)
	if t.err != nil {
		return t.err
	}
	return nil
}

// endpointLE is cmpEndpoint(a, pa, b, pb) <= 0 for addresses given as their two 8-byte words
// read little-endian.
func endpointLE(a0, a1 uint64, pa uint16, b0, b1 uint64, pb uint16) bool {
	if a0 != b0 {
		return bits.ReverseBytes64(a0) < bits.ReverseBytes64(b0)
	}
	if a1 != b1 {
		return bits.ReverseBytes64(a1) < bits.ReverseBytes64(b1)
	}
	return pa <= pb
}

func cmpEndpoint(a *[16]byte, pa uint16, b *[16]byte, pb uint16) int {
	if x, y := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(b[:8]); x != y {
		return cmp.Compare(x, y)
	}
	if x, y := binary.BigEndian.Uint64(a[8:]), binary.BigEndian.Uint64(b[8:]); x != y {
		return cmp.Compare(x, y)
	}
	return cmp.Compare(pa, pb)
}

func (t *Table) newFlow(k flowKey, h uint64, p *Packet, tsUS int64) *flow {
	if t.flows.len() >= t.cfg.MaxFlows {
		if t.active.head != nil {
			t.finish(t.active.head, EndEvict)
		}
	}
	var f *flow
	if n := len(t.free); n > 0 {
		f = t.free[n-1]
		t.free = t.free[:n-1]
		log := f.log[:0]
		*f = flow{log: log}
	} else {
		f = &flow{}
	}
	f.key, f.hash = k, h
	f.ipv = p.IPVersion
	f.startUS, f.lastUS = tsUS, tsUS
	t.flows.put(f, h)
	t.active.pushBack(f)
	t.Flows++
	return f
}

func (t *Table) update(f *flow, tsUS int64, p *Packet, fwd bool) {
	d := 0
	if !fwd {
		d = 1
	}
	if tsUS > f.lastUS {
		f.lastUS = tsUS
	}
	size, pay := int32(min(p.IPLen, math.MaxInt32)), int32(min(p.PayloadLen, math.MaxInt32))
	f.pkts[d]++
	f.bytes[d] += int64(size)
	f.pay[d] += int64(pay)
	fs, fp := float64(size), float64(pay)
	f.sum[d] += fs
	f.sumSq[d] += fs * fs
	f.psum[d] += fp
	f.psumSq[d] += fp * fp
	f.maxSize[d] = max(f.maxSize[d], size)
	f.maxPay[d] = max(f.maxPay[d], pay)
	if len(f.log) < t.cfg.StatsCap {
		if f.log == nil {
			f.log = make([]pktRec, 0, min(t.cfg.StatsCap, 64))
		}
		ds := size
		if !fwd {
			ds = ^size
		}
		f.log = append(f.log, pktRec{ts: tsUS, dsize: ds, payload: pay})
	}
	if p.Proto == ProtoTCP && p.Flags != 0 {
		fl := p.Flags
		if fl&FlagSYN != 0 {
			f.flags[0]++
		}
		if fl&FlagFIN != 0 {
			f.flags[1]++
			if fwd {
				f.finCli = true
			} else {
				f.finSrv = true
			}
		}
		if fl&FlagRST != 0 {
			f.flags[2]++
		}
		if fl&FlagPSH != 0 {
			f.flags[3]++
		}
		if fl&FlagACK != 0 {
			f.flags[4]++
		}
		if fl&FlagURG != 0 {
			f.flags[5]++
		}
	}
	if len(p.Payload) > 0 && !f.tlsDone && !t.cfg.NoTLS {
		t.track(f, p, fwd)
	}
	if f.pkts[0]+f.pkts[1] == t.earlyAt {
		t.early(f)
	}
	if p.Proto == ProtoTCP && !f.closing {
		switch {
		case p.Flags&FlagRST != 0:
			t.close(f, EndRST)
		case f.finCli && f.finSrv:
			t.close(f, EndFIN)
		}
	}
}

func (t *Table) track(f *flow, p *Packet, fwd bool) {
	if f.tracker == nil {
		if t.cfg.NewTracker != nil {
			f.tracker = t.cfg.NewTracker(p.Proto == ProtoUDP)
		} else {
			f.tracker = t.defaultTracker(p.Proto == ProtoUDP)
		}
		if f.tracker == nil {
			f.tlsDone = true
			return
		}
	}
	f.tracker.Packet(fwd, p.Seq, p.Payload)
	f.tlsSeen++
	if f.tracker.Done() || f.tlsSeen >= t.cfg.TLSPackets {
		t.takeTLS(f)
	}
}

func (t *Table) takeTLS(f *flow) {
	f.tls = f.tracker.Result()
	f.hasTLS = true
	if r, ok := f.tracker.(releaser); ok {
		r.Release()
	}
	f.tracker = nil
	f.tlsDone = true
}

// releaser is a tracker that can be reused once its result was taken (tlsfp.Tracker).
type releaser interface{ Release() }

// close marks a flow ended by FIN or RST. It is emitted CloseLinger later (or when a new SYN
// reuses its 5-tuple), so that the connection's last packets (the final ACK, retransmissions)
// still count in it rather than start a flow of their own.
func (t *Table) close(f *flow, reason string) {
	if t.lingerUS <= 0 {
		t.finish(f, reason)
		return
	}
	t.active.remove(f)
	f.closing, f.reason, f.closeUS = true, reason, t.nowUS
	t.closed.pushBack(f)
}

// expire ends idle flows and emits closed flows whose linger is over.
func (t *Table) expire() {
	for f := t.active.head; f != nil && t.nowUS-f.lastUS > t.idleUS; f = t.active.head {
		t.finish(f, EndIdle)
	}
	for f := t.closed.head; f != nil && t.nowUS-f.closeUS > t.lingerUS; f = t.closed.head {
		t.finish(f, f.reason)
	}
}

// finish emits f and forgets it.
func (t *Table) finish(f *flow, reason string) {
	if f.closing {
		t.closed.remove(f)
	} else {
		t.active.remove(f)
	}
	if f.tracker != nil {
		t.takeTLS(f)
	}
	if t.err == nil {
		t.fill(f, reason)
		if err := t.emit(&t.rec); err != nil {
			t.err = fmt.Errorf("%w: %w", ErrEmit, err)
		}
	}
	t.flows.remove(f, f.hash)
	t.free = append(t.free, f)
}

// Advance moves the table's clock to tsUS (microseconds since the Unix epoch) without a packet,
// ending the flows that are idle or done lingering by then: live capture calls it while no
// packet arrives. A time before the clock is ignored. It returns an error (wrapping ErrEmit)
// only when emit failed.
func (t *Table) Advance(tsUS int64) error {
	if t.err == nil && tsUS > t.nowUS {
		t.nowUS = tsUS
		t.expire()
	}
	return t.err
}

// early hands Config.Early the snapshot of f (its handshake result so far, without ending the
// tracker).
func (t *Table) early(f *flow) {
	if t.err != nil {
		return
	}
	tls, has := f.tls, f.hasTLS
	if f.tracker != nil {
		f.tls, f.hasTLS = f.tracker.Result(), true
	}
	t.fill(f, EndEarly)
	f.tls, f.hasTLS = tls, has
	if err := t.cfg.Early(&t.rec); err != nil {
		t.err = fmt.Errorf("%w: %w", ErrEmit, err)
	}
}

// Flush ends every flow (open ones with EndEOF) and resets the clock, so that the next input
// starts from an empty table.
func (t *Table) Flush() error {
	for f := t.closed.head; f != nil; f = t.closed.head {
		t.finish(f, f.reason)
	}
	for f := t.active.head; f != nil; f = t.active.head {
		t.finish(f, EndEOF)
	}
	t.nowUS = 0
	return t.err
}
