package slurm

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// arrayJob describes a job-array batch script.
type arrayJob struct {
	// Name is the job name, Dir the run directory (absolute; the tasks' working directory).
	Name, Dir string
	Settings
	// Specs maps array indices to spec files; Command runs one (the spec path is appended).
	Specs   map[int]string
	Command []string
}

// script returns the batch script: #SBATCH lines for every option, then a case that picks the
// task's spec file and runs the worker on it. It checks the spec is readable first, so that a
// run directory the node cannot see fails with a message that says so.
func (j arrayJob) script() string {
	ids := make([]int, 0, len(j.Specs))
	for i := range j.Specs {
		ids = append(ids, i)
	}
	slices.Sort(ids)
	var b strings.Builder
	b.WriteString("#!/bin/bash\n")
	fmt.Fprintf(&b, "# etch job array: one task per trial of the run in %s.\n", j.Dir)
	fmt.Fprintf(&b, "# Written by etch run --executor slurm; submitted with sbatch %s.\n", "--parsable THIS_FILE")
	directive(&b, "job-name", j.Name)
	directive(&b, "array", FormatArray(ids, j.MaxParallel))
	directive(&b, "output", j.Dir+"/slurm/%A_%a.log")
	j.resources(&b, true)
	b.WriteString("set -u\ncase \"$SLURM_ARRAY_TASK_ID\" in\n")
	for _, i := range ids {
		fmt.Fprintf(&b, "  %d) spec=%s ;;\n", i, shellQuote(j.Specs[i]))
	}
	b.WriteString("  *) echo \"etch: no trial for array index $SLURM_ARRAY_TASK_ID\" >&2; exit 2 ;;\nesac\n")
	b.WriteString("if [ ! -r \"$spec\" ]; then\n")
	b.WriteString("  echo \"etch: $spec is not readable on $(hostname): the run directory must be on a filesystem shared with the compute nodes\" >&2\n  exit 2\nfi\n")
	fmt.Fprintf(&b, "exec %s \"$spec\"\n", quoteAll(j.Command))
	return b.String()
}

// resources writes the partition, time, CPU, memory and (for array tasks) GPU directives.
func (j arrayJob) resources(b *strings.Builder, task bool) {
	if j.Partition != "" {
		directive(b, "partition", j.Partition)
	}
	if j.Time != "" {
		directive(b, "time", j.Time)
	}
	if task {
		directive(b, "cpus-per-task", strconv.Itoa(max(1, j.CPUsPerTask)))
		if j.Mem != "" {
			directive(b, "mem", j.Mem)
		}
		if j.GPUs > 0 {
			directive(b, "gres", "gpu:"+strconv.Itoa(j.GPUs))
		}
	} else {
		directive(b, "cpus-per-task", "1")
	}
	directive(b, "export", "ALL")
	directive(b, "chdir", j.Dir)
}

// mergeScript returns the batch script of the merge job: after every task of the arrays has
// ended, however it ended (afterany), it runs command RUN_DIR (etch report --collect).
func (j arrayJob) mergeScript(after []string, command []string) string {
	var b strings.Builder
	b.WriteString("#!/bin/bash\n")
	fmt.Fprintf(&b, "# etch merge job: renders the report of the run in %s once the job arrays have ended.\n", j.Dir)
	directive(&b, "job-name", j.Name+"-merge")
	directive(&b, "dependency", "afterany:"+strings.Join(after, ":"))
	directive(&b, "kill-on-invalid-dep", "yes")
	directive(&b, "output", j.Dir+"/slurm/merge-%j.log")
	j.resources(&b, false)
	fmt.Fprintf(&b, "exec %s %s\n", quoteAll(command), shellQuote(j.Dir))
	return b.String()
}

// directive writes an #SBATCH line. Slurm splits these lines at white space and honours double
// quotes, so a value with spaces is quoted; values with quotes or newlines are refused earlier
// (checkDirective).
func directive(b *strings.Builder, name, value string) {
	if strings.ContainsAny(value, " \t") {
		value = `"` + value + `"`
	}
	fmt.Fprintf(b, "#SBATCH --%s=%s\n", name, value)
}

// checkDirective refuses a value an #SBATCH line cannot carry.
func checkDirective(what, value string) error {
	if strings.ContainsAny(value, "\"\n\r") {
		return fmt.Errorf("slurm: %s %q: a double quote or line break cannot go into an #SBATCH line", what, value)
	}
	return nil
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// jobName is the job name for an experiment: "etch-" and the name with odd characters replaced.
func jobName(experiment string) string {
	return "etch-" + unsafeName.ReplaceAllString(experiment, "_")
}

func quoteAll(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}

// shellQuote quotes s for bash when it holds anything but plain path characters.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
