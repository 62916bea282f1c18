package importers

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etchlab/etch/data"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden is what a golden file holds: the summary, the footer and the records.
type golden struct {
	Rows    int            `json:"rows"`
	Skipped int            `json:"skipped"`
	Classes map[string]int `json:"classes"`
	Meta    data.Meta      `json:"meta"`
	Records []goldenRecord `json:"records"`
}

// goldenRecord keeps the columns importers fill; NaN is written as the string "NaN".
type goldenRecord struct {
	Capture, Label, Service, Category, Proto string
	QUIC                                     bool
	SeqSize, SeqPayload, SeqIATUS, SeqDir    []int32
	Extra                                    []string
}

func toGolden(t *testing.T, path string, s *Summary) []byte {
	t.Helper()
	recs, meta, err := data.ReadAll(path)
	if err != nil {
		t.Fatal(err)
	}
	g := golden{Rows: s.Rows, Skipped: s.Skipped, Classes: s.Classes, Meta: meta}
	for _, r := range recs {
		gr := goldenRecord{Capture: r.Capture, Label: r.Label, Service: r.Service, Category: r.Category,
			Proto: r.Proto, QUIC: r.QUIC, SeqSize: r.SeqSize, SeqPayload: r.SeqPayload, SeqIATUS: r.SeqIATUS, SeqDir: r.SeqDir}
		for _, v := range r.Extra {
			gr.Extra = append(gr.Extra, fmt.Sprint(v))
		}
		g.Records = append(g.Records, gr)
	}
	b, err := json.MarshalIndent(g, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		in   string
		opts Options
	}{
		{"gcseq_signed100.csv", Options{Format: "gcseq", Layout: "signed100"}},
		{"gcseq_study4x25.csv", Options{Format: "gcseq", Layout: "study4x25"}},
		{"small.arff", Options{Format: "arff"}},
		{"small.csv", Options{Format: "csv", LabelCol: "app", CategoryCol: "category", GroupCol: "src",
			Seq: map[string]string{"size": "sizes"}, Features: "pkts,dur"}},
		{"cesnet_small.json", Options{Format: "cesnet"}},
		{"cesnet_small.csv", Options{Format: "cesnet"}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out.parquet")
			tc.opts.Version = "test"
			s, err := ImportFile(context.Background(), filepath.Join("testdata", tc.in), out, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := toGolden(t, out, s)
			gold := filepath.Join("testdata", tc.in+".golden.json")
			if *update {
				if err := os.WriteFile(gold, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(gold)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s:\n%s", tc.in, gold, got)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	row := func(label string, n int, bad string) string {
		v := make([]string, n)
		for i := range v {
			v[i] = "1500"
		}
		if bad != "" {
			v[n/2] = bad
		}
		return label + "," + strings.Join(v, ",") + "\n"
	}
	for _, tc := range []struct {
		name, file, body string
		opts             Options
		target           error
		want             string
		skipRows         int // with SkipBad: rows imported
	}{
		{"layout", "a.csv", row("x", 100, "") + row("y", 100, ""), Options{Format: "gcseq", Layout: "study4x25"}, ErrLayout, "a.csv:1: column count does not fit the layout: direction block: value 1500 at column 77", -1},
		{"layout signed", "a2.csv", "x," + strings.Repeat("100,", 75) + strings.Repeat("1,", 24) + "-1\n", Options{Format: "gcseq"}, ErrLayout, "a2.csv:1: column count does not fit the layout: value 1 at column 77 is no packet size", -1},
		{"layout2", "b.csv", row("x", 50, ""), Options{Format: "gcseq"}, ErrLayout, "b.csv:1: column count does not fit the layout: 51 columns, layout signed100 wants 101", -1},
		{"number", "c.csv", row("x", 100, "") + row("y", 100, "abc") + row("z", 100, ""), Options{Format: "gcseq"}, ErrBadRow, `c.csv:2: column 52: "abc" is not a number`, 2},
		{"short row", "d.csv", row("x", 100, "") + row("y", 99, ""), Options{Format: "gcseq"}, ErrLayout, "d.csv:2:", 1},
		{"arff values", "e.arff", "@relation r\n@attribute a numeric\n@attribute c {x,y}\n@data\n1,x\n2\n3,y\n", Options{Format: "arff"}, ErrBadRow, "e.arff:6: 1 values, want 2", 2},
		{"arff class", "f.arff", "@relation r\n@attribute a numeric\n@attribute c {x,y}\n@data\n1,z\n", Options{Format: "arff"}, ErrBadRow, `f.arff:5: class "z"`, 0},
		{"arff header", "g.arff", "@relation r\n@attribute a blob\n@data\n", Options{Format: "arff"}, ErrBadRow, `g.arff:2: attribute "a": unsupported type`, -1},
		{"arff number", "h.arff", "@relation r\n@attribute a numeric\n@attribute c {x}\n@data\n1,x\nzz,x\n", Options{Format: "arff"}, ErrBadRow, `h.arff:6: attribute a: "zz" is not a number`, 1},
		{"csv fields", "i.csv", "label,a\nx,1\ny,2,3\n", Options{Format: "csv"}, ErrBadRow, "i.csv:3: 3 fields, header has 2", 1},
		{"csv number", "j.csv", "label,a,b\nx,1,2\ny,1,q\n", Options{Format: "csv", Features: "a,b"}, ErrBadRow, `j.csv:3: column b: "q" is not a number`, 1},
		{"csv seq", "k.csv", "label,s\nx,1;2\ny,1;2;3\n", Options{Format: "csv", Seq: map[string]string{"size": "s"}}, ErrBadRow, "k.csv:3: sequence size has 3 values", 1},
		{"cesnet", "l.json", `[{"ground_truth":"a","sequences":[[0],[1],[5]],"tabular":[]},` + "\n" + `{"ground_truth":"b","sequences":[[0,1],[1,1],[5,1]],"tabular":[]}]`, Options{Format: "cesnet"}, ErrBadRow, "l.json:2: sequence 0 has 2 values", 1},
		{"cesnet csv", "m.csv", "PPI,APP,BYTES\n\"[[0,1],[1,-1],[10,20]]\",a,5\n\"[[0],[1]]\",b,6\n", Options{Format: "cesnet"}, ErrBadRow, "m.csv:3: PPI", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := write(tc.file, tc.body)
			out := filepath.Join(dir, tc.name+".parquet")
			_, err := ImportFile(context.Background(), in, out, tc.opts)
			if err == nil || !errors.Is(err, tc.target) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.target, tc.want)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("output left behind after a failed import: %v", err)
			}
			if entries, _ := filepath.Glob(filepath.Join(dir, "."+tc.name+"*")); len(entries) > 0 {
				t.Errorf("temporary files left behind: %v", entries)
			}
			if tc.skipRows < 0 {
				return
			}
			tc.opts.SkipBad = true
			s, err := ImportFile(context.Background(), in, out, tc.opts)
			if err != nil {
				t.Fatalf("with SkipBad: %v", err)
			}
			if s.Rows != tc.skipRows || s.Skipped == 0 {
				t.Errorf("with SkipBad: %d rows, %d skipped; want %d rows", s.Rows, s.Skipped, tc.skipRows)
			}
		})
	}
}

// arffCounts counts an ARFF file's data rows and classes (last field) independently of the parser.
func arffCounts(t *testing.T, path string) (int, map[string]int) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	inData, n, classes := false, 0, map[string]int{}
	for sc.Scan() {
		s := strings.TrimSpace(sc.Text())
		if !inData {
			inData = strings.EqualFold(s, "@data")
			continue
		}
		if s == "" || strings.HasPrefix(s, "%") {
			continue
		}
		n++
		classes[s[strings.LastIndexByte(s, ',')+1:]]++
	}
	return n, classes
}

// TestISCX imports the ISCX VPN-nonVPN 2016 15 s files and checks rows and class counts
// against the ARFF files.
func TestISCX(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/data/iscxvpn2016/*/*15s*.arff")
	if len(files) == 0 {
		t.Skip("../shared/data/iscxvpn2016 not present")
	}
	for _, in := range files {
		t.Run(filepath.Base(filepath.Dir(in))+"/"+filepath.Base(in), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "iscx.parquet")
			s, err := ImportFile(context.Background(), in, out, Options{Format: "arff"})
			if err != nil {
				t.Fatal(err)
			}
			n, classes := arffCounts(t, in)
			if s.Rows != n || s.Skipped != 0 || fmt.Sprint(s.Classes) != fmt.Sprint(classes) {
				t.Errorf("imported %d rows %v, ARFF has %d %v", s.Rows, s.Classes, n, classes)
			}
			d, err := data.Load(context.Background(), out, data.LoadOptions{Features: []string{"extra"}, Label: "category"})
			if err != nil {
				t.Fatal(err)
			}
			if d.N != n || d.TabDim() != 23 || d.TabNames[0] != "duration" || d.TabNames[22] != "std_idle" {
				t.Errorf("loaded %d rows, features %v", d.N, d.TabNames)
			}
			for _, c := range d.ClassNames {
				if strings.HasPrefix(c, "VPN-") {
					t.Errorf("category %q keeps the VPN- prefix", c)
				}
			}
		})
	}
}

func TestCESNETDemo(t *testing.T) {
	in := "../../../shared/data/cesnet-quic22-demo/demo/demo_traces.json"
	if _, err := os.Stat(in); err != nil {
		t.Skip("../shared/data/cesnet-quic22-demo not present")
	}
	out := filepath.Join(t.TempDir(), "cesnet.parquet")
	s, err := ImportFile(context.Background(), in, out, Options{Format: "cesnet"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Rows != 150 || len(s.Classes) != 10 || s.Classes["youtube"] != 15 {
		t.Errorf("rows %d classes %v", s.Rows, s.Classes)
	}
	d, err := data.Load(context.Background(), out, data.LoadOptions{Features: []string{"seq_size", "seq_iat_us", "extra"}})
	if err != nil {
		t.Fatal(err)
	}
	// First sample: ipt log1p(ms) 1.9459 → e^1.9459−1 = 6 ms; size 1200 client→server.
	if d.SeqLen != 30 || d.Seq[0] != 1200 || d.Seq[3] != 6000 || d.TabDim() != 46 {
		t.Errorf("L=%d seq[:4]=%v tab=%d", d.SeqLen, d.Seq[:4], d.TabDim())
	}
	if math.IsNaN(float64(d.Tab[45])) {
		t.Error("version_idx missing")
	}
}

func ExampleImportFile() {
	dir, _ := os.MkdirTemp("", "etch-import")
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "flows.csv")
	os.WriteFile(in, []byte("app,sizes,dur\nweb,100;-1500;60,0.5\nchat,80;-90,1.25\n"), 0o644)
	s, err := ImportFile(context.Background(), in, filepath.Join(dir, "flows.parquet"), Options{
		Format: "csv", LabelCol: "app", Seq: map[string]string{"size": "sizes"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(s.Rows, s.ClassList(), s.Meta.SeqLen, s.Meta.ExtraNames)
	// Output: 2 [chat web] 3 [dur]
}
