package tlsfp

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestJA4RawPython checks JA4_r against the FoxIO Python reference output for every flow
// whose JA4 the Python tool computes the same way as etch (and the canonical Rust tool).
func TestJA4RawPython(t *testing.T) {
	needData(t)
	jsons, _ := filepath.Glob(filepath.Join(sharedData, "ja4/python/test/testdata/*.json"))
	compared, skipped := 0, 0
	for _, js := range jsons {
		name := strings.TrimSuffix(filepath.Base(js), ".json")
		b, err := os.ReadFile(js)
		if err != nil {
			t.Fatal(err)
		}
		var entries []map[string]any
		if err := json.Unmarshal(b, &entries); err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		if len(entries) == 0 {
			continue
		}
		rs, err := track(t, filepath.Join(sharedData, "ja4/pcap", name))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		byKey := map[string]Result{}
		for _, r := range rs {
			byKey[fmt.Sprintf("%s:%d>%s:%d", r.f.Client, r.f.ClientPort, r.f.Server, r.f.SrvPort)] = r.res
		}
		for _, e := range entries {
			ja4, _ := e["JA4.1"].(string)
			raw, _ := e["JA4_r.1"].(string)
			if ja4 == "" {
				continue
			}
			k := fmt.Sprintf("%v:%v>%v:%v", e["src"], e["srcport"], e["dst"], e["dstport"])
			got, ok := byKey[k]
			if !ok || got.JA4 != ja4 {
				skipped++ // Python's JA4 differs from Rust's here; the Rust test covers it
				continue
			}
			compared++
			if got.JA4R != raw {
				t.Errorf("%s %s: JA4_r\n got  %s\n want %s", name, k, got.JA4R, raw)
			}
		}
	}
	if compared == 0 {
		t.Fatal("no JA4_r compared")
	}
	t.Logf("JA4_r vs FoxIO Python: %d flows compared, %d skipped (Python JA4 differs)", compared, skipped)
}
