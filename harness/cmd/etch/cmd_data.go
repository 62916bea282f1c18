package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/etchlab/etch/data"
	"github.com/etchlab/etch/data/catalog"
	"github.com/etchlab/etch/data/importers"
)

// dataCommands lists the subcommands of `etch data`; adding one is one line.
func dataCommands() []command {
	return []command{
		{"info", "rows, columns, footer metadata and top classes of a flows file", runDataInfo},
		{"import", "import a third-party dataset (gcseq, arff, csv, cesnet) into a flows file", runDataImport},
		{"list", "list the dataset catalogue", runDataList},
		{"fetch", "download a catalogue dataset into the cache (resumable, verified)", runDataFetch},
	}
}

// runData dispatches `etch data SUBCOMMAND`.
func runData(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(e.stderr, "Usage: etch data SUBCOMMAND [flags] [args]\n\nSubcommands:")
		tw := tabwriter.NewWriter(e.stderr, 0, 8, 2, ' ', 0)
		for _, c := range dataCommands() {
			fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
		}
		tw.Flush()
		if len(args) == 0 {
			return fmt.Errorf("%w: missing subcommand", errUsage)
		}
		return flag.ErrHelp
	}
	for _, c := range dataCommands() {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	return fmt.Errorf("%w: unknown subcommand %q (see etch data help)", errUsage, args[0])
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func runDataInfo(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "data info", "FILE.parquet")
	asJSON := fs.Bool("json", false, "print JSON")
	top := fs.Int("top", 20, "number of classes to print (0: all)")
	label := fs.String("label", "label", "class column: label, service or category")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: want one FILE.parquet", errUsage)
	}
	info, err := data.Describe(ctx, fs.Arg(0), *label)
	if err != nil {
		return err
	}
	classes := len(info.Classes)
	if *top > 0 && len(info.Classes) > *top {
		info.Classes = info.Classes[:*top]
	}
	if *asJSON {
		return writeJSON(e.stdout, struct {
			*data.Info
			NumClasses int `json:"num_classes"`
		}{info, classes})
	}
	w := e.stdout
	fmt.Fprintf(w, "file:       %s (%d bytes, %d row groups)\n", info.Path, info.Bytes, info.RowGroups)
	fmt.Fprintf(w, "rows:       %d\n", info.Rows)
	fmt.Fprintf(w, "classes:    %d (column %s)\n", classes, info.LabelColumn)
	fmt.Fprintf(w, "columns:    %d\n", len(info.Columns))
	line := "           "
	for _, c := range info.Columns {
		col := " " + c.Name + ":" + c.Type
		if len(line)+len(col) > 100 {
			fmt.Fprintln(w, line)
			line = "           "
		}
		line += col
	}
	fmt.Fprintln(w, line)
	fmt.Fprintln(w, "footer:")
	keys := make([]string, 0, len(info.Footer))
	for k := range info.Footer {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, k := range keys {
		fmt.Fprintf(tw, "  %s\t%s\n", k, info.Footer[k])
	}
	tw.Flush()
	fmt.Fprintf(w, "top classes:\n")
	tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.AlignRight)
	for _, c := range info.Classes {
		fmt.Fprintf(tw, "  %d\t%.1f%%\t  %s\n", c.Count, 100*float64(c.Count)/float64(max(info.Rows, 1)), c.Name)
	}
	return tw.Flush()
}

// seqFlag collects repeated --seq CHANNEL=COLUMNS flags.
type seqFlag map[string]string

func (s seqFlag) String() string { return fmt.Sprint(map[string]string(s)) }
func (s seqFlag) Set(v string) error {
	ch, cols, ok := strings.Cut(v, "=")
	if !ok || ch == "" || cols == "" {
		return fmt.Errorf("want CHANNEL=COLUMNS, got %q", v)
	}
	s[ch] = cols
	return nil
}

func runDataImport(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "data import", "--format F IN -o OUT.parquet")
	opts := importers.Options{Seq: map[string]string{}, Version: e.version, Log: e.log}
	fs.StringVar(&opts.Format, "format", "", "input format: "+strings.Join(importers.Formats, ", "))
	out := fs.String("o", "", "output flows file (.parquet, .jsonl or .csv)")
	fs.StringVar(&opts.Layout, "layout", "", "gcseq layout: signed100 (default) or study4x25")
	fs.StringVar(&opts.LabelCol, "label-col", "", "class column (csv: default label; arff: default the last nominal attribute)")
	fs.StringVar(&opts.ServiceCol, "service-col", "", "csv: service column")
	fs.StringVar(&opts.CategoryCol, "category-col", "", "csv: category column")
	fs.StringVar(&opts.GroupCol, "group-col", "", "csv: column written to capture (used by grouped splits)")
	fs.Var(seqFlag(opts.Seq), "seq", "csv: CHANNEL=COLUMNS, channel size|payload|iat|dir, columns names/patterns (pkt_*) or one list column; repeatable")
	fs.StringVar(&opts.Features, "features", "", "csv: feature columns, names or patterns (default: every other numeric column)")
	fs.StringVar(&opts.CategoryTrimPrefix, "category-trim-prefix", "", "arff: category = label without this prefix (default VPN-; - for none)")
	fs.BoolVar(&opts.SkipBad, "skip-bad", false, "log and skip bad rows instead of failing")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if opts.Format == "" || *out == "" || fs.NArg() != 1 {
		return fmt.Errorf("%w: want --format F, one input and -o OUT", errUsage)
	}
	s, err := importers.ImportFile(ctx, fs.Arg(0), *out, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "imported %d rows (%d skipped), %d classes → %s\n", s.Rows, s.Skipped, len(s.Classes), *out)
	for i, c := range s.ClassList() {
		if i == 10 {
			fmt.Fprintf(e.stdout, "  … %d more\n", len(s.Classes)-10)
			break
		}
		fmt.Fprintf(e.stdout, "  %8d  %s\n", s.Classes[c], c)
	}
	return nil
}

func humanSize(e catalog.Entry) string {
	n, known := e.Size()
	switch {
	case len(e.Files) == 0:
		return "-"
	case !known:
		return "unknown"
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
}

func runDataList(_ context.Context, e *env, args []string) error {
	fs := newFlags(e, "data list", "")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cat := catalog.Catalogue()
	if *asJSON {
		return writeJSON(e.stdout, cat)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSIZE\tFILES\tSHA-256\tIMPORTER\tTITLE")
	for _, c := range cat {
		verified := "recorded"
		for _, f := range c.Files {
			if f.SHA256 == "" {
				verified = "unknown"
			}
		}
		if len(c.Files) == 0 {
			verified = "-"
		}
		imp := c.Importer
		if imp == "" {
			imp = "(see notes)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", c.Name, humanSize(c), len(c.Files), verified, imp, c.Title)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "\n`etch data list --json` shows URLs, licences, hashes and notes.")
	return nil
}

func runDataFetch(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "data fetch", "NAME")
	dir := fs.String("o", "", "cache directory (default $ETCH_DATA_DIR or the user cache dir)")
	unverified := fs.Bool("allow-unverified", false, "download files without a recorded SHA-256 and pin their hash")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("%w: want one dataset NAME (see etch data list)", errUsage)
	}
	entry, err := catalog.Lookup(fs.Arg(0))
	if err != nil {
		return err
	}
	if *dir == "" {
		if *dir, err = catalog.DefaultDir(); err != nil {
			return err
		}
	}
	f := &catalog.Fetcher{Client: http.DefaultClient, Dir: *dir, AllowUnverified: *unverified, Log: e.log}
	paths, err := f.Fetch(ctx, entry)
	if err != nil {
		return err
	}
	for _, p := range paths {
		fmt.Fprintln(e.stdout, p)
	}
	if entry.Importer != "" {
		fmt.Fprintf(e.stderr, "import with: etch data import --format %s FILE -o OUT.parquet\n", entry.Importer)
	}
	return nil
}
