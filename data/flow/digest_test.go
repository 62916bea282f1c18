package flow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/etchlab/etch/data"
)

func sha256File(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestDigestCache checks that a cached digest is used only while the file's identity is
// unchanged, and that entries are not written for files changed too recently.
func TestDigestCache(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the digest cache reads the change time on Linux only")
	}
	later := func() time.Time { return time.Now().Add(time.Second) } // the file counts as settled
	for _, tc := range []struct {
		name    string
		settle  time.Duration
		change  func(t *testing.T, path string) // between the first and the second hashing
		wantHit bool
	}{
		{"unchanged", 0, func(*testing.T, string) {}, true},
		{"appended", 0, func(t *testing.T, p string) { appendFile(t, p, []byte("x")) }, false},
		{"rewritten same size", 0, func(t *testing.T, p string) {
			b, _ := os.ReadFile(p)
			b[0] ^= 1
			st, _ := os.Stat(p)
			os.WriteFile(p, b, 0o644)
			os.Chtimes(p, st.ModTime(), st.ModTime()) // mtime restored: ctime still tells
		}, false},
		{"chmod", 0, func(t *testing.T, p string) { os.Chmod(p, 0o600) }, false},
		{"replaced", 0, func(t *testing.T, p string) {
			b, _ := os.ReadFile(p)
			os.WriteFile(p+".new", b, 0o644)
			os.Rename(p+".new", p)
		}, false},
		{"entry damaged", 0, func(t *testing.T, p string) {
			ents, _ := filepath.Glob(filepath.Join(filepath.Dir(p), "cache", "*.digest"))
			for _, e := range ents {
				os.WriteFile(e, []byte("etch-digest-v1 garbage\n"), 0o644)
			}
		}, false},
		{"too recent to cache", time.Hour, func(*testing.T, string) {}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "in.pcap")
			if err := os.WriteFile(path, smallPcap(t, 50), 0o644); err != nil {
				t.Fatal(err)
			}
			c := &digestCache{dir: filepath.Join(dir, "cache"), settle: tc.settle, now: later}
			sum, cached, err := c.hashInput(path)
			if err != nil || cached || sum != sha256File(t, path) {
				t.Fatalf("first: %s cached=%v err=%v, want %s", sum, cached, err, sha256File(t, path))
			}
			tc.change(t, path)
			sum, cached, err = c.hashInput(path)
			if err != nil {
				t.Fatal(err)
			}
			if cached != tc.wantHit || sum != sha256File(t, path) {
				t.Fatalf("second: %s cached=%v, want %s cached=%v", sum, cached, sha256File(t, path), tc.wantHit)
			}
		})
	}
}

func appendFile(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

// TestExtractDigestCache runs Extract twice over a shared capture (unchanged for far longer
// than digestSettle) with a digest cache: the second run takes the digest from the cache, and
// both record the file's SHA-256.
func TestExtractDigestCache(t *testing.T) {
	needShared(t)
	if runtime.GOOS != "linux" {
		t.Skip("the digest cache reads the change time on Linux only")
	}
	in := filepath.Join(sharedData, "ja4/pcap/tls-alpn-h2.pcap")
	if id, ok := statID(in); !ok || time.Since(time.Unix(0, id.ctimeNs)) < digestSettle+time.Second {
		t.Skip("capture changed too recently to be cached")
	}
	cfg := Config{DigestCache: t.TempDir(), NoTLS: true}
	want := sha256File(t, in)
	for run, wantCached := range []int{0, 1} {
		sum, err := Extract(context.Background(), []string{in}, cfg, func(*data.Record) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		if sum.Inputs[0].SHA256 != want || sum.DigestsCached != wantCached {
			t.Fatalf("run %d: sha256 %s cached %d, want %s cached %d", run, sum.Inputs[0].SHA256, sum.DigestsCached, want, wantCached)
		}
	}
}
