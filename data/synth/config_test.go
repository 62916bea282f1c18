package synth

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"defaults", Config{}, true},
		{"many classes", Config{Classes: 200}, true},
		{"negative classes", Config{Classes: -1}, false},
		{"too many classes", Config{Classes: 5001}, false},
		{"negative flows", Config{Flows: -5}, false},
		{"negative zipf", Config{Zipf: -1}, false},
		{"NaN zipf", Config{Zipf: math.NaN()}, false},
		{"negative rate", Config{Rate: -3}, false},
		{"infinite rate", Config{Rate: math.Inf(1)}, false},
		{"IPv6 share", Config{IPv6: 0.5}, true},
		{"IPv6 share above 1", Config{IPv6: 1.5}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.cfg.withDefaults()
			if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrConfig)) {
				t.Fatalf("err = %v, want ok=%v (ErrConfig otherwise)", err, tc.ok)
			}
		})
	}
}

// TestProceduralServices checks classes beyond the catalogue: unique names and SNIs, and real
// handshakes for them too.
func TestProceduralServices(t *testing.T) {
	l, err := NewLab(context.Background(), Config{Classes: 60, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	names, snis := map[string]bool{}, map[string]bool{}
	for _, s := range l.Services() {
		if names[s.Name] {
			t.Fatalf("duplicate service %s", s.Name)
		}
		names[s.Name] = true
		for _, n := range s.SNIs {
			if snis[n] {
				t.Fatalf("duplicate SNI %s", n)
			}
			snis[n] = true
		}
	}
	if len(names) != 60 {
		t.Fatalf("%d services", len(names))
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := Generate(ctx, Config{Classes: 10, Flows: 100000, Seed: 1}, func(time.Time, []byte) error {
		if n++; n == 1000 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestEmitErrorStops(t *testing.T) {
	stop := errors.New("stop")
	err := Generate(context.Background(), Config{Classes: 10, Flows: 1000, Seed: 1}, func(time.Time, []byte) error {
		return stop
	})
	if !errors.Is(err, stop) {
		t.Fatalf("err = %v, want the emit error", err)
	}
}

func TestWritePcapBadPath(t *testing.T) {
	dir := t.TempDir()
	err := WritePcap(context.Background(), Config{Flows: 5}, filepath.Join(dir, "missing", "x.pcap"))
	if err == nil {
		t.Fatal("no error for a missing directory")
	}
	// A cancelled run leaves nothing behind.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := filepath.Join(dir, "x.pcap")
	if err := WritePcap(ctx, Config{Flows: 50}, out); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("left behind: %v", ents)
	}
}
