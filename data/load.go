package data

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/parquet-go/parquet-go"
)

// Feature groups accepted in LoadOptions.Features. Any other entry names one column: a scalar
// numeric column of the schema (e.g. "duration_s", "size_fwd_mean") or an entry of the Extra
// column by its footer name (e.g. "mean_fiat" in an ISCX import; "extra:NAME" is accepted too).
const (
	GroupStats      = "stats"       // the 48 Stats columns, in StatNames order
	GroupExtra      = "extra"       // every entry of the Extra column, names from the footer
	GroupSeqSize    = "seq_size"    // sequence channel: signed IP packet length
	GroupSeqPayload = "seq_payload" // sequence channel: transport payload length
	GroupSeqIAT     = "seq_iat_us"  // sequence channel: inter-arrival time, microseconds
	GroupSeqDir     = "seq_dir"     // sequence channel: direction, +1/−1
)

// SeqGroups lists the sequence channels in schema order.
var SeqGroups = [...]string{GroupSeqSize, GroupSeqPayload, GroupSeqIAT, GroupSeqDir}

// OtherClass is the class name that LoadOptions.Other gives to the rows of filtered-out classes.
const OtherClass = "other"

// LoadOptions selects what Load reads from a flows file.
type LoadOptions struct {
	// Features lists feature groups (GroupStats, GroupExtra, the four sequence channels) and named
	// columns. Sequence channels go to Dataset.Seq in the order given; everything else goes to
	// Dataset.Tab in the order given. Duplicates are an error.
	Features []string
	// Label is the class column: "label" (default), "service" or "category".
	Label string
	// TopN keeps only the TopN most frequent classes (0: all).
	TopN int
	// MinCount keeps only classes with at least MinCount rows (the study's min-connections; 0: all).
	// MinCount is applied before TopN.
	MinCount int
	// Other, when set, keeps the rows of dropped classes under one extra class OtherClass (the
	// last class index) instead of dropping them.
	Other bool
	// Packets truncates the sequences to their first Packets steps (0: the file's full length N).
	Packets int
	// Group names the column that groups rows for grouped splits: "" (none), "capture",
	// "src_ip", "dst_ip", "sni", or "time:SECONDS" (windows of start_us).
	Group string
}

// Dataset is a flows file loaded into memory, columnar, with labels encoded as class indices.
//
// Layouts: Tab is row-major N×len(TabNames) float32; Seq is one contiguous float32 slab,
// row-major N×SeqLen×len(SeqChannels) (row, time step, channel — the channels of one time step
// are adjacent), the layout harness/model.Data expects. Values are raw (unscaled); see Scaler.
type Dataset struct {
	// Path is the file the dataset was loaded from; Meta its footer.
	Path string
	Meta Meta
	// Rows is the number of rows in the file; N the number kept after filtering.
	Rows int
	N    int

	Tab      []float32
	TabNames []string

	Seq         []float32
	SeqLen      int
	SeqChannels []string

	// Y holds each row's class index into ClassNames. Classes are ordered by descending count
	// in the file, then by name; OtherClass, when present, is last. ClassCounts counts kept rows.
	Y           []int32
	ClassNames  []string
	ClassCounts []int

	// Groups holds each row's group index into GroupNames (nil when LoadOptions.Group is "").
	Groups     []int32
	GroupNames []string

	// Index maps each kept row to its row number in the file.
	Index []int32

	opts LoadOptions
}

// Classes returns the number of classes.
func (d *Dataset) Classes() int { return len(d.ClassNames) }

// TabDim returns the number of tabular features per row.
func (d *Dataset) TabDim() int { return len(d.TabNames) }

// SeqDim returns the number of sequence values per row.
func (d *Dataset) SeqDim() int { return d.SeqLen * len(d.SeqChannels) }

// column kinds the loader decodes.
type colKind int

const (
	kindTab      colKind = iota // scalar numeric → one Tab column
	kindExtra                   // the extra list → several Tab columns
	kindSeq                     // a sequence list → one Seq channel
	kindTabGroup                // several kindTab columns decoded in lockstep (group)
)

// tabGroupCols is how many scalar columns one job decodes in lockstep: enough to write whole
// cache lines of Tab rows, few enough to spread the columns over the workers.
const tabGroupCols = 16

// groupTab merges the kindTab jobs into kindTabGroup jobs of up to tabGroupCols columns.
func groupTab(jobs []colJob) []colJob {
	var out, tab []colJob
	for _, j := range jobs {
		if j.kind == kindTab {
			tab = append(tab, j)
		} else {
			out = append(out, j)
		}
	}
	for i := 0; i < len(tab); i += tabGroupCols {
		g := tab[i:min(i+tabGroupCols, len(tab))]
		out = append(out, colJob{name: g[0].name, kind: kindTabGroup, group: g})
	}
	return out
}

// colJob is one Parquet column to decode into the slabs.
type colJob struct {
	name string
	leaf parquet.LeafColumn
	kind colKind
	// Tab: destination column(s). For kindExtra, pick[i] is the extra index for Tab column
	// tabCol+i.
	tabCol     int
	pick       []int
	tabColumns []int
	width      int // kindExtra: entries per row
	// Seq: channel index.
	ch int
	// kindTabGroup: the columns.
	group []colJob
}

// Load reads the projected columns of the flows file path into a Dataset. Only the columns
// that opts name (plus the label and group columns) are read, page by page; rows of filtered
// classes are skipped while decoding, so memory is the slabs plus a few pages. Columns are decoded
// in parallel (up to GOMAXPROCS). A file without a needed column, or with a column of the wrong
// type, gives an error naming file and column that matches ErrSchema.
func Load(ctx context.Context, path string, opts LoadOptions) (*Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipBloomFilters(true), parquet.SkipPageIndex(true))
	if err != nil {
		return nil, fmt.Errorf("load %s: not a Parquet file: %w", path, err)
	}
	kv := map[string]string{}
	for _, e := range pf.Metadata().KeyValueMetadata {
		kv[e.Key] = e.Value
	}
	meta, err := ParseMeta(kv)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	if pf.NumRows() > int64(^uint32(0)>>1) {
		return nil, fmt.Errorf("load %s: %d rows is more than a Dataset holds", path, pf.NumRows())
	}
	d := &Dataset{Path: path, Meta: meta, Rows: int(pf.NumRows()), opts: opts}
	jobs, err := d.plan(pf, opts)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	keep, err := d.labels(ctx, pf, opts)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	if opts.Group != "" {
		if err := d.groups(ctx, pf, opts.Group, keep); err != nil {
			return nil, fmt.Errorf("load %s: %w", path, err)
		}
	}
	d.Tab = make([]float32, d.N*len(d.TabNames))
	d.Seq = make([]float32, d.N*d.SeqDim())
	if err := runJobs(ctx, pf, groupTab(jobs), d, keep); err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return d, nil
}

// schemaErr names a column in an ErrSchema error.
func schemaErr(col, format string, args ...any) error {
	return fmt.Errorf("%w: column %q: %s", ErrSchema, col, fmt.Sprintf(format, args...))
}

// leafOf finds a column by name: scalar columns by their name, lists by name.list.element.
func leafOf(pf *parquet.File, name string, list bool) (parquet.LeafColumn, error) {
	s := pf.Schema()
	var leaf parquet.LeafColumn
	var ok bool
	if list {
		leaf, ok = s.Lookup(name, "list", "element")
		if !ok {
			if l, scalar := s.Lookup(name); scalar && l.Node.Leaf() {
				return leaf, schemaErr(name, "is a scalar, want a list")
			}
			return leaf, schemaErr(name, "not in file")
		}
		if leaf.MaxRepetitionLevel != 1 {
			return leaf, schemaErr(name, "want a list of numbers")
		}
		return leaf, nil
	}
	leaf, ok = s.Lookup(name)
	if !ok {
		return leaf, schemaErr(name, "not in file")
	}
	if !leaf.Node.Leaf() || leaf.MaxRepetitionLevel != 0 {
		return leaf, schemaErr(name, "want a scalar column")
	}
	return leaf, nil
}

func isNumeric(k parquet.Kind) bool {
	switch k {
	case parquet.Boolean, parquet.Int32, parquet.Int64, parquet.Float, parquet.Double:
		return true
	}
	return false
}

// plan resolves opts.Features into column jobs and sets TabNames, SeqChannels and SeqLen.
func (d *Dataset) plan(pf *parquet.File, opts LoadOptions) ([]colJob, error) {
	var jobs []colJob
	seen := map[string]bool{}
	extraJob := -1
	addTab := func(name string) error {
		if seen["tab:"+name] {
			return fmt.Errorf("feature %q selected twice", name)
		}
		seen["tab:"+name] = true
		leaf, err := leafOf(pf, name, false)
		if err != nil {
			return err
		}
		if !isNumeric(leaf.Node.Type().Kind()) {
			return schemaErr(name, "type %s is not numeric", leaf.Node.Type())
		}
		jobs = append(jobs, colJob{name: name, leaf: leaf, kind: kindTab, tabCol: len(d.TabNames)})
		d.TabNames = append(d.TabNames, name)
		return nil
	}
	addExtra := func(idx int) error {
		name := d.Meta.ExtraNames[idx]
		if seen["tab:"+name] {
			return fmt.Errorf("feature %q selected twice", name)
		}
		seen["tab:"+name] = true
		if extraJob < 0 {
			leaf, err := leafOf(pf, "extra", true)
			if err != nil {
				return err
			}
			if k := leaf.Node.Type().Kind(); k != parquet.Float && k != parquet.Double {
				return schemaErr("extra", "type %s, want float", leaf.Node.Type())
			}
			// Extra columns may be scattered through Tab; record a Tab index per pick.
			jobs = append(jobs, colJob{name: "extra", leaf: leaf, kind: kindExtra, width: len(d.Meta.ExtraNames)})
			extraJob = len(jobs) - 1
		}
		jobs[extraJob].pick = append(jobs[extraJob].pick, idx)
		jobs[extraJob].tabColumns = append(jobs[extraJob].tabColumns, len(d.TabNames))
		d.TabNames = append(d.TabNames, name)
		return nil
	}
	for _, feat := range opts.Features {
		switch {
		case feat == GroupStats:
			for _, n := range StatNames {
				if err := addTab(n); err != nil {
					return nil, err
				}
			}
		case feat == GroupExtra:
			if len(d.Meta.ExtraNames) == 0 {
				return nil, fmt.Errorf("%w: feature group extra: no %s in footer", ErrSchema, MetaExtraNames)
			}
			for i := range d.Meta.ExtraNames {
				if err := addExtra(i); err != nil {
					return nil, err
				}
			}
		case slices.Contains(SeqGroups[:], feat):
			if seen["seq:"+feat] {
				return nil, fmt.Errorf("feature %q selected twice", feat)
			}
			seen["seq:"+feat] = true
			leaf, err := leafOf(pf, feat, true)
			if err != nil {
				return nil, err
			}
			if k := leaf.Node.Type().Kind(); !isNumeric(k) || k == parquet.Boolean {
				return nil, schemaErr(feat, "type %s is not numeric", leaf.Node.Type())
			}
			jobs = append(jobs, colJob{name: feat, leaf: leaf, kind: kindSeq, ch: len(d.SeqChannels)})
			d.SeqChannels = append(d.SeqChannels, feat)
		default:
			name := strings.TrimPrefix(feat, "extra:")
			if i := slices.Index(d.Meta.ExtraNames, name); i >= 0 {
				if err := addExtra(i); err != nil {
					return nil, err
				}
				continue
			}
			if strings.HasPrefix(feat, "extra:") {
				return nil, fmt.Errorf("%w: feature %q: no such extra feature in footer", ErrSchema, feat)
			}
			if err := addTab(feat); err != nil {
				return nil, err
			}
		}
	}
	if len(jobs) == 0 {
		return nil, errors.New("no features selected")
	}
	if len(d.SeqChannels) > 0 {
		n := d.Meta.SeqLen
		if n <= 0 {
			return nil, fmt.Errorf("%w: sequences selected but no %s in footer", ErrSchema, MetaSeqLen)
		}
		switch {
		case opts.Packets < 0:
			return nil, fmt.Errorf("packets %d < 0", opts.Packets)
		case opts.Packets > n:
			return nil, fmt.Errorf("packets %d > the file's sequence length %d", opts.Packets, n)
		case opts.Packets > 0:
			d.SeqLen = opts.Packets
		default:
			d.SeqLen = n
		}
	}
	return jobs, nil
}

// labelCol validates LoadOptions.Label.
func labelCol(l string) (string, error) {
	switch l {
	case "":
		return "label", nil
	case "label", "service", "category":
		return l, nil
	}
	return "", fmt.Errorf("label column %q: want label, service or category", l)
}

// labels reads the label column, builds the class vocabulary, applies the filters and returns
// keep: for each file row its output row, or -1 (nil when every row is kept in order).
func (d *Dataset) labels(ctx context.Context, pf *parquet.File, opts LoadOptions) ([]int32, error) {
	col, err := labelCol(opts.Label)
	if err != nil {
		return nil, err
	}
	if opts.TopN < 0 || opts.MinCount < 0 {
		return nil, fmt.Errorf("top_n %d and min_count %d must be ≥ 0", opts.TopN, opts.MinCount)
	}
	ids, names, err := readStrings(ctx, pf, col, d.Rows)
	if err != nil {
		return nil, err
	}
	counts := make([]int, len(names))
	for _, id := range ids {
		counts[id]++
	}
	order := make([]int, len(names))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool {
		ca, cb := counts[order[a]], counts[order[b]]
		if ca != cb {
			return ca > cb
		}
		return names[order[a]] < names[order[b]]
	})
	kept := order[:0:0]
	for _, c := range order {
		if counts[c] >= opts.MinCount {
			kept = append(kept, c)
		}
	}
	if opts.TopN > 0 && len(kept) > opts.TopN {
		kept = kept[:opts.TopN]
	}
	class := make([]int32, len(names)) // file string id → class index or -1
	for i := range class {
		class[i] = -1
	}
	for i, c := range kept {
		class[c] = int32(i)
		d.ClassNames = append(d.ClassNames, names[c])
	}
	dropped := len(kept) < len(names)
	if opts.Other && dropped {
		other := int32(len(d.ClassNames))
		if j := slices.Index(d.ClassNames, OtherClass); j >= 0 {
			other = int32(j) // a real class called "other" absorbs the rest
		} else {
			d.ClassNames = append(d.ClassNames, OtherClass)
		}
		for i := range class {
			if class[i] < 0 {
				class[i] = other
			}
		}
		dropped = false
	}
	d.ClassCounts = make([]int, len(d.ClassNames))
	var keep []int32
	if dropped {
		keep = make([]int32, d.Rows)
	}
	d.Y = make([]int32, 0, d.Rows)
	for r, id := range ids {
		c := class[id]
		if c < 0 {
			keep[r] = -1
			continue
		}
		if keep != nil {
			keep[r] = int32(len(d.Y))
		}
		d.Y = append(d.Y, c)
		d.ClassCounts[c]++
	}
	d.N = len(d.Y)
	if keep != nil {
		d.Y = slices.Clip(d.Y)
	}
	d.Index = make([]int32, 0, d.N)
	for r := range ids {
		if keep == nil || keep[r] >= 0 {
			d.Index = append(d.Index, int32(r))
		}
	}
	return keep, nil
}

// groups reads the group column for the kept rows.
func (d *Dataset) groups(ctx context.Context, pf *parquet.File, group string, keep []int32) error {
	var ids []int32
	var names []string
	switch {
	case group == "capture" || group == "src_ip" || group == "dst_ip" || group == "sni":
		var err error
		if ids, names, err = readStrings(ctx, pf, group, d.Rows); err != nil {
			return err
		}
	case strings.HasPrefix(group, "time:"):
		secs, err := strconv.ParseFloat(strings.TrimPrefix(group, "time:"), 64)
		if err != nil || secs <= 0 {
			return fmt.Errorf("group %q: want time:SECONDS with SECONDS > 0", group)
		}
		leaf, err := leafOf(pf, "start_us", false)
		if err != nil {
			return err
		}
		if leaf.Node.Type().Kind() != parquet.Int64 {
			return schemaErr("start_us", "type %s, want int64", leaf.Node.Type())
		}
		vals := make([]float64, d.Rows)
		job := colJob{name: "start_us", leaf: leaf}
		if err := readScalar(ctx, pf, job, func(r int, v float64) { vals[r] = v }); err != nil {
			return err
		}
		win := map[int64]int32{}
		ids = make([]int32, d.Rows)
		width := secs * 1e6
		for r, v := range vals {
			w := int64(v / width)
			id, ok := win[w]
			if !ok {
				id = int32(len(names))
				win[w] = id
				names = append(names, strconv.FormatInt(w*int64(width)/1e6, 10))
			}
			ids[r] = id
		}
	default:
		return fmt.Errorf("group %q: want capture, src_ip, dst_ip, sni or time:SECONDS", group)
	}
	d.Groups = make([]int32, d.N)
	for r, id := range ids {
		if keep == nil {
			d.Groups[r] = id
		} else if k := keep[r]; k >= 0 {
			d.Groups[k] = id
		}
	}
	d.GroupNames = names
	return nil
}

// readStrings reads a required string column into per-row ids and the id → string table (in order
// of first appearance).
func readStrings(ctx context.Context, pf *parquet.File, col string, rows int) ([]int32, []string, error) {
	leaf, err := leafOf(pf, col, false)
	if err != nil {
		return nil, nil, err
	}
	if leaf.Node.Type().Kind() != parquet.ByteArray {
		return nil, nil, schemaErr(col, "type %s, want string", leaf.Node.Type())
	}
	ids := make([]int32, 0, rows)
	var names []string
	index := map[string]int32{}
	idOf := func(b []byte) int32 {
		if id, ok := index[string(b)]; ok {
			return id
		}
		id := int32(len(names))
		names = append(names, string(b))
		index[names[id]] = id
		return id
	}
	for _, rg := range pf.RowGroups() {
		pages := rg.ColumnChunks()[leaf.ColumnIndex].Pages()
		var dict parquet.Dictionary
		var dictIDs []int32
		for {
			if err := ctx.Err(); err != nil {
				pages.Close()
				return nil, nil, err
			}
			p, err := pages.ReadPage()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				pages.Close()
				return nil, nil, schemaErr(col, "%v", err)
			}
			if p.NumNulls() > 0 {
				parquet.Release(p)
				pages.Close()
				return nil, nil, schemaErr(col, "has nulls")
			}
			if dt := p.Dictionary(); dt != nil {
				if dt != dict {
					dict = dt
					dictIDs = make([]int32, dt.Len())
					for i := range dictIDs {
						dictIDs[i] = idOf(dt.Index(int32(i)).ByteArray())
					}
				}
				v := p.Data()
				for _, x := range v.Int32() {
					ids = append(ids, dictIDs[x])
				}
			} else {
				v := p.Data()
				data, offs := v.ByteArray()
				for i := 0; i+1 < len(offs); i++ {
					ids = append(ids, idOf(data[offs[i]:offs[i+1]]))
				}
			}
			parquet.Release(p)
		}
		pages.Close()
	}
	if len(ids) != rows {
		return nil, nil, schemaErr(col, "%d values for %d rows", len(ids), rows)
	}
	return ids, names, nil
}

// runJobs decodes every job, in parallel up to GOMAXPROCS.
func runJobs(ctx context.Context, pf *parquet.File, jobs []colJob, d *Dataset, keep []int32) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := min(runtime.GOMAXPROCS(0), len(jobs))
	next := make(chan int)
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				if err := d.runJob(ctx, pf, jobs[j], keep); err != nil {
					errs[j] = err
					cancel()
				}
			}
		}()
	}
	for j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return err
		}
	}
	return errors.Join(errs...)
}

func (d *Dataset) runJob(ctx context.Context, pf *parquet.File, job colJob, keep []int32) error {
	switch job.kind {
	case kindTabGroup:
		return d.readTabGroup(ctx, pf, job.group, keep)
	case kindExtra:
		return d.readExtra(ctx, pf, job, keep)
	case kindSeq:
		return d.readSeq(ctx, pf, job, keep)
	}
	return fmt.Errorf("column %q: internal error: job kind %d", job.name, job.kind)
}

// colCursor walks one scalar column's pages of a row group, converting each page to float32.
type colCursor struct {
	job   colJob
	pages parquet.Pages
	vals  []float32
	buf   []float32
	pos   int
	row   int // file row of vals[0]... for errors
}

// next fills dst with the column's next len(dst) values.
func (c *colCursor) next(dst []float32) error {
	for len(dst) > 0 {
		if c.pos == len(c.vals) {
			p, err := c.pages.ReadPage()
			if errors.Is(err, io.EOF) {
				return schemaErr(c.job.name, "fewer values than rows")
			}
			if err != nil {
				return schemaErr(c.job.name, "row %d: %v", c.row, err)
			}
			c.row += len(c.vals)
			c.vals, c.pos = c.buf[:0], 0
			kind := p.Type().Kind()
			if p.NumNulls() == 0 && p.Dictionary() == nil && kind != parquet.Boolean {
				c.vals = pageFloats(p, c.buf)
			} else {
				_, err = readValues(p, func(i int, v parquet.Value) error {
					if v.IsNull() {
						return schemaErr(c.job.name, "row %d is null", c.row+i)
					}
					c.vals = append(c.vals, float32(valueFloat(v)))
					return nil
				})
			}
			if kind != parquet.Float {
				c.buf = c.vals // pageFloats converted into our buffer: keep it for reuse
			} else {
				c.vals = slices.Clone(c.vals) // Float pages alias the page's memory
			}
			parquet.Release(p)
			if err != nil {
				return err
			}
			continue
		}
		n := copy(dst, c.vals[c.pos:])
		c.pos += n
		dst = dst[n:]
	}
	return nil
}

// readTabGroup decodes several scalar columns in lockstep, blockwise: each block of rows is
// gathered column by column into a small scratch buffer, then written row by row into Tab, so
// that Tab is written sequentially instead of with one strided pass per column.
func (d *Dataset) readTabGroup(ctx context.Context, pf *parquet.File, cols []colJob, keep []int32) error {
	const block = 512
	td := len(d.TabNames)
	tab := d.Tab
	scratch := make([]float32, len(cols)*block)
	curs := make([]colCursor, len(cols))
	row := 0
	for _, rg := range pf.RowGroups() {
		chunks := rg.ColumnChunks()
		for i := range curs {
			curs[i] = colCursor{job: cols[i], pages: chunks[cols[i].leaf.ColumnIndex].Pages(), buf: curs[i].buf, row: row}
		}
		n := int(rg.NumRows())
		var err error
		for r0 := 0; r0 < n && err == nil; r0 += block {
			if err = ctx.Err(); err != nil {
				break
			}
			b := min(block, n-r0)
			for i := range curs {
				if err = curs[i].next(scratch[i*block : i*block+b]); err != nil {
					break
				}
			}
			if err != nil {
				break
			}
			for r := range b {
				o := row + r0 + r
				if keep != nil {
					if o = int(keep[o]); o < 0 {
						continue
					}
				}
				dst := tab[o*td : (o+1)*td]
				for i := range cols {
					dst[cols[i].tabCol] = scratch[i*block+r]
				}
			}
		}
		for i := range curs {
			curs[i].pages.Close()
		}
		if err != nil {
			return err
		}
		row += n
	}
	return nil
}

// readScalar calls set for every row of a required numeric scalar column.
func readScalar(ctx context.Context, pf *parquet.File, job colJob, set func(r int, v float64)) error {
	row := 0
	for _, rg := range pf.RowGroups() {
		pages := rg.ColumnChunks()[job.leaf.ColumnIndex].Pages()
		for {
			if err := ctx.Err(); err != nil {
				pages.Close()
				return err
			}
			p, err := pages.ReadPage()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				pages.Close()
				return schemaErr(job.name, "row %d: %v", row, err)
			}
			if p.NumNulls() > 0 || p.Dictionary() != nil {
				n, err := readValues(p, func(i int, v parquet.Value) error {
					if v.IsNull() {
						return schemaErr(job.name, "row %d is null", row+i)
					}
					set(row+i, valueFloat(v))
					return nil
				})
				parquet.Release(p)
				if err != nil {
					pages.Close()
					return err
				}
				row += n
				continue
			}
			v := p.Data()
			switch p.Type().Kind() {
			case parquet.Double:
				for i, x := range v.Double() {
					set(row+i, x)
				}
			case parquet.Float:
				for i, x := range v.Float() {
					set(row+i, float64(x))
				}
			case parquet.Int32:
				for i, x := range v.Int32() {
					set(row+i, float64(x))
				}
			case parquet.Int64:
				for i, x := range v.Int64() {
					set(row+i, float64(x))
				}
			default:
				_, err := readValues(p, func(i int, v parquet.Value) error {
					set(row+i, valueFloat(v))
					return nil
				})
				if err != nil {
					parquet.Release(p)
					pages.Close()
					return err
				}
			}
			row += int(p.NumRows())
			parquet.Release(p)
		}
		pages.Close()
	}
	return nil
}

// readValues reads a page value by value (the slow, general path).
func readValues(p parquet.Page, fn func(i int, v parquet.Value) error) (int, error) {
	vr := p.Values()
	buf := make([]parquet.Value, 1024)
	i := 0
	for {
		n, err := vr.ReadValues(buf)
		for _, v := range buf[:n] {
			if ferr := fn(i, v); ferr != nil {
				return i, ferr
			}
			i++
		}
		if errors.Is(err, io.EOF) {
			return i, nil
		}
		if err != nil {
			return i, err
		}
	}
}

func valueFloat(v parquet.Value) float64 {
	switch v.Kind() {
	case parquet.Boolean:
		if v.Boolean() {
			return 1
		}
		return 0
	case parquet.Int32:
		return float64(v.Int32())
	case parquet.Int64:
		return float64(v.Int64())
	case parquet.Float:
		return float64(v.Float())
	case parquet.Double:
		return v.Double()
	}
	return 0
}

// fixedList reports a list page's rows and whether every row holds exactly width non-null
// values (the fast path: the page's values are then rows×width, row-major).
func fixedList(p parquet.Page, width int) (rows int, fixed bool) {
	rep := p.RepetitionLevels()
	rows = int(p.NumRows())
	if width <= 0 || p.NumNulls() > 0 || len(rep) != rows*width || p.Dictionary() != nil {
		return rows, false
	}
	for r := 0; r < rows; r++ {
		if rep[r*width] != 0 {
			return rows, false
		}
	}
	return rows, true
}

// listRows walks a list page with the general path: fn(row, i, v) for the i-th element of row
// (relative to the page); empty and null lists produce no calls.
func listRows(p parquet.Page, maxDef int, fn func(row, i int, v float64)) error {
	row, i := -1, 0
	_, err := readValues(p, func(_ int, v parquet.Value) error {
		if v.RepetitionLevel() == 0 {
			row++
			i = 0
		}
		if v.DefinitionLevel() == maxDef && !v.IsNull() {
			fn(row, i, valueFloat(v))
			i++
		}
		return nil
	})
	return err
}

// pageFloats converts a page's values to float32 into buf (reused).
func pageFloats(p parquet.Page, buf []float32) []float32 {
	v := p.Data()
	switch p.Type().Kind() {
	case parquet.Float:
		return v.Float()
	case parquet.Int32:
		src := v.Int32()
		buf = slices.Grow(buf[:0], len(src))[:len(src)]
		for i, x := range src {
			buf[i] = float32(x)
		}
	case parquet.Int64:
		src := v.Int64()
		buf = slices.Grow(buf[:0], len(src))[:len(src)]
		for i, x := range src {
			buf[i] = float32(x)
		}
	case parquet.Double:
		src := v.Double()
		buf = slices.Grow(buf[:0], len(src))[:len(src)]
		for i, x := range src {
			buf[i] = float32(x)
		}
	}
	return buf
}

// readSeq decodes one sequence channel into the Seq slab.
func (d *Dataset) readSeq(ctx context.Context, pf *parquet.File, job colJob, keep []int32) error {
	n, L, C, ch := d.Meta.SeqLen, d.SeqLen, len(d.SeqChannels), job.ch
	seq := d.Seq
	out := func(r int) int { // slab offset of file row r's step 0, or -1
		if keep == nil {
			return r * L * C
		}
		if k := keep[r]; k >= 0 {
			return int(k) * L * C
		}
		return -1
	}
	kind := job.leaf.Node.Type().Kind()
	var buf []float32
	row := 0
	for _, rg := range pf.RowGroups() {
		pages := rg.ColumnChunks()[job.leaf.ColumnIndex].Pages()
		for {
			if err := ctx.Err(); err != nil {
				pages.Close()
				return err
			}
			p, err := pages.ReadPage()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				pages.Close()
				return schemaErr(job.name, "row %d: %v", row, err)
			}
			rows, fixed := fixedList(p, n)
			if fixed && kind == parquet.Int32 && C == 1 {
				v := p.Data()
				src := v.Int32()
				for r := 0; r < rows; r++ {
					o := out(row + r)
					if o < 0 {
						continue
					}
					s := src[r*n : r*n+L]
					dst := seq[o : o+L]
					for t, x := range s {
						dst[t] = float32(x)
					}
				}
			} else if fixed {
				buf = pageFloats(p, buf)
				for r := 0; r < rows; r++ {
					o := out(row + r)
					if o < 0 {
						continue
					}
					s := buf[r*n : r*n+L]
					for t, x := range s {
						seq[o+t*C+ch] = x
					}
				}
			} else {
				err := listRows(p, job.leaf.MaxDefinitionLevel, func(r, i int, v float64) {
					if i >= L {
						return
					}
					if o := out(row + r); o >= 0 {
						seq[o+i*C+ch] = float32(v)
					}
				})
				if err != nil {
					parquet.Release(p)
					pages.Close()
					return schemaErr(job.name, "row %d: %v", row, err)
				}
			}
			row += rows
			parquet.Release(p)
		}
		pages.Close()
	}
	if row != d.Rows {
		return schemaErr(job.name, "%d rows, want %d", row, d.Rows)
	}
	return nil
}

// readExtra decodes the picked entries of the Extra list column into Tab.
func (d *Dataset) readExtra(ctx context.Context, pf *parquet.File, job colJob, keep []int32) error {
	td, w := len(d.TabNames), job.width
	tab := d.Tab
	out := func(r int) int {
		if keep == nil {
			return r * td
		}
		if k := keep[r]; k >= 0 {
			return int(k) * td
		}
		return -1
	}
	var buf []float32
	row := 0
	for _, rg := range pf.RowGroups() {
		pages := rg.ColumnChunks()[job.leaf.ColumnIndex].Pages()
		for {
			if err := ctx.Err(); err != nil {
				pages.Close()
				return err
			}
			p, err := pages.ReadPage()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				pages.Close()
				return schemaErr(job.name, "row %d: %v", row, err)
			}
			rows, fixed := fixedList(p, w)
			if fixed {
				buf = pageFloats(p, buf)
				for r := 0; r < rows; r++ {
					if o := out(row + r); o >= 0 {
						for i, e := range job.pick {
							tab[o+job.tabColumns[i]] = buf[r*w+e]
						}
					}
				}
			} else {
				// Rows with fewer entries leave the missing ones 0.
				err := listRows(p, job.leaf.MaxDefinitionLevel, func(r, i int, v float64) {
					o := out(row + r)
					if o < 0 {
						return
					}
					for k, e := range job.pick {
						if e == i {
							tab[o+job.tabColumns[k]] = float32(v)
						}
					}
				})
				if err != nil {
					parquet.Release(p)
					pages.Close()
					return schemaErr(job.name, "row %d: %v", row, err)
				}
			}
			row += rows
			parquet.Release(p)
		}
		pages.Close()
	}
	return nil
}

// ContentHash returns the hex SHA-256 of the loaded content: feature names, sequence length,
// class names, labels, groups and the Tab and Seq slabs (float32 bits, little-endian). Equal
// hashes mean equal training data, whatever file layout it came from; runners use it in cache
// keys and reports. It reads the whole dataset (about 1 GB/s), so call it once.
func (d *Dataset) ContentHash() string {
	h := sha256.New()
	var b [8]byte
	putInt := func(v int) {
		binary.LittleEndian.PutUint64(b[:], uint64(v))
		h.Write(b[:])
	}
	putStrings := func(ss []string) {
		putInt(len(ss))
		for _, s := range ss {
			putInt(len(s))
			io.WriteString(h, s)
		}
	}
	putStrings(d.TabNames)
	putStrings(d.SeqChannels)
	putInt(d.SeqLen)
	putStrings(d.ClassNames)
	putStrings(d.GroupNames)
	putInt32s := func(v []int32) {
		putInt(len(v))
		h.Write(le32(v))
	}
	putInt32s(d.Y)
	putInt32s(d.Groups)
	putInt(len(d.Tab))
	h.Write(le32(d.Tab))
	putInt(len(d.Seq))
	h.Write(le32(d.Seq))
	return hex.EncodeToString(h.Sum(nil))
}

// le32 views 4-byte values as little-endian bytes (copying only on big-endian machines).
func le32[T int32 | float32](v []T) []byte {
	if len(v) == 0 {
		return nil
	}
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*len(v))
	if binary.NativeEndian.Uint16([]byte{1, 0}) == 1 {
		return raw
	}
	out := make([]byte, len(raw))
	for i := 0; i < len(raw); i += 4 {
		out[i], out[i+1], out[i+2], out[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	return out
}

// RowKeys returns a 64-bit FNV-1a hash of each row's features (Tab and Seq values), for
// duplicate-flow checks across splits (identical rows get identical keys).
func (d *Dataset) RowKeys() []uint64 {
	td, sd := d.TabDim(), d.SeqDim()
	keys := make([]uint64, d.N)
	for r := range keys {
		h := fnv.New64a()
		h.Write(le32(d.Tab[r*td : (r+1)*td]))
		h.Write(le32(d.Seq[r*sd : (r+1)*sd]))
		keys[r] = h.Sum64()
	}
	return keys
}

// ClassCount is one class and its number of rows.
type ClassCount struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// ColumnInfo names a leaf column of a flows file and its Parquet type.
type ColumnInfo struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Info describes a flows file: what `etch data info` prints.
type Info struct {
	Path      string            `json:"path"`
	Bytes     int64             `json:"bytes"`
	Rows      int64             `json:"rows"`
	RowGroups int               `json:"row_groups"`
	Columns   []ColumnInfo      `json:"columns"`
	Meta      Meta              `json:"meta"`
	Footer    map[string]string `json:"footer"`
	// LabelColumn is the column Classes counts (label, service or category).
	LabelColumn string       `json:"label_column"`
	Classes     []ClassCount `json:"classes"`
}

// Describe reads a flows file's footer, schema and the class counts of its label column (label,
// service or category; "" is label), classes by descending count then name.
func Describe(ctx context.Context, path, label string) (*Info, error) {
	col, err := labelCol(label)
	if err != nil {
		return nil, err
	}
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pf := f.Parquet()
	info := &Info{Path: path, Rows: pf.NumRows(), RowGroups: len(pf.RowGroups()), Meta: f.Meta,
		Footer: map[string]string{}, LabelColumn: col}
	if st, err := f.f.Stat(); err == nil {
		info.Bytes = st.Size()
	}
	for _, kv := range pf.Metadata().KeyValueMetadata {
		info.Footer[kv.Key] = kv.Value
	}
	for _, p := range pf.Schema().Columns() {
		leaf, _ := pf.Schema().Lookup(p...)
		name := p[0]
		typ := leaf.Node.Type().Kind().String()
		if leaf.Node.Type().String() == "STRING" {
			typ = "STRING"
		}
		if leaf.MaxRepetitionLevel > 0 {
			typ = "list<" + typ + ">"
		}
		info.Columns = append(info.Columns, ColumnInfo{Name: name, Type: typ})
	}
	ids, names, err := readStrings(ctx, pf, col, int(pf.NumRows()))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	counts := make([]int, len(names))
	for _, id := range ids {
		counts[id]++
	}
	for i, n := range names {
		info.Classes = append(info.Classes, ClassCount{Name: n, Count: counts[i]})
	}
	sort.Slice(info.Classes, func(i, j int) bool {
		a, b := info.Classes[i], info.Classes[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		return a.Name < b.Name
	})
	return info, nil
}
