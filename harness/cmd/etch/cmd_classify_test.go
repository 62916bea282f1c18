package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// classifyFixture is a run directory with saved models (rf, cnn; K = 30) and a test capture.
type classifyFixture struct {
	dir, run, pcap string
}

var (
	clOnce sync.Once
	clFix  classifyFixture
	clErr  error
)

const classifyExperiment = `name: cl
seed: 5
backend: cpu
data:
  path: train.parquet
  features: [stats, seq_size, seq_dir]
  packets: 30
  scale: standard
split: {kind: stratified, test: 0.2}
models:
  - {name: rf, type: forest, trees: 10}
  - {name: cnn, type: cnn_lstm, epochs: 1, batch: 64, filters: [8], units: [8], dense: [8], features: [seq_size, seq_dir]}
`

func getClassifyFixture(t *testing.T) *classifyFixture {
	t.Helper()
	clOnce.Do(func() {
		dir, err := os.MkdirTemp("", "etch-classify-")
		if err != nil {
			clErr = err
			return
		}
		clFix = classifyFixture{dir: dir, run: filepath.Join(dir, "run"), pcap: filepath.Join(dir, "test.pcap")}
		for _, args := range [][]string{
			{"data", "synth", "--flows", "800", "--classes", "4", "--seed", "1", "-o", filepath.Join(dir, "train.parquet")},
			{"data", "synth", "--flows", "60", "--classes", "4", "--seed", "2", "-o", clFix.pcap},
		} {
			if code, _, stderr := runCLI(t, args...); code != 0 {
				clErr = fmt.Errorf("%v: exit %d: %s", args, code, stderr)
				return
			}
		}
		exp := filepath.Join(dir, "cl.yaml")
		if err := os.WriteFile(exp, []byte(strings.ReplaceAll(classifyExperiment, "train.parquet", filepath.Join(dir, "train.parquet"))), 0o644); err != nil {
			clErr = err
			return
		}
		if code, _, stderr := runCLI(t, "run", exp, "--out", clFix.run, "--cache", "off", "--progress", "lines"); code != 0 {
			clErr = fmt.Errorf("run: exit %d: %s", code, stderr)
		}
	})
	if clErr != nil {
		t.Fatal(clErr)
	}
	return &clFix
}

type decision struct {
	Proto       string  `json:"proto"`
	SrcPort     int     `json:"src_port"`
	DstPort     int     `json:"dst_port"`
	SNI         string  `json:"sni"`
	Label       string  `json:"label"`
	Probability float64 `json:"probability"`
	Top3        []struct {
		Label string  `json:"label"`
		P     float64 `json:"p"`
	} `json:"top3"`
	Packets   int    `json:"packets"`
	Reason    string `json:"reason"`
	LatencyUS *int64 `json:"latency_us"`
}

func parseDecisions(t *testing.T, out string) []decision {
	t.Helper()
	var ds []decision
	for i, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var d decision
		dec := json.NewDecoder(strings.NewReader(line))
		if err := dec.Decode(&d); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, line)
		}
		if d.Label == "" || d.LatencyUS == nil || len(d.Top3) == 0 || d.Top3[0].Label != d.Label || d.Packets == 0 {
			t.Fatalf("line %d: incomplete decision %s", i+1, line)
		}
		ds = append(ds, d)
	}
	return ds
}

// key drops the latency, which differs run to run, and the probabilities, which may differ in
// the last bits with the micro-batch sizes (neural models); prob compares those.
func (d decision) key() string {
	d.LatencyUS = nil
	d.Probability = 0
	d.Top3 = nil
	b, _ := json.Marshal(d)
	return string(b)
}

func (d decision) prob(o decision) bool { return math.Abs(d.Probability-o.Probability) < 1e-5 }

func TestClassifyFileAndStdin(t *testing.T) {
	f := getClassifyFixture(t)
	for _, name := range []string{"rf", "cnn"} {
		code, out, stderr := runCLI(t, "classify", "--model", f.run, "--name", name, f.pcap)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, stderr)
		}
		ds := parseDecisions(t, out)
		if len(ds) != 60 || !strings.Contains(stderr, "classify (final): ") || !strings.Contains(stderr, "decisions 60") {
			t.Fatalf("%s: %d decisions; stderr:\n%s", name, len(ds), stderr)
		}
		capture, err := os.ReadFile(f.pcap)
		if err != nil {
			t.Fatal(err)
		}
		code, out2, stderr := runCLIStdin(t, bytes.NewReader(capture), "classify", "--model", f.run, "--name", name, "-")
		if code != 0 {
			t.Fatalf("%s stdin: exit %d: %s", name, code, stderr)
		}
		ds2 := parseDecisions(t, out2)
		want := map[string]decision{}
		for _, d := range ds {
			want[d.key()] = d
		}
		for _, d := range ds2 {
			w, ok := want[d.key()]
			if !ok || !d.prob(w) {
				t.Fatalf("%s: stdin decision %s (p %v) not among the file's", name, d.key(), d.Probability)
			}
		}
		if len(ds2) != len(ds) {
			t.Fatalf("%s: %d decisions from stdin, %d from the file", name, len(ds2), len(ds))
		}
	}
}

func runCLIStdin(t *testing.T, stdin io.Reader, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: stdin, stdout: &out, stderr: &errb, version: "test"}
	e.log = newTestLogger(&errb)
	return run(context.Background(), e, args), out.String(), errb.String()
}

// asMain makes the test binary run etch's main (with its signal handling) when set to 1.
const asMain = "ETCH_TEST_RUN_AS_MAIN"

func init() {
	if os.Getenv(asMain) == "1" {
		main()
	}
}

// startClassify starts etch classify (the test binary acting as etch) reading stdin from a pipe.
func startClassify(t *testing.T, args ...string) (*exec.Cmd, io.WriteCloser, *bufio.Scanner, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"classify"}, args...)...)
	cmd.Env = append(os.Environ(), asMain+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, stdin, bufio.NewScanner(stdout), &stderr
}

// TestClassifyStreamsStdin feeds a capture through a pipe in two parts and sees decisions before
// the second part is written: stdin is classified as it streams, not after EOF. Then SIGUSR1
// prints the counters, and SIGTERM flushes the open flows (reason eof) and exits 0.
func TestClassifyStreamsStdin(t *testing.T) {
	f := getClassifyFixture(t)
	capture, err := os.ReadFile(f.pcap)
	if err != nil {
		t.Fatal(err)
	}
	cmd, stdin, lines, stderr := startClassify(t, "--model", f.run, "--name", "rf", "-")
	half := len(capture) / 2
	if _, err := stdin.Write(capture[:half]); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1000)
	go func() {
		for lines.Scan() {
			got <- lines.Text()
		}
		close(got)
	}()
	var n int
	select {
	case <-got:
		n++
	case <-time.After(60 * time.Second): // a failure deadline, not a performance bound
		t.Fatalf("no decision while stdin stays open; stderr:\n%s", stderr)
	}
	cmd.Process.Signal(syscall.SIGUSR1)
	// Stop in the middle: the rest of the capture is never written.
	time.Sleep(200 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	var eof int
	for line := range got {
		n++
		if strings.Contains(line, `"reason":"eof"`) {
			eof++
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v; stderr:\n%s", err, stderr)
	}
	if eof == 0 || n >= 60 {
		t.Fatalf("%d decisions, %d at eof: want the open flows flushed at SIGTERM; stderr:\n%s", n, eof, stderr)
	}
	if !strings.Contains(stderr.String(), "classify (SIGUSR1): ") || !strings.Contains(stderr.String(), "classify (final): ") {
		t.Fatalf("counters missing from stderr:\n%s", stderr)
	}
}

func TestClassifyBadInputs(t *testing.T) {
	f := getClassifyFixture(t)
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.bin")
	os.WriteFile(junk, []byte("this is not a model, nor a capture"), 0o644)
	trunc := filepath.Join(dir, "trunc.pcap")
	capture, _ := os.ReadFile(f.pcap)
	os.WriteFile(trunc, capture[:len(capture)*2/3], 0o644)
	bareForest := filepath.Join(dir, "rf.forest")
	{ // a bare forest: the bundle's body without the header
		b, _ := os.ReadFile(filepath.Join(f.run, "models", "t1r0", "rf.etchm"))
		i := bytes.Index(b, []byte("ETCHFRST"))
		os.WriteFile(bareForest, b[i:], 0o644)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"no model", []string{f.pcap}, 2, "need --model"},
		{"no input", []string{"--model", f.run}, 2, "need exactly one input"},
		{"input and iface", []string{"--model", f.run, "--iface", "lo", f.pcap}, 2, "need exactly one input"},
		{"missing model", []string{"--model", filepath.Join(dir, "nope"), f.pcap}, 1, "no such file"},
		{"junk model", []string{"--model", junk, f.pcap}, 1, "not a saved etch model"},
		{"several models", []string{"--model", f.run, f.pcap}, 1, "pick one by name"},
		{"unknown trial", []string{"--model", f.run, "--trial", "t9", f.pcap}, 1, `no trial "t9"`},
		{"unknown name", []string{"--model", f.run, "--name", "svm", f.pcap}, 1, `no saved model "svm"`},
		{"bare without features", []string{"--model", bareForest, f.pcap}, 1, "give its features"},
		{"bare without K", []string{"--model", bareForest, "--features", "stats,seq_size,seq_dir", f.pcap}, 1, "give the packets K"},
		{"bare bad feature", []string{"--model", bareForest, "--features", "stats,sni", "--packets", "30", f.pcap}, 1, `"sni"`},
		{"bare wrong classes", []string{"--model", bareForest, "--features", "stats,seq_size,seq_dir", "--packets", "30", "--classes", "a,b", f.pcap}, 1, "2 class names given"},
		{"missing capture", []string{"--model", f.run, "--name", "rf", filepath.Join(dir, "none.pcap")}, 1, "none.pcap"},
		{"junk capture", []string{"--model", f.run, "--name", "rf", junk}, 1, "junk.bin"},
		{"no such interface", []string{"--model", f.run, "--name", "rf", "--iface", "nosuchif0"}, 1, "nosuchif0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, append([]string{"classify"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.err) {
				t.Fatalf("exit %d, want %d; stderr does not contain %q:\n%s", code, tc.code, tc.err, stderr)
			}
		})
	}
	// A bare model described by flags works, and a truncated capture keeps what was read.
	code, out, stderr := runCLI(t, "classify", "--model", bareForest, "--features", "stats,seq_size,seq_dir", "--packets", "30", trunc)
	if code != 0 || !strings.Contains(stderr, "capture truncated") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if ds := parseDecisions(t, out); len(ds) == 0 || !strings.HasPrefix(ds[0].Label, "class") {
		t.Fatalf("bare model decisions: %v", ds)
	}
}

// TestRunSavesModelsProcessExecutor checks that trials run in worker processes save their models
// in the run directory too, and that etch classify uses them.
func TestRunSavesModelsProcessExecutor(t *testing.T) {
	f := getClassifyFixture(t)
	t.Setenv(asEtch, "1")
	out := filepath.Join(t.TempDir(), "run")
	code, _, stderr := runCLI(t, "run", filepath.Join(f.dir, "cl.yaml"), "--out", out, "--cache", "off", "--executor", "process", "--progress", "lines")
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	for _, name := range []string{"rf", "cnn"} {
		if _, err := os.Stat(filepath.Join(out, "models", "t1r0", name+".etchm")); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr := runCLI(t, "classify", "--model", out, "--name", "rf", f.pcap)
	if code != 0 || len(parseDecisions(t, stdout)) != 60 {
		t.Fatalf("classify: exit %d: %s", code, stderr)
	}
}
