package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// runCLI runs etch with args and returns the exit code, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, version: "test"}
	e.log = newTestLogger(&errb)
	code := run(context.Background(), e, args)
	return code, out.String(), errb.String()
}

func TestDispatch(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		out  string
		err  string
	}{
		{[]string{"version"}, 0, "etch test", ""},
		{[]string{"help"}, 0, "Commands:", ""},
		{nil, 2, "Commands:", ""},
		{[]string{"nope"}, 2, "", `unknown command "nope"`},
		{[]string{"version", "--bogus"}, 2, "", "flag provided but not defined"},
	} {
		code, out, errs := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errs, tc.err) {
			t.Errorf("etch %v = %d, %q, %q", tc.args, code, out, errs)
		}
	}
}
