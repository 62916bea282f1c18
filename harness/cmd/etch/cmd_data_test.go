package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestDataCommands(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "small.parquet")
	arff := "../../../data/importers/testdata/small.arff"
	for _, tc := range []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"data"}, 2, "", "Subcommands:"},
		{[]string{"data", "help"}, 0, "", "import"},
		{[]string{"data", "nope"}, 2, "", `unknown subcommand "nope"`},
		{[]string{"data", "import", arff}, 2, "", "want --format"},
		{[]string{"data", "import", "--format", "arff", arff, "-o", out}, 0, "imported 4 rows (0 skipped), 3 classes", ""},
		{[]string{"data", "import", "--format", "gcseq", arff, "-o", out + "2"}, 1, "", "small.arff:1: column count does not fit the layout"},
		{[]string{"data", "import", "--format", "csv", "--seq", "bad", arff, "-o", out}, 2, "", "want CHANNEL=COLUMNS"},
		{[]string{"data", "info", out}, 0, "rows:       4", ""},
		{[]string{"data", "info", out, "--label", "category"}, 0, "50.0%  CHAT", ""},
		{[]string{"data", "info", filepath.Join(dir, "missing.parquet")}, 1, "", "missing.parquet"},
		{[]string{"data", "list"}, 0, "iscxvpn2016", ""},
		{[]string{"data", "fetch", "nope"}, 1, "", "no such dataset"},
		{[]string{"data", "fetch", "gcseq25", "-o", dir}, 1, "", "no public download"},
		{[]string{"data", "fetch", "cesnet-quic22", "-o", dir}, 1, "", "--allow-unverified"},
	} {
		code, stdout, stderr := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(stdout, tc.out) || !strings.Contains(stderr, tc.err) {
			t.Errorf("etch %v = %d\nstdout %q\nstderr %q", tc.args, code, stdout, stderr)
		}
	}
	code, stdout, _ := runCLI(t, "data", "info", "--json", out)
	var info struct {
		Rows       int `json:"rows"`
		NumClasses int `json:"num_classes"`
		Meta       struct{ ExtraNames []string }
		Classes    []struct {
			Name  string
			Count int
		}
	}
	if err := json.Unmarshal([]byte(stdout), &info); code != 0 || err != nil {
		t.Fatalf("info --json: %d %v\n%s", code, err, stdout)
	}
	if info.Rows != 4 || info.NumClasses != 3 || len(info.Meta.ExtraNames) != 3 || info.Classes[0].Name != "VPN-CHAT" {
		t.Errorf("info --json = %+v", info)
	}
	code, stdout, _ = runCLI(t, "data", "list", "--json")
	if code != 0 || !strings.Contains(stdout, "8d324364dd8daaeef57b5dd476dc2995ecc9b84a88ea2fd8115ca1778b83ab24") {
		t.Errorf("list --json: %d %s", code, stdout)
	}
}
