package nn

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etchlab/etch/harness/model"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// TestPresetSummaryGolden pins every preset's full-size architecture on GCseq-shaped input (100
// packet sizes, 25 classes; dnn also with 10 statistics): layer shapes and parameter counts.
func TestPresetSummaryGolden(t *testing.T) {
	var sb strings.Builder
	for _, kind := range Presets() {
		m, err := New(kind, Params{}, model.Env{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		m.arch.SeqLen, m.arch.SeqChannels, m.arch.Classes = 100, 1, 25
		m.useSeq = true
		if kind == PresetDNN {
			m.arch.Tab, m.useTab = 10, true
		}
		nw, err := buildNetwork(m.b, m.arch, 1)
		if err != nil {
			t.Fatal(err)
		}
		m.nw = nw
		sb.WriteString(m.Summary())
		m.Close()
	}
	path := filepath.Join("testdata", "presets.golden")
	if *update {
		if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestPresetSummaryGolden -update)", err)
	}
	if sb.String() != string(want) {
		t.Errorf("preset architectures changed:\n%s\nwant:\n%s", sb.String(), want)
	}
}
