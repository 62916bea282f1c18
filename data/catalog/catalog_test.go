package catalog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etchlab/etch/data"
)

// server serves content at /f with Range support; it records the Range headers it saw and can
// be told to cut the connection after some bytes or to ignore Range.
type server struct {
	mu        sync.Mutex
	content   []byte
	ranges    []string
	cutAfter  int // >0: send only this many bytes, then drop the connection
	noRange   bool
	requested int
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requested++
	s.ranges = append(s.ranges, r.Header.Get("Range"))
	cut, noRange, content := s.cutAfter, s.noRange, s.content
	s.cutAfter = 0
	s.mu.Unlock()
	if noRange {
		r.Header.Del("Range")
	}
	if cut > 0 {
		w.Header().Set("Content-Length", fmt.Sprint(len(content)))
		w.WriteHeader(http.StatusOK)
		w.Write(content[:cut])
		panic(http.ErrAbortHandler) // drop the connection mid-body
	}
	http.ServeContent(w, r, "f", time.Time{}, bytes.NewReader(content))
}

func setup(t *testing.T, n int) (*server, *httptest.Server, File) {
	content := make([]byte, n)
	for i := range content {
		content[i] = byte(i*7 + i/256)
	}
	s := &server{content: content}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	sum := sha256.Sum256(content)
	return s, ts, File{Name: "sub/f.bin", URL: ts.URL + "/f", Size: int64(n), SHA256: hex.EncodeToString(sum[:])}
}

func fetch(t *testing.T, f *Fetcher, file File) (string, error) {
	paths, err := f.Fetch(context.Background(), Entry{Name: "test", Files: []File{file}})
	if err != nil {
		return "", err
	}
	return paths[0], nil
}

func TestFetchAndCache(t *testing.T) {
	s, ts, file := setup(t, 100_000)
	f := &Fetcher{Client: ts.Client(), Dir: t.TempDir()}
	p, err := fetch(t, f, file)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, s.content) || p != filepath.Join(f.Dir, "test", "sub", "f.bin") {
		t.Fatalf("downloaded %s wrong", p)
	}
	if _, err := fetch(t, f, file); err != nil || s.requested != 1 {
		t.Errorf("second fetch: %v, %d requests (want the cache)", err, s.requested)
	}
	// A corrupted cache entry is downloaded again.
	os.WriteFile(p, []byte("junk"), 0o644)
	if _, err := fetch(t, f, file); err != nil || s.requested != 2 {
		t.Errorf("corrupt cache: %v, %d requests", err, s.requested)
	}
}

func TestFetchResume(t *testing.T) {
	s, ts, file := setup(t, 200_000)
	s.cutAfter = 70_000
	f := &Fetcher{Client: ts.Client(), Dir: t.TempDir()}
	_, err := fetch(t, f, file)
	if err == nil || !strings.Contains(err.Error(), "resume") {
		t.Fatalf("cut connection: err = %v", err)
	}
	part := filepath.Join(f.Dir, "test", "sub", "f.bin.part")
	st, err := os.Stat(part)
	if err != nil || st.Size() == 0 {
		t.Fatalf("no partial file kept: %v", err)
	}
	p, err := fetch(t, f, file)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, s.content) {
		t.Fatal("resumed file differs")
	}
	if want := fmt.Sprintf("bytes=%d-", st.Size()); s.ranges[1] != want {
		t.Errorf("resume sent Range %q, want %q", s.ranges[1], want)
	}
	if _, err := os.Stat(part); !os.IsNotExist(err) {
		t.Error("partial file left after success")
	}
}

func TestFetchServerIgnoresRange(t *testing.T) {
	s, ts, file := setup(t, 50_000)
	f := &Fetcher{Client: ts.Client(), Dir: t.TempDir()}
	part := filepath.Join(f.Dir, "test", "sub", "f.bin.part")
	os.MkdirAll(filepath.Dir(part), 0o755)
	os.WriteFile(part, s.content[:1000], 0o644)
	s.noRange = true
	p, err := fetch(t, f, file)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, s.content) {
		t.Fatal("restarted download differs")
	}
}

func TestFetchChecksum(t *testing.T) {
	_, ts, file := setup(t, 10_000)
	file.SHA256 = strings.Repeat("0", 64)
	f := &Fetcher{Client: ts.Client(), Dir: t.TempDir()}
	if _, err := fetch(t, f, file); !errors.Is(err, ErrChecksum) {
		t.Fatalf("err = %v, want ErrChecksum", err)
	}
	left, _ := filepath.Glob(filepath.Join(f.Dir, "test", "sub", "*"))
	if len(left) != 0 {
		t.Errorf("files left after a checksum failure: %v", left)
	}
}

func TestFetchUnverified(t *testing.T) {
	s, ts, file := setup(t, 10_000)
	file.SHA256 = ""
	f := &Fetcher{Client: ts.Client(), Dir: t.TempDir()}
	if _, err := fetch(t, f, file); !errors.Is(err, ErrUnverified) {
		t.Fatalf("err = %v, want ErrUnverified", err)
	}
	f.AllowUnverified = true
	p, err := fetch(t, f, file)
	if err != nil {
		t.Fatal(err)
	}
	pin, _ := os.ReadFile(p + ".sha256")
	sum := sha256.Sum256(s.content)
	if strings.TrimSpace(string(pin)) != hex.EncodeToString(sum[:]) {
		t.Errorf("pinned %q", pin)
	}
	// The upstream file changes: the pinned hash catches it.
	os.Remove(p)
	s.mu.Lock()
	s.content = append([]byte("x"), s.content[1:]...)
	s.mu.Unlock()
	file.Size = 0
	if _, err := fetch(t, f, file); !errors.Is(err, ErrChecksum) {
		t.Errorf("changed upstream: err = %v, want ErrChecksum", err)
	}
}

func TestFetchHTTPError(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	defer ts.Close()
	f := &Fetcher{Client: ts.Client(), Dir: t.TempDir()}
	_, err := fetch(t, f, File{Name: "x", URL: ts.URL + "/x", SHA256: strings.Repeat("a", 64)})
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("err = %v", err)
	}
	if _, err := f.Fetch(context.Background(), mustLookup(t, "gcseq25")); !errors.Is(err, ErrNoDownload) {
		t.Errorf("gcseq25: err = %v, want ErrNoDownload", err)
	}
}

func mustLookup(t *testing.T, name string) Entry {
	e, err := Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestCatalogue checks the catalogue's shape, and every recorded hash against the project's
// shared copy of the file where there is one.
func TestCatalogue(t *testing.T) {
	hexRE := regexp.MustCompile(`^[0-9a-f]{64}$`)
	local := map[string]string{
		"iscxvpn2016":        "../../../shared/data/iscxvpn2016",
		"cesnet-quic22-demo": "../../../shared/data/cesnet-quic22-demo/demo",
	}
	seen := map[string]bool{}
	for _, e := range Catalogue() {
		if seen[e.Name] || e.Title == "" || e.Homepage == "" || e.Licence == "" {
			t.Errorf("entry %+v: duplicate or incomplete", e)
		}
		seen[e.Name] = true
		if e.Importer == "" && e.Notes == "" {
			t.Errorf("%s: no importer and no note on how to import", e.Name)
		}
		for _, f := range e.Files {
			if !strings.HasPrefix(f.URL, "https://") || (f.SHA256 != "" && !hexRE.MatchString(f.SHA256)) {
				t.Errorf("%s: file %+v", e.Name, f)
			}
			dir, ok := local[e.Name]
			if !ok || f.SHA256 == "" {
				continue
			}
			p := filepath.Join(dir, f.Name)
			if _, err := os.Stat(p); err != nil {
				t.Logf("%s not present; hash not checked", p)
				continue
			}
			got, err := data.FileSHA256(p)
			if err != nil {
				t.Fatal(err)
			}
			if st, _ := os.Stat(p); got != f.SHA256 || st.Size() != f.Size {
				t.Errorf("%s: sha256 %s size %d, catalogue %s %d", p, got, st.Size(), f.SHA256, f.Size)
			}
		}
	}
	for _, want := range []string{"iscxvpn2016", "cesnet-tls22", "cesnet-quic22", "gcseq25", "gcstats"} {
		if !seen[want] {
			t.Errorf("catalogue lacks %s", want)
		}
	}
	if _, err := Lookup("nope"); !errors.Is(err, ErrUnknown) {
		t.Errorf("Lookup(nope) = %v", err)
	}
}

func ExampleLookup() {
	e, _ := Lookup("iscxvpn2016")
	size, known := e.Size()
	fmt.Println(e.Importer, len(e.Files), size, known)
	// Output: arff 5 14227309 true
}
