package realtime_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/etchlab/etch/data"
	"github.com/etchlab/etch/data/flow"
	"github.com/etchlab/etch/data/synth"
	"github.com/etchlab/etch/harness/config"
	"github.com/etchlab/etch/harness/model"
	"github.com/etchlab/etch/harness/model/saved"
	"github.com/etchlab/etch/harness/realtime"
	"github.com/etchlab/etch/harness/runner"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// K is the packets the test models are trained on (data.packets).
const K = 30

// fixture is a trained run (forest on statistics and sequences, a CNN-LSTM on sequences, both
// saved by the runner) and a synthetic test capture.
type fixture struct {
	dir     string
	runDir  string
	capture []byte
}

var (
	fixOnce sync.Once
	fix     fixture
	fixErr  error
)

const experiment = `name: rt
seed: 3
backend: cpu
data:
  path: train.parquet
  label: label
  features: [stats, seq_size, seq_iat_us, seq_dir]
  packets: %d
  scale: %s
split: {kind: stratified, test: 0.2}
models:
  - {name: rf, type: forest, trees: 12}
  - {name: cnn, type: cnn_lstm, epochs: 1, batch: 64, filters: [8], units: [8], dense: [8], features: [seq_size, seq_dir, seq_iat_us]}
  - {name: vote, type: soft_vote, members: [rf, cnn]}
`

func getFixture(t testing.TB) *fixture {
	t.Helper()
	fixOnce.Do(func() { fix, fixErr = buildFixture() })
	if fixErr != nil {
		t.Fatal(fixErr)
	}
	return &fix
}

func buildFixture() (fixture, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "etch-realtime-")
	if err != nil {
		return fixture{}, err
	}
	f := fixture{dir: dir}
	if f.runDir, err = trainRun(ctx, dir, fmt.Sprintf(experiment, K, "minmax")); err != nil {
		return f, err
	}
	f.capture, err = captureBytes(synth.Config{Classes: 5, Flows: 150, Seed: 99, Workers: 2}, 0)
	return f, err
}

// trainRun writes a synthetic training set (1200 flows, 5 classes) and runs the experiment
// on it in dir, returning the run directory.
func trainRun(ctx context.Context, dir, yaml string) (string, error) {
	scfg := synth.Config{Classes: 5, Flows: 1200, Seed: 11, Workers: 2}
	if _, err := synth.WriteFile(ctx, scfg, flow.Config{}, filepath.Join(dir, "train.parquet")); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "exp.yaml"), []byte(yaml), 0o644); err != nil {
		return "", err
	}
	exp, err := config.Load(filepath.Join(dir, "exp.yaml"), runner.DefaultRegistry("").Types())
	if err != nil {
		return "", err
	}
	out, err := runner.Run(ctx, exp, runner.Options{Version: "test", WorkDir: dir, CacheDir: "off",
		Registry: runner.DefaultRegistry(""), Jobs: 1, Threads: 1})
	if err != nil {
		return "", err
	}
	return out.Dir, nil
}

// captureBytes generates a synthetic capture in memory; keep > 0 keeps only the first keep
// packets of every flow (5-tuple).
func captureBytes(cfg synth.Config, keep int) ([]byte, error) {
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return nil, err
	}
	dec := flow.NewDecoder()
	var p flow.Packet
	seen := map[string]int{}
	err := synth.Generate(context.Background(), cfg, func(ts time.Time, frame []byte) error {
		if keep > 0 {
			if !dec.Decode(layers.LinkTypeEthernet, frame, &p) {
				return fmt.Errorf("synthetic frame does not decode")
			}
			k := tupleKey(&p)
			if seen[k] >= keep {
				return nil
			}
			seen[k]++
		}
		return w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(frame), Length: len(frame)}, frame)
	})
	return buf.Bytes(), err
}

// tupleKey is a flow's 5-tuple, the same for both directions.
func tupleKey(p *flow.Packet) string {
	a := fmt.Sprintf("%x:%d", p.Src, p.SrcPort)
	b := fmt.Sprintf("%x:%d", p.Dst, p.DstPort)
	if a > b {
		a, b = b, a
	}
	return fmt.Sprintf("%d %s %s", p.Proto, a, b)
}

func decisionKey(d *realtime.Decision) string {
	return fmt.Sprintf("%s %s:%d %s:%d %d", d.Proto, d.SrcIP, d.SrcPort, d.DstIP, d.DstPort, d.TimeUS)
}

func recordKey(r *data.Record) string {
	return fmt.Sprintf("%s %s:%d %s:%d %d", r.Proto, r.SrcIP, r.SrcPort, r.DstIP, r.DstPort, r.EndUS)
}

// classifyAll runs the engine over a capture and returns its decisions.
func classifyAll(t *testing.T, c *realtime.Classifier, capture []byte, opts realtime.Options) []realtime.Decision {
	t.Helper()
	r, err := flow.NewReaderBytes(capture, "test.pcap")
	if err != nil {
		t.Fatal(err)
	}
	var out []realtime.Decision
	eng, err := realtime.New(c, opts, func(ds []realtime.Decision) error {
		for _, d := range ds {
			d.Top3 = slices.Clone(d.Top3)
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Run(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEquivalence checks every streaming decision against the batch path: the same flows cut
// to their first K packets, extracted to a flows file, loaded with data.Load (data.packets K),
// scaled with the saved scaler and predicted in one batch by the same model.
func TestEquivalence(t *testing.T) {
	f := getFixture(t)
	ctx := context.Background()
	// The batch path's input: the test capture cut to K packets per flow, through etch extract.
	cut, err := captureBytes(synth.Config{Classes: 5, Flows: 150, Seed: 99, Workers: 2}, K)
	if err != nil {
		t.Fatal(err)
	}
	cutPath := filepath.Join(t.TempDir(), "cut.pcap")
	if err := os.WriteFile(cutPath, cut, 0o644); err != nil {
		t.Fatal(err)
	}
	fcfg := flow.Config{Privacy: &flow.Privacy{KeepIPs: true}}
	flowsPath := filepath.Join(t.TempDir(), "cut.parquet")
	if _, err := flow.ExtractToFile(ctx, []string{cutPath}, flowsPath, fcfg); err != nil {
		t.Fatal(err)
	}
	var keys []string
	if _, err := flow.Extract(ctx, []string{cutPath}, fcfg, func(r *data.Record) error {
		keys = append(keys, recordKey(r))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// vote: a soft-vote ensemble over rf (every feature) and cnn (its own features: a saved
	// projection inside the ensemble).
	for _, name := range []string{"rf", "cnn", "vote"} {
		t.Run(name, func(t *testing.T) {
			c, err := realtime.Load(f.runDir, realtime.LoadOptions{Name: name})
			if err != nil {
				t.Fatal(err)
			}
			if c.Pre.SeqLen != K || c.Pre.Scaler == nil || c.Pre.Scaler.Method != data.ScaleMinMax {
				t.Fatalf("preprocessing %+v: want K=%d and the minmax scaler", c.Pre, K)
			}
			// Batch: load the cut flows as the runner does, with the model's features.
			features := c.Pre.Features
			if name == "cnn" {
				features = []string{"seq_size", "seq_dir", "seq_iat_us"}
			}
			ds, err := data.Load(ctx, flowsPath, data.LoadOptions{Features: features, Packets: K})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ds.TabNames, c.Pre.TabNames) || !slices.Equal(ds.SeqChannels, c.Pre.SeqChannels) {
				t.Fatalf("batch features %v %v, saved %v %v", ds.TabNames, ds.SeqChannels, c.Pre.TabNames, c.Pre.SeqChannels)
			}
			if err := c.Pre.Scaler.Transform(ds); err != nil {
				t.Fatal(err)
			}
			k := len(c.Pre.ClassNames)
			x := &model.Data{N: ds.N, Tab: ds.Tab, TabNames: ds.TabNames, Seq: ds.Seq, SeqLen: ds.SeqLen,
				SeqChannels: ds.SeqChannels, Classes: k, ClassNames: c.Pre.ClassNames}
			if len(ds.SeqChannels) == 0 {
				x.SeqLen = 0
			}
			proba := make([]float32, ds.N*k)
			if err := c.Model.PredictProba(ctx, x, proba); err != nil {
				t.Fatal(err)
			}
			want := map[string][]float32{}
			for i := range ds.N {
				want[keys[ds.Index[i]]] = proba[i*k : (i+1)*k]
			}
			// Streaming, over the whole capture, with small batches to mix flows differently.
			got := classifyAll(t, c, f.capture, realtime.Options{Flow: fcfg, Batch: 7})
			if len(got) != ds.N || len(got) < 100 {
				t.Fatalf("%d decisions, batch path has %d flows", len(got), ds.N)
			}
			early := 0
			for i := range got {
				d := &got[i]
				w, ok := want[decisionKey(d)]
				if !ok {
					t.Fatalf("decision %+v: no such flow in the batch path", d)
				}
				if d.Reason == flow.EndEarly {
					early++
					if d.Packets != K {
						t.Fatalf("early decision after %d packets", d.Packets)
					}
				}
				best := 0
				for j := range w {
					if w[j] > w[best] {
						best = j
					}
				}
				if d.Label != c.Pre.ClassNames[best] {
					t.Fatalf("flow %s: label %q, batch %q (%v)", decisionKey(d), d.Label, c.Pre.ClassNames[best], w)
				}
				tol := 0.0
				if name != "rf" {
					tol = 1e-5 // GEMM blocking may differ with the batch size
				}
				if diff := math.Abs(float64(d.Probability - w[best])); diff > tol {
					t.Fatalf("flow %s: probability %v, batch %v", decisionKey(d), d.Probability, w[best])
				}
			}
			if early == 0 || early == len(got) {
				t.Fatalf("%d of %d decisions early: want both kinds", early, len(got))
			}
		})
	}
}

// TestSavedBundleRoundTrip checks that a run directory's bundle names its features and loads
// from the file path directly.
func TestSavedBundleRoundTrip(t *testing.T) {
	f := getFixture(t)
	p := runner.ModelPath(f.runDir, "t1r0", "rf")
	b, err := saved.ReadFile(p, model.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if b.Name != "rf" || b.Type != "forest" || b.Trial != "t1r0" || len(b.TabNames) != data.NumStats {
		t.Fatalf("header %+v", b.Header)
	}
	c, err := realtime.Load(p, realtime.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Model.Classes() != len(b.ClassNames) {
		t.Fatal("classes")
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range []string{fix.dir, bench.dir} {
		if d != "" {
			os.RemoveAll(d)
		}
	}
	os.Exit(code)
}
