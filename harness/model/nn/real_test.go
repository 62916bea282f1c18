package nn

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/etchlab/etch/harness/model"
)

// cesnetDemo reads ../shared/data/cesnet-quic22-demo (150 real CESNET-QUIC22 flows, 10 apps × 15,
// 3 × 30 per-packet values and 45 statistics) as a train split (10 per app) and a test split (5
// per app). The file is parsed here directly: this is a smoke test of the models on real
// sequences, not an importer.
func cesnetDemo(t *testing.T) (train, test *model.Data) {
	t.Helper()
	path := filepath.Join("..", "..", "..", "..", "shared", "data", "cesnet-quic22-demo", "demo", "demo_traces.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("real data not available (%v); it lives in ../shared/data", err)
	}
	var flows []struct {
		GroundTruth string      `json:"ground_truth"`
		Sequences   [][]float64 `json:"sequences"`
		Tabular     []float64   `json:"tabular"`
	}
	if err := json.Unmarshal(raw, &flows); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	classes := map[string]int{}
	var names []string
	for _, f := range flows {
		if _, ok := classes[f.GroundTruth]; !ok {
			classes[f.GroundTruth] = 0
			names = append(names, f.GroundTruth)
		}
	}
	sort.Strings(names)
	for i, n := range names {
		classes[n] = i
	}
	mk := func() *model.Data {
		d := &model.Data{SeqLen: 30, SeqChannels: []string{"seq_iat", "seq_dir", "seq_size"}, Classes: len(names), ClassNames: names}
		for i := range 45 {
			d.TabNames = append(d.TabNames, "stat"+string(rune('A'+i%26))+string(rune('a'+i/26)))
		}
		return d
	}
	train, test = mk(), mk()
	seen := map[string]int{}
	for i, f := range flows {
		if len(f.Sequences) != 3 || len(f.Tabular) != 45 {
			t.Fatalf("%s: flow %d has %d sequences, %d statistics", path, i, len(f.Sequences), len(f.Tabular))
		}
		d := train
		if seen[f.GroundTruth]++; seen[f.GroundTruth] > 10 {
			d = test
		}
		for s := range 30 {
			for c := range 3 {
				d.Seq = append(d.Seq, float32(f.Sequences[c][s]))
			}
		}
		for _, v := range f.Tabular {
			d.Tab = append(d.Tab, float32(v))
		}
		d.Y = append(d.Y, int32(classes[f.GroundTruth]))
		d.N++
	}
	return train, test
}

// TestRealQUICFlows trains cnn_lstm (sequences) and dnn (sequences and statistics) on real QUIC
// flows of 10 apps and checks that both beat chance (10%) clearly on held-out flows.
func TestRealQUICFlows(t *testing.T) {
	train, test := cesnetDemo(t)
	for _, c := range []struct {
		kind   string
		params map[string]any
		min    float64
	}{
		{PresetCNNLSTM, map[string]any{"epochs": 40, "batch": 16, "lr": 0.005, "val": 0, "filters": []int{16}, "units": []int{16}, "dense": []int{16}}, 0.3},
		{PresetDNN, map[string]any{"epochs": 40, "batch": 16, "lr": 0.003, "val": 0, "dense": []int{64, 32}}, 0.4},
	} {
		m := newModel(t, c.kind, c.params, 1)
		if err := m.Fit(context.Background(), train, nil); err != nil {
			t.Fatal(err)
		}
		acc := accuracy(t, m, test)
		t.Logf("%s on 100 real CESNET-QUIC22 flows, 10 apps: held-out accuracy %.2f", c.kind, acc)
		if acc < c.min {
			t.Errorf("%s: accuracy %.2f on held-out real flows, want ≥ %.2f", c.kind, acc, c.min)
		}
		m.Close()
	}
}
