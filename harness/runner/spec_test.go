package runner

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestSpecRoundTrip(t *testing.T) {
	f := newFixture(t, testExperiment)
	specs, err := Plan(f.exp, f.opts("x"))
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 3 || specs[0].Key == specs[1].Key || specs[0].Seed != specs[1].Seed {
		t.Fatalf("plan: %d specs, keys %s %s", len(specs), specs[0].Key, specs[1].Key)
	}
	path := filepath.Join(f.dir, "s.spec.json")
	if err := WriteSpec(path, specs[1]); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSpec(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Config.Hash() != specs[1].Config.Hash() || got.Key != specs[1].Key || got.Params["data.filter.top_n"] != 3.0 {
		t.Errorf("round trip changed the spec: %+v", got)
	}
	// The key depends on the content, not the file name or the experiment's name.
	specs2, _ := Plan(f.exp, Options{Version: "test", WorkDir: f.dir})
	f.exp.Name = "renamed"
	specs3, _ := Plan(f.exp, Options{Version: "test", WorkDir: f.dir})
	specs4, _ := Plan(f.exp, Options{Version: "other", WorkDir: f.dir})
	if specs2[0].Key != specs3[0].Key || specs3[0].Key == specs4[0].Key {
		t.Error("cache key depends on the name or ignores the version")
	}
}

func TestReadSpecErrors(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"garbage":    "{",
		"version":    `{"version": 9, "id": "t1r0", "config": {}}`,
		"no config":  `{"version": 1, "id": "t1r0"}`,
		"bad config": `{"version": 1, "id": "t1r0", "config": {"name": "x", "data": {"path": "p"}, "models": []}}`,
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadSpec(p); !errors.Is(err, ErrSpec) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := ReadSpec(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}

func FuzzReadSpec(f *testing.F) {
	f.Add([]byte(`{"version": 1, "id": "t1r0", "config": {"name": "x", "data": {"path": "p"}, "models": [{"name": "a", "type": "t"}]}}`))
	f.Add([]byte(`{"version": 1, "id": "t1r0", "config": {"name": "x", "sweep": [{"key": "seed", "values": [1]}]}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "s.json")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		_, _ = ReadSpec(p)
		_, _ = ReadResult(p)
	})
}
