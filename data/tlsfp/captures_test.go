package tlsfp

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// goldenRow is one flow with a fingerprint or an error, as stored in the golden files.
type goldenRow struct {
	Flow   string `json:"flow"`
	Result Result `json:"result"`
	Err    string `json:"err,omitempty"`
}

// TestAllCaptures runs every capture under the shared data through the Tracker: none may
// panic, the captures the test reader cannot read must fail with an error naming the file
// and the offset, and every flow's result must equal its golden file (go test -update
// rewrites them).
func TestAllCaptures(t *testing.T) {
	needData(t)
	caps := captures(t)
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range caps {
			if !yield(k) {
				return
			}
		}
	})
	for _, name := range names {
		path := caps[name]
		t.Run(name, func(t *testing.T) {
			rs, err := track(t, path)
			if _, bad := unreadable[name]; bad {
				if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "offset") {
					t.Errorf("want an error naming %s and an offset, got %v", path, err)
				} else {
					t.Logf("error as expected: %v", err)
				}
			} else if err != nil {
				t.Fatalf("read: %v", err)
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			for _, r := range rs {
				if r.res == (Result{}) && r.err == nil {
					continue
				}
				proto := "tcp"
				if r.f.UDP {
					proto = "udp"
				}
				row := goldenRow{Flow: fmt.Sprintf("%s %s:%d>%s:%d", proto, r.f.Client, r.f.ClientPort, r.f.Server, r.f.SrvPort), Result: r.res}
				if r.err != nil {
					row.Err = r.err.Error()
				}
				if err := enc.Encode(row); err != nil {
					t.Fatal(err)
				}
			}
			golden := filepath.Join("testdata", "golden", name+".jsonl")
			if *update {
				if buf.Len() == 0 {
					os.Remove(golden)
					return
				}
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("results differ from %s (run go test -run TestAllCaptures -update and review the diff):\n%s", golden, firstDiff(buf.String(), string(want)))
			}
		})
	}
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n got  %s\n want %s", i+1, a, b)
		}
	}
	return ""
}
