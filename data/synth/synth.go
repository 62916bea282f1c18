package synth

import (
	"container/heap"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"slices"
	"time"
)

// ErrConfig reports an invalid lab configuration.
var ErrConfig = errors.New("synth: invalid configuration")

// DefaultStart is the capture start time used when Config.Start is zero.
var DefaultStart = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// Config configures the traffic lab.
type Config struct {
	// Classes is the number of services (classes); 0 means 30. Beyond the built-in catalogue,
	// services are made up procedurally from the seed.
	Classes int
	// Flows is the number of flows to generate; 0 means 20000.
	Flows int
	// Seed drives every random draw: the same seed gives the same flows.
	Seed uint64
	// Zipf is the exponent of the class frequency skew (weight of rank i ∝ 1/i^Zipf); 0 means 1.
	Zipf float64
	// Rate is the mean number of new flows per second of capture time; 0 means 50.
	Rate float64
	// Start is the capture start time; zero means DefaultStart.
	Start time.Time
	// IPv6 is the share of clients that reach services over IPv6 (0 to 1; 0: IPv4 only).
	IPv6 float64
	// Workers is the number of goroutines that build flows; 0 means GOMAXPROCS.
	Workers int
	// OnFlow, when set, is called with each flow's ground truth before its first frame is emitted.
	OnFlow func(FlowInfo) error
}

func (c Config) withDefaults() (Config, error) {
	if c.Classes == 0 {
		c.Classes = 30
	}
	if c.Flows == 0 {
		c.Flows = 20000
	}
	if c.Zipf == 0 {
		c.Zipf = 1
	}
	if c.Rate == 0 {
		c.Rate = 50
	}
	if c.Start.IsZero() {
		c.Start = DefaultStart
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	switch {
	case c.Classes < 1 || c.Classes > 5000:
		return c, fmt.Errorf("%w: classes %d not in 1..5000", ErrConfig, c.Classes)
	case c.Flows < 0:
		return c, fmt.Errorf("%w: flows %d < 0", ErrConfig, c.Flows)
	case c.Zipf < 0 || math.IsNaN(c.Zipf) || math.IsInf(c.Zipf, 0):
		return c, fmt.Errorf("%w: zipf exponent %v", ErrConfig, c.Zipf)
	case !(c.Rate > 0) || math.IsInf(c.Rate, 0):
		return c, fmt.Errorf("%w: rate %v", ErrConfig, c.Rate)
	case !(c.IPv6 >= 0 && c.IPv6 <= 1):
		return c, fmt.Errorf("%w: IPv6 share %v not in 0..1", ErrConfig, c.IPv6)
	}
	return c, nil
}

// FlowInfo is the ground truth of one generated flow.
type FlowInfo struct {
	Index    int
	Service  string
	Category string
	// SNI is the server name sent (empty for services without SNI).
	SNI string
	// Proto is "tcp" or "udp" (QUIC).
	Proto  string
	Client netip.AddrPort
	Server netip.AddrPort
	// Start is the time of the flow's first packet; it is distinct (at microsecond resolution)
	// for every flow, so (Start, client port) identifies a flow in extracted records.
	Start   time.Time
	Resumed bool
}

// Lab is a configured traffic lab: services, their certificate chains and recorded handshakes.
type Lab struct {
	cfg   Config
	svcs  []Service
	cdf   []float64
	fams  []*Family
	srvs  []*Server
	hs    [][]hsVariant // per service, per SNI
	fill  []byte
	srvIP []netip.Addr // per service base address
}

// hsVariant holds the recorded handshakes of one (service, SNI): a full one and, where the
// client and server support tickets, a resumed one.
type hsVariant struct {
	sni     string
	full    *transcript
	resumed *transcript
}

// NewLab builds a lab: it picks the services, makes their certificate chains and records one
// full and one resumed real crypto/tls handshake per (service, SNI). The handshake bytes are
// replayed, with flow-specific timing and TCP framing, in every flow of that service and SNI.
func NewLab(ctx context.Context, cfg Config) (*Lab, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	l := &Lab{cfg: cfg, svcs: services(cfg.Classes, cfg.Seed)}
	w := zipfWeights(len(l.svcs), cfg.Zipf)
	acc := 0.0
	for _, x := range w {
		acc += x
		l.cdf = append(l.cdf, acc)
	}
	l.cdf[len(l.cdf)-1] = 1
	fr := rand.New(rand.NewChaCha8([32]byte{'e', 't', 'c', 'h', 'f', 'i', 'l', 'l'}))
	l.fill = make([]byte, 1<<17)
	for i := range l.fill {
		l.fill[i] = byte(fr.Uint32())
	}
	chains := map[string]tls.Certificate{}
	for i := range l.svcs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s := &l.svcs[i]
		f, err := familyByName(s.Family)
		if err != nil {
			return nil, err
		}
		srv, err := serverByName(s.Server)
		if err != nil {
			return nil, err
		}
		l.fams = append(l.fams, f)
		l.srvs = append(l.srvs, srv)
		// Services of one group share one certificate (a CDN's multi-tenant certificate); the
		// others get one naming their own SNIs.
		key := s.Group
		if key == "" {
			key = "svc:" + s.Name
		}
		cert, ok := chains[key]
		if !ok {
			var names []string
			if s.Group != "" {
				for _, o := range l.svcs {
					if o.Group == s.Group {
						names = append(names, o.SNIs...)
					}
				}
			} else {
				names = s.SNIs
			}
			if cert, err = makeChain(cfg.Seed, srv, names); err != nil {
				return nil, err
			}
			chains[key] = cert
		}
		snis := s.SNIs
		if len(snis) == 0 {
			snis = []string{""}
		}
		var vs []hsVariant
		for _, sni := range snis {
			v := hsVariant{sni: sni}
			if s.QUIC {
				if v.full, err = recordQUICHandshake(clientConfig(f, sni, nil), serverConfig(cfg.Seed, srv, cert)); err != nil {
					return nil, fmt.Errorf("synth: service %s: %w", s.Name, err)
				}
			} else {
				cache := tls.NewLRUClientSessionCache(1)
				if v.full, err = recordHandshake(clientConfig(f, sni, cache), serverConfig(cfg.Seed, srv, cert)); err != nil {
					return nil, fmt.Errorf("synth: service %s: %w", s.Name, err)
				}
				if !f.NoTickets && !srv.NoTickets {
					t, err := recordHandshake(clientConfig(f, sni, cache), serverConfig(cfg.Seed, srv, cert))
					if err != nil {
						return nil, fmt.Errorf("synth: service %s (resumed): %w", s.Name, err)
					}
					if t.resumed {
						v.resumed = t
					}
				}
			}
			vs = append(vs, v)
		}
		l.hs = append(l.hs, vs)
		l.srvIP = append(l.srvIP, serverBase(i, s, l.srvs[i], servers))
	}
	return l, nil
}

// serverBase gives a service's server address block: services of one CDN group share the
// group's block (by server profile), others get their own.
func serverBase(i int, s *Service, srv *Server, all []Server) netip.Addr {
	if s.Group != "" {
		idx := slices.IndexFunc(all, func(x Server) bool { return x.Name == srv.Name })
		return netip.AddrFrom4([4]byte{198, 18, byte(idx), 0})
	}
	return netip.AddrFrom4([4]byte{198, byte(19 + i/256), byte(i), 0})
}

// Services returns the lab's services in rank order (rank 1, the most frequent, first).
func (l *Lab) Services() []Service { return append([]Service(nil), l.svcs...) }

// Weights returns the expected share of flows of each service, in rank order.
func (l *Lab) Weights() []float64 {
	w := make([]float64, len(l.cdf))
	prev := 0.0
	for i, c := range l.cdf {
		w[i], prev = c-prev, c
	}
	return w
}

// flowSpec is everything drawn for a flow before it is built (sequentially, so that the result
// does not depend on how flows are spread over workers).
type flowSpec struct {
	index   int
	svc     int
	variant int
	resumed bool
	startUS int64
	client  netip.Addr
	cport   uint16
	server  netip.Addr
	seed    uint64
}

const (
	numClients     = 250
	ephemeralPorts = 28232 // 32768..60999, Linux's default range
)

func (l *Lab) specs(yield func(flowSpec) bool) {
	r := rand.New(rand.NewPCG(l.cfg.Seed, 0xf10e5))
	t := l.cfg.Start.UnixMicro()
	// Client ports come from one counter over the ephemeral range, so that no two flows open
	// at the same time share a port (the range wraps after ephemeralPorts flows, far longer
	// than any flow lasts at realistic rates): (client port, server port) identifies a flow.
	port := r.IntN(ephemeralPorts)
	for i := 0; i < l.cfg.Flows; i++ {
		t += 1 + int64(r.ExpFloat64()*1e6/l.cfg.Rate)
		u := r.Float64()
		svc, _ := slices.BinarySearch(l.cdf, u)
		svc = min(svc, len(l.svcs)-1)
		s := &l.svcs[svc]
		vs := l.hs[svc]
		v := r.IntN(len(vs))
		resumed := vs[v].resumed != nil && r.Float64() < s.Resume
		c := r.IntN(numClients)
		port = (port + 1) % ephemeralPorts
		base := l.srvIP[svc].As4()
		hostN := 8
		if s.Group != "" {
			hostN = 32
		}
		base[3] = byte(1 + r.IntN(hostN))
		client := netip.AddrFrom4([4]byte{10, byte(1 + c/200), byte(c % 200), byte(10 + c%7)})
		server := netip.AddrFrom4(base)
		// The first IPv6 share of clients is dual-stack and reaches every service over IPv6.
		if float64(c) < l.cfg.IPv6*numClients {
			client = v6Of(client, 0x10)
			server = v6Of(server, 0x198)
		}
		sp := flowSpec{
			index: i, svc: svc, variant: v, resumed: resumed, startUS: t,
			client: client, cport: uint16(32768 + port), server: server, seed: r.Uint64(),
		}
		if !yield(sp) {
			return
		}
	}
}

func (l *Lab) info(sp *flowSpec) FlowInfo {
	s := &l.svcs[sp.svc]
	proto := "tcp"
	if s.QUIC {
		proto = "udp"
	}
	return FlowInfo{
		Index: sp.index, Service: s.Name, Category: s.Category, SNI: l.hs[sp.svc][sp.variant].sni,
		Proto: proto, Client: netip.AddrPortFrom(sp.client, sp.cport),
		Server: netip.AddrPortFrom(sp.server, uint16(s.Port)),
		Start:  time.UnixMicro(sp.startUS).UTC(), Resumed: sp.resumed,
	}
}

// builtFlow is a generated flow: its spec and frames in time order (one backing array).
type builtFlow struct {
	spec flowSpec
	pkts []packet
	next int
}

// build generates one flow's frames with g (whose buffers it reuses) and returns a copy that
// owns its memory.
func (l *Lab) build(g *flowGen, sp flowSpec) builtFlow {
	g.reset()
	g.r = rand.New(rand.NewPCG(sp.seed, uint64(sp.index)))
	g.fill = l.fill
	s := &l.svcs[sp.svc]
	v := &l.hs[sp.svc][sp.variant]
	if s.QUIC {
		l.buildQUIC(g, sp, s, v.full)
		g.finishUDP(sp.startUS)
	} else {
		tr := v.full
		if sp.resumed {
			tr = v.resumed
		}
		l.buildTCP(g, sp, s, tr)
		g.finish(sp.startUS)
	}
	// g.arena and g.pkts were freshly allocated for this flow (see flowGen.reset), so the
	// flow owns them without a copy.
	pk := g.pkts
	return builtFlow{spec: sp, pkts: pk}
}

func (l *Lab) setupHosts(g *flowGen, sp flowSpec, s *Service) {
	f, srv := l.fams[sp.svc], l.srvs[sp.svc]
	cli, sv := &g.side[0], &g.side[1]
	cli.h = host{mac: macFor(sp.client.As16()), port: sp.cport, ttl: 64, ipid: uint16(g.r.Uint32())}
	sv.h = host{mac: [6]byte{0x02, 0x42, 10, 0, 0, 1}, port: uint16(s.Port), ttl: byte(44 + g.r.IntN(12)), ipid: uint16(g.r.Uint32())}
	cli.mss, sv.mss = min(f.MSS, srv.MSS), min(f.MSS, srv.MSS)
	if sp.client.Is6() {
		cli.h.v6, sv.h.v6 = true, true
		cli.h.ip6, sv.h.ip6 = sp.client.As16(), sp.server.As16()
		cli.h.flowLabel, sv.h.flowLabel = g.r.Uint32(), g.r.Uint32()
		cli.mss -= ipv6Len - ipv4Len
		sv.mss -= ipv6Len - ipv4Len
	} else {
		cli.h.ip, sv.h.ip = sp.client.As4(), sp.server.As4()
	}
	cli.win, sv.win = uint16(502+g.r.IntN(40)), uint16(280+g.r.IntN(30))
	cli.seq, sv.seq = g.r.Uint32(), g.r.Uint32()
	g.rtt = max(300, g.jitter(srv.RTTms*1000, 0.35))
	// Bottleneck bandwidth 10..500 Mbit/s (log-uniform) in bytes per µs.
	g.bw = math.Exp(math.Log(10)+g.r.Float64()*math.Log(50)) / 8
}

func (l *Lab) buildTCP(g *flowGen, sp flowSpec, s *Service, tr *transcript) {
	l.setupHosts(g, sp, s)
	// TCP three-way handshake.
	t := g.plan(false, 0, flagSYN, 0, 0)
	g.segs[len(g.segs)-1].opts = synOptions(g.side[0].mss, 8)
	t = g.plan(true, t+g.rtt, flagSYN|flagACK, 0, 0)
	g.segs[len(g.segs)-1].opts = synOptions(g.side[1].mss, 9)
	g.planAck(false, t+g.jitter(40, 0.4), true)
	t += g.jitter(120, 0.5)
	// The recorded TLS handshake, flight by flight.
	lastServer := false
	first := true
	for _, c := range tr.chunks {
		s := &g.side[sideIdx(c.fromServer)]
		off := len(s.stream)
		s.stream = append(s.stream, c.data...)
		switch {
		case first:
		case c.fromServer && !lastServer: // server answers the client's flight
			t += g.rtt + g.jitter(600, 0.6)
		case !c.fromServer && lastServer: // client answers the server's flight
			t += g.jitter(400, 0.6)
		default:
			t += g.jitter(30, 0.5)
		}
		first = false
		t = g.write(c.fromServer, t, off, len(c.data))
		lastServer = c.fromServer
	}
	t = l.application(g, s, t, lastServer, tr.overhead)
	l.teardown(g, t)
}

// application plans the service's application data after the handshake; it returns the time of
// the last packet.
func (l *Lab) application(g *flowGen, s *Service, t int64, lastServer bool, overhead int) int64 {
	if lastServer {
		t += g.jitter(300, 0.5)
	} else {
		t += g.jitter(40, 0.5)
	}
	n := 1 + int(g.r.ExpFloat64()*(s.Exchanges-1)+0.5)
	if s.Kind == Interactive {
		n = max(2, int(float64(n)*1.0))
	}
	n = min(n, 400)
	size := func(d LogNormal) int { return max(1, min(int(d.draw(g.r)), 4<<20)) }
	ms := func(d LogNormal) int64 { return max(1, min(int64(d.draw(g.r)*1000), maxPauseUS)) }
	for i := 0; i < n; i++ {
		switch s.Kind {
		case RequestResponse, Bulk:
			if i > 0 {
				t += ms(s.Gap)
			}
			t = g.message(false, t, size(s.Req), overhead)
			t += g.rtt + ms(s.Think)
			resp := size(s.Resp)
			if s.Kind == Bulk && i > 0 {
				resp = int(float64(resp) * (0.8 + 0.4*g.r.Float64()))
			}
			t = g.message(true, t, resp, overhead)
		case Interactive:
			t += ms(s.Gap)
			if g.r.IntN(2) == 0 {
				t = g.message(false, t, size(s.Req), overhead)
				if g.r.Float64() < 0.7 {
					t = g.message(true, t+g.rtt+ms(s.Think), size(s.Resp), overhead)
				}
			} else {
				t = g.message(true, t, size(s.Resp), overhead)
				if g.r.Float64() < 0.3 {
					t = g.message(false, t+ms(s.Think), size(s.Req), overhead)
				}
			}
		}
	}
	return t
}

// teardown closes the connection: usually FIN from the client, sometimes from the server,
// rarely a reset.
func (l *Lab) teardown(g *flowGen, t int64) {
	t += g.jitter(20000, 1.0)
	switch x := g.r.Float64(); {
	case x < 0.03:
		g.plan(false, t, flagRST|flagACK, 0, 0)
	case x < 0.3:
		t = g.plan(true, t, flagFIN|flagACK, 0, 0)
		t = g.plan(false, t+g.jitter(200, 0.5), flagFIN|flagACK, 0, 0)
		g.planAck(true, t+g.rtt, true)
	default:
		t = g.plan(false, t, flagFIN|flagACK, 0, 0)
		t = g.plan(true, t+g.rtt, flagFIN|flagACK, 0, 0)
		g.planAck(false, t+g.jitter(40, 0.4), true)
	}
}

// v6Of maps an IPv4 address into 2001:db8:PREFIX::/48 (documentation space), keeping its bytes.
func v6Of(a netip.Addr, prefix uint16) netip.Addr {
	b4 := a.As4()
	return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(prefix >> 8), byte(prefix), 0, 0, 0, 0, 0, 0, b4[0], b4[1], b4[2], b4[3]})
}

// flowHeap orders active flows by the time of their next packet (ties: flow index).
type flowHeap []*builtFlow

func (h flowHeap) Len() int { return len(h) }
func (h flowHeap) Less(i, j int) bool {
	a, b := h[i].pkts[h[i].next].ts, h[j].pkts[h[j].next].ts
	if a != b {
		return a < b
	}
	return h[i].spec.index < h[j].spec.index
}
func (h flowHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *flowHeap) Push(x any)   { *h = append(*h, x.(*builtFlow)) }
func (h *flowHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Generate builds cfg.Flows flows and calls emit with every frame (Ethernet, IPv4, TCP or UDP)
// in capture-time order. The frame is only valid during the call. Flows are built in parallel;
// the output does not depend on the number of workers.
func Generate(ctx context.Context, cfg Config, emit func(ts time.Time, frame []byte) error) error {
	l, err := NewLab(ctx, cfg)
	if err != nil {
		return err
	}
	return l.Generate(ctx, emit)
}

const batchSize = 64

// pipeline builds flows on cfg.Workers goroutines: work turns a flow spec into a result (each
// worker calls newWorker once for its own state), and consume receives the results in flow index
// order on the calling goroutine, so the output never depends on scheduling.
func pipeline[T any](ctx context.Context, l *Lab, newWorker func() func(flowSpec) (T, error), consume func(flowSpec, T) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		vals []T
		err  error
	}
	type job struct {
		specs []flowSpec
		out   chan result
	}
	type pending struct {
		specs []flowSpec
		out   chan result
	}
	jobs := make(chan job)
	order := make(chan pending, 4*l.cfg.Workers)
	go func() {
		defer close(jobs)
		defer close(order)
		var batch []flowSpec
		send := func() bool {
			j := job{specs: batch, out: make(chan result, 1)}
			batch = nil
			select {
			case order <- pending(j):
			case <-ctx.Done():
				return false
			}
			select {
			case jobs <- j:
			case <-ctx.Done():
				return false
			}
			return true
		}
		for sp := range l.specs {
			batch = append(batch, sp)
			if len(batch) == batchSize && !send() {
				return
			}
		}
		if len(batch) > 0 {
			send()
		}
	}()
	for w := 0; w < l.cfg.Workers; w++ {
		go func() {
			work := newWorker()
			for j := range jobs {
				res := result{vals: make([]T, len(j.specs))}
				for i, sp := range j.specs {
					if res.vals[i], res.err = work(sp); res.err != nil {
						break
					}
				}
				j.out <- res
			}
		}()
	}
	for p := range order {
		var res result
		select {
		case res = <-p.out:
		case <-ctx.Done():
			return ctx.Err()
		}
		if res.err != nil {
			return res.err
		}
		for i := range res.vals {
			if err := consume(p.specs[i], res.vals[i]); err != nil {
				return err
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// Generate runs the lab; see the package function Generate.
func (l *Lab) Generate(ctx context.Context, emit func(ts time.Time, frame []byte) error) error {
	var h flowHeap
	emitUntil := func(limit int64, all bool) error {
		for h.Len() > 0 {
			f := h[0]
			p := f.pkts[f.next]
			if !all && p.ts >= limit {
				return nil
			}
			if err := emit(time.UnixMicro(p.ts).UTC(), p.frame); err != nil {
				return err
			}
			f.next++
			if f.next == len(f.pkts) {
				f.pkts = nil
				heap.Pop(&h)
			} else {
				heap.Fix(&h, 0)
			}
		}
		return nil
	}
	newWorker := func() func(flowSpec) (*builtFlow, error) {
		g := &flowGen{}
		return func(sp flowSpec) (*builtFlow, error) {
			f := l.build(g, sp)
			return &f, nil
		}
	}
	err := pipeline(ctx, l, newWorker, func(sp flowSpec, f *builtFlow) error {
		if err := emitUntil(f.pkts[0].ts, false); err != nil {
			return err
		}
		if l.cfg.OnFlow != nil {
			if err := l.cfg.OnFlow(l.info(&sp)); err != nil {
				return err
			}
		}
		heap.Push(&h, f)
		return nil
	})
	if err != nil {
		return err
	}
	return emitUntil(0, true)
}
