package flow

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/etchlab/etch/data"
)

var (
	ipC = [4]byte{10, 0, 0, 1}
	ipS = [4]byte{192, 0, 2, 7}
)

// tp builds a TCP packet client→server (fwd) or server→client at ms milliseconds.
func tp(ms int64, fwd bool, flags uint8, payload int) (int64, Packet) {
	p := Packet{IPVersion: 4, Proto: ProtoTCP, Flags: flags, IPLen: 40 + payload, PayloadLen: payload}
	copy(p.Src[:], ipC[:])
	copy(p.Dst[:], ipS[:])
	p.SrcPort, p.DstPort = 40000, 443
	if !fwd {
		p.Src, p.Dst = p.Dst, p.Src
		p.SrcPort, p.DstPort = p.DstPort, p.SrcPort
	}
	return ms * 1000, p
}

type collected struct{ recs []data.Record }

func (c *collected) emit(r *data.Record) error {
	cp := *r
	cp.SeqSize = slices.Clone(r.SeqSize)
	cp.SeqPayload = slices.Clone(r.SeqPayload)
	cp.SeqIATUS = slices.Clone(r.SeqIATUS)
	cp.SeqDir = slices.Clone(r.SeqDir)
	c.recs = append(c.recs, cp)
	return nil
}

type step struct {
	ms      int64
	fwd     bool
	flags   uint8
	payload int
}

func runSteps(t *testing.T, cfg Config, steps []step) []data.Record {
	t.Helper()
	cfg.NoTLS = true
	var c collected
	tab := NewTable(cfg, c.emit)
	for _, s := range steps {
		ts, p := tp(s.ms, s.fwd, s.flags, s.payload)
		if err := tab.AddUS(ts, &p); err != nil {
			t.Fatal(err)
		}
	}
	if err := tab.Flush(); err != nil {
		t.Fatal(err)
	}
	return c.recs
}

const (
	S  = FlagSYN
	SA = FlagSYN | FlagACK
	A  = FlagACK
	PA = FlagPSH | FlagACK
	FA = FlagFIN | FlagACK
	R  = FlagRST
)

func TestTableFlows(t *testing.T) {
	handshake := []step{{0, true, S, 0}, {1, false, SA, 0}, {2, true, A, 0}}
	closing := []step{{10, true, FA, 0}, {11, false, FA, 0}, {12, true, A, 0}}
	for _, tc := range []struct {
		name    string
		cfg     Config
		steps   []step
		reasons []string
		pkts    [][2]int64 // fwd, bwd per flow
		cliPort int32      // client port of the first flow
	}{
		{name: "fin with final ack", steps: append(append(slices.Clone(handshake), step{5, true, PA, 100}, step{6, false, PA, 1000}), closing...),
			reasons: []string{EndFIN}, pkts: [][2]int64{{5, 3}}, cliPort: 40000},
		{name: "rst", steps: append(slices.Clone(handshake), step{3, false, R, 0}),
			reasons: []string{EndRST}, pkts: [][2]int64{{2, 2}}, cliPort: 40000},
		{name: "syn-ack first: receiver is client", steps: []step{{1, false, SA, 0}, {2, true, A, 0}},
			reasons: []string{EndEOF}, pkts: [][2]int64{{1, 1}}, cliPort: 40000},
		{name: "server speaks first without syn", steps: []step{{1, false, PA, 10}, {2, true, A, 0}},
			reasons: []string{EndEOF}, pkts: [][2]int64{{1, 1}}, cliPort: 443},
		{name: "idle timeout splits", cfg: Config{IdleTimeout: time.Second},
			steps:   append(slices.Clone(handshake), step{5000, true, PA, 10}, step{5001, false, A, 0}),
			reasons: []string{EndIdle, EndEOF}, pkts: [][2]int64{{2, 1}, {1, 1}}, cliPort: 40000},
		{name: "active timeout keeps orientation", cfg: Config{ActiveTimeout: 10 * time.Millisecond},
			steps:   append(slices.Clone(handshake), step{9, false, PA, 10}, step{10, false, PA, 10}, step{11, true, A, 0}),
			reasons: []string{EndActive, EndEOF}, pkts: [][2]int64{{2, 2}, {1, 1}}, cliPort: 40000},
		{name: "out of order and duplicates stay in one flow",
			steps:   append(slices.Clone(handshake), step{8, true, PA, 10}, step{5, true, PA, 10}, step{5, true, PA, 10}, step{0, true, S, 0}),
			reasons: []string{EndEOF}, pkts: [][2]int64{{6, 1}}, cliPort: 40000},
		{name: "new syn after close starts a new flow",
			steps:   append(append(slices.Clone(handshake), closing...), step{13, true, S, 0}, step{14, false, SA, 0}),
			reasons: []string{EndFIN, EndEOF}, pkts: [][2]int64{{4, 2}, {1, 1}}, cliPort: 40000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs := runSteps(t, tc.cfg, tc.steps)
			if len(recs) != len(tc.reasons) {
				t.Fatalf("got %d flows, want %d: %+v", len(recs), len(tc.reasons), recs)
			}
			for i, r := range recs {
				if r.EndReason != tc.reasons[i] || r.PktsFwd != tc.pkts[i][0] || r.PktsBwd != tc.pkts[i][1] {
					t.Errorf("flow %d: reason %s pkts %d/%d, want %s %v", i, r.EndReason, r.PktsFwd, r.PktsBwd, tc.reasons[i], tc.pkts[i])
				}
			}
			if recs[0].SrcPort != tc.cliPort {
				t.Errorf("client port %d, want %d", recs[0].SrcPort, tc.cliPort)
			}
		})
	}
}

func TestFeatures(t *testing.T) {
	steps := []step{{0, true, S, 0}, {1, false, SA, 0}, {3, true, A, 0}, {4, true, PA, 200}, {10, false, PA, 1000}, {30, true, FA, 0}}
	recs := runSteps(t, Config{SeqLen: 8}, steps)
	if len(recs) != 1 {
		t.Fatalf("%d flows", len(recs))
	}
	r := recs[0]
	wantSize := []int32{40, -40, 40, 240, -1040, 40, 0, 0}
	wantPay := []int32{0, 0, 0, 200, 1000, 0, 0, 0}
	wantIAT := []int32{0, 1000, 2000, 1000, 6000, 20000, 0, 0}
	wantDir := []int32{1, -1, 1, 1, -1, 1, 0, 0}
	for _, c := range []struct {
		name      string
		got, want []int32
	}{{"seq_size", r.SeqSize, wantSize}, {"seq_payload", r.SeqPayload, wantPay}, {"seq_iat_us", r.SeqIATUS, wantIAT}, {"seq_dir", r.SeqDir, wantDir}} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	// fwd sizes 40,40,240,40: p25 40, p50 40, p75 90, mean 90, var 7500.
	checks := []struct {
		name      string
		got, want float64
	}{
		{"pkts_fwd", float64(r.PktsFwd), 4}, {"bytes_bwd", float64(r.BytesBwd), 1080},
		{"payload_bytes_fwd", float64(r.PayloadBytesFwd), 200}, {"duration_s", r.DurationS, 0.03},
		{"pkts_per_s", r.PktsPerS, 200}, {"syn", float64(r.SYN), 2}, {"ack", float64(r.ACK), 5}, {"fin", float64(r.FIN), 1},
		{"size_fwd_count", r.SizeFwdCount, 4}, {"size_fwd_p25", r.SizeFwdP25, 40}, {"size_fwd_p50", r.SizeFwdP50, 40},
		{"size_fwd_p75", r.SizeFwdP75, 90}, {"size_fwd_max", r.SizeFwdMax, 240}, {"size_fwd_mean", r.SizeFwdMean, 90},
		{"size_fwd_var", r.SizeFwdVar, 7500},
		// fwd times 0,3,4,30 ms → IATs 3000,1000,26000 µs.
		{"iat_fwd_p25", r.IatFwdP25, 2000}, {"iat_fwd_p50", r.IatFwdP50, 3000}, {"iat_fwd_p75", r.IatFwdP75, 14500},
		{"iat_bwd_p50", r.IatBwdP50, 9000}, {"iat_all_p50", r.IatAllP50, 2000},
		{"payload_bwd_max", r.PayloadBwdMax, 1000}, {"payload_all_mean", r.PayloadAllMean, 200},
		{"size_all_count", r.SizeAllCount, 6}, {"size_all_max", r.SizeAllMax, 1040},
	}
	for _, c := range checks {
		if math.Abs(c.got-c.want) > 1e-9 {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if r.Label != "" || r.Service != Unknown || r.Category != Unknown || r.SrcIP != "" {
		t.Errorf("labels/privacy defaults: %q %q %q %q", r.Label, r.Service, r.Category, r.SrcIP)
	}
}

func TestStatsCap(t *testing.T) {
	steps := []step{{0, true, S, 0}}
	for i := 1; i <= 50; i++ {
		steps = append(steps, step{int64(i), i%2 == 0, A, i})
	}
	recs := runSteps(t, Config{SeqLen: 4, StatsCap: 10}, steps)
	r := recs[0]
	if r.SizeAllCount != 51 || r.PayloadAllMax != 50 || len(r.SeqSize) != 4 {
		t.Errorf("count %v max %v len %d", r.SizeAllCount, r.PayloadAllMax, len(r.SeqSize))
	}
	// Percentiles only see the first 10 packets (payloads 0..9).
	if r.PayloadAllP75 > 9 {
		t.Errorf("payload_all_p75 %v beyond the capped packets", r.PayloadAllP75)
	}
}

func TestMaxFlowsEvicts(t *testing.T) {
	var c collected
	tab := NewTable(Config{MaxFlows: 2, NoTLS: true}, c.emit)
	for i := range 5 {
		ts, p := tp(int64(i), true, S, 0)
		p.SrcPort = uint16(1000 + i)
		if err := tab.AddUS(ts, &p); err != nil {
			t.Fatal(err)
		}
		if tab.Len() > 2 {
			t.Fatalf("table holds %d flows", tab.Len())
		}
	}
	tab.Flush()
	if len(c.recs) != 5 || c.recs[0].EndReason != EndEvict || c.recs[0].SrcPort != 1000 {
		t.Errorf("got %d flows, first %s port %d", len(c.recs), c.recs[0].EndReason, c.recs[0].SrcPort)
	}
}

func TestPercentile(t *testing.T) {
	for _, tc := range []struct {
		x    []int32
		q    float64
		want float64
	}{{nil, 0.5, 0}, {[]int32{7}, 0.25, 7}, {[]int32{1, 2, 3, 4}, 0.25, 1.75}, {[]int32{1, 2, 3, 4}, 0.5, 2.5}, {[]int32{1, 2, 3, 4}, 1, 4}} {
		if got := percentile(tc.x, tc.q); got != tc.want {
			t.Errorf("percentile(%v, %v) = %v, want %v", tc.x, tc.q, got, tc.want)
		}
	}
}

// fakeTracker records what the table feeds it.
type fakeTracker struct {
	pkts []bool
	done bool
}

func (f *fakeTracker) Packet(fromClient bool, seq uint32, payload []byte) {
	f.pkts = append(f.pkts, fromClient)
	if len(f.pkts) == 2 {
		f.done = true
	}
}
func (f *fakeTracker) Done() bool { return f.done }
func (f *fakeTracker) Result() TLSResult {
	return TLSResult{SNI: "www.example.com", JA4: "t13d", ALPN: "h2"}
}

func TestTrackerFeed(t *testing.T) {
	var trackers []*fakeTracker
	cfg := Config{NewTracker: func(udp bool) HandshakeTracker {
		f := &fakeTracker{}
		trackers = append(trackers, f)
		return f
	}, Labeler: &Labeler{Rules: mustRules(t, "rules:\n  - suffix: example.com\n    service: Example\n    category: Web\n")}}
	var c collected
	tab := NewTable(cfg, c.emit)
	for _, s := range []step{{0, true, S, 0}, {1, false, SA, 0}, {2, true, PA, 300}, {3, false, PA, 1000}, {4, true, PA, 50}} {
		ts, p := tp(s.ms, s.fwd, s.flags, s.payload)
		p.Payload = make([]byte, s.payload)
		tab.AddUS(ts, &p)
	}
	tab.Flush()
	if len(trackers) != 1 || !slices.Equal(trackers[0].pkts, []bool{true, false}) {
		t.Fatalf("trackers %d, fed %v", len(trackers), trackers[0].pkts)
	}
	r := c.recs[0]
	if r.SNI != "www.example.com" || r.Label != "www.example.com" || r.Service != "Example" || r.Category != "Web" {
		t.Errorf("record tls/labels: %q %q %q %q", r.SNI, r.Label, r.Service, r.Category)
	}
}

func mustRules(t *testing.T, y string) []Rule {
	t.Helper()
	r, err := ParseRules([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return r
}
