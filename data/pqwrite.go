package data

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// This file lays out the Parquet pages of a flows file itself; see "Writing" in doc.go for why.
// The schema (schema elements, column orders, each column's codec and encoding) is parquet-go's
// for Record (layoutOf), so files written here and files written by parquet-go's
// GenericWriter[Record] share their schema exactly.

// pageBytes is the size at which a column's data pages are cut (at row boundaries).
const pageBytes = 256 << 10

// pqKind is what a column holds, as far as the encoder cares.
type pqKind uint8

const (
	kBool pqKind = iota
	kInt32
	kInt64
	kFloat32
	kFloat64
	kString
	kListInt32
	kListFloat32
)

// pqColumnDef describes one leaf column: where its value sits in a Record and how it is stored.
type pqColumnDef struct {
	path     []string
	off      uintptr
	kind     pqKind
	dict     bool
	codec    format.CompressionCodec
	physical format.Type
}

// pqLayout is the file layout shared by every flows file this process writes.
type pqLayout struct {
	cols   []pqColumnDef
	schema []format.SchemaElement
	orders []format.ColumnOrder
}

// pqKinds maps the Go types of Record's fields to what the encoder stores.
var pqKinds = map[reflect.Type]struct {
	kind     pqKind
	physical format.Type
}{
	reflect.TypeFor[bool]():      {kBool, format.Boolean},
	reflect.TypeFor[int32]():     {kInt32, format.Int32},
	reflect.TypeFor[int64]():     {kInt64, format.Int64},
	reflect.TypeFor[float32]():   {kFloat32, format.Float},
	reflect.TypeFor[float64]():   {kFloat64, format.Double},
	reflect.TypeFor[string]():    {kString, format.ByteArray},
	reflect.TypeFor[[]int32]():   {kListInt32, format.Int32},
	reflect.TypeFor[[]float32](): {kListFloat32, format.Float},
}

var layoutOnce = sync.OnceValues(newLayout)

// layoutOf returns the Parquet layout of Record, computed once per process.
func layoutOf() (*pqLayout, error) { return layoutOnce() }

func newLayout() (*pqLayout, error) {
	// The schema elements and column orders are those of an empty file written by parquet-go;
	// each column's codec (zstd unless its tag says uncompressed) and dictionary encoding come
	// from its struct tag, as they do for parquet-go (TestFlowsWriterMatchesParquetGo).
	schema := parquet.SchemaOf(Record{})
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[Record](&buf, schema)
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("parquet layout: %w", err)
	}
	pf, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		return nil, fmt.Errorf("parquet layout: %w", err)
	}
	var goFields []reflect.StructField
	walkColumns(reflect.TypeOf(Record{}), func(f reflect.StructField) { goFields = append(goFields, f) })

	l := &pqLayout{schema: pf.Metadata().Schema, orders: pf.Metadata().ColumnOrders}
	paths := schema.Columns()
	if len(paths) != len(goFields) {
		return nil, fmt.Errorf("parquet layout: %d leaf columns for %d fields", len(paths), len(goFields))
	}
	for i, f := range goFields {
		name := columnName(f)
		if paths[i][0] != name {
			return nil, fmt.Errorf("parquet layout: column %v where field %s was expected", paths[i], name)
		}
		c := pqColumnDef{path: paths[i], off: f.Offset, codec: format.Zstd}
		for _, opt := range strings.Split(f.Tag.Get("parquet"), ",")[1:] {
			switch opt {
			case "dict":
				c.dict = true
			case "uncompressed":
				c.codec = format.Uncompressed
			case "list":
			default:
				return nil, fmt.Errorf("parquet layout: column %s: tag option %q not supported by the flows writer", name, opt)
			}
		}
		k, ok := pqKinds[f.Type]
		if !ok {
			return nil, fmt.Errorf("parquet layout: column %s has Go type %v", name, f.Type)
		}
		c.kind, c.physical = k.kind, k.physical
		l.cols = append(l.cols, c)
	}
	return l, nil
}

// pqColumn buffers one column of the current row group.
type pqColumn struct {
	def *pqColumnDef
	// pages holds the PLAIN-encoded values, cut into pages at row boundaries as they arrive, so
	// that each value is copied once (list pages are allocated at full size; scalar pages start
	// at firstPage and double up to pageBytes); free keeps the buffers of pages already
	// written, for the next row group.
	pages []pqPage
	free  [][]byte
	// bits holds a boolean column's values, bit-packed.
	bits        []byte
	nbits, ones int
	// lens holds each row's list length (list columns only).
	lens []int32
	// Dictionary columns: the distinct values in first-seen order and each row's index.
	dict    map[string]int32
	dictVal []string
	idx     []int32
	last    string // the previous row's value
	// Statistics of the row group (numbers as float64 or int64 by kind; strings as bytes).
	hasMinMax  bool
	minI, maxI int64
	minF, maxF float64
	minS, maxS string
	nulls      int64
}

// pqPage is one data page being filled: its values, rows, non-null values and empty lists.
type pqPage struct {
	buf               []byte
	rows, vals, nulls int
}

// firstPage is the capacity of a scalar column's first page buffer; it doubles as the page
// fills, up to pageBytes. (A row group of scalars is far smaller than a page: about 64 KiB of
// int64s at 16 MiB of buffered flows with sequences.)
const firstPage = 4 << 10

// page returns a page with room for need more bytes: the last one, grown while it is under
// pageBytes, or a new one (a row larger than pageBytes gets a page of its own).
func (c *pqColumn) page(need int) *pqPage {
	if n := len(c.pages); n > 0 {
		p := &c.pages[n-1]
		if len(p.buf)+need <= cap(p.buf) {
			return p
		}
		if cap(p.buf) < pageBytes && len(p.buf)+need <= pageBytes {
			p.buf = append(make([]byte, 0, min(2*cap(p.buf)+need, pageBytes)), p.buf...)
			return p
		}
	}
	var buf []byte
	if k := len(c.free); k > 0 && cap(c.free[k-1]) >= need {
		buf, c.free = c.free[k-1][:0], c.free[:k-1]
	} else {
		size := firstPage
		if c.def.kind == kListInt32 || c.def.kind == kListFloat32 {
			size = pageBytes
		}
		buf = make([]byte, 0, max(size, need))
	}
	c.pages = append(c.pages, pqPage{buf: buf})
	return &c.pages[len(c.pages)-1]
}

// pqEncoder writes Records as a Parquet file: each row group is buffered column by column
// and written as pages when it is full or the file is closed.
type pqEncoder struct {
	out      io.Writer
	pos      int64
	layout   *pqLayout
	cols     []pqColumn
	rows     int
	maxRows  int
	maxBytes int
	groups   []format.RowGroup
	total    int64
	kv       map[string]string
	zstd     *zstd.Encoder
	scratch  []byte
	comp     []byte
	page     []byte
	rep, def []byte
	hdr      thrift.Protocol
	err      error
}

func newPQEncoder(out io.Writer, kv map[string]string, maxRows, maxBytes int) (*pqEncoder, error) {
	l, err := layoutOf()
	if err != nil {
		return nil, err
	}
	// Pages are at most pageBytes, so a window of that size loses nothing and keeps the
	// encoder's tables small (they are allocated per writer).
	z, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(pageBytes), zstd.WithLowerEncoderMem(true))
	if err != nil {
		return nil, err
	}
	e := &pqEncoder{zstd: z, out: out, layout: l, maxRows: maxRows, maxBytes: maxBytes, kv: maps.Clone(kv), hdr: new(thrift.CompactProtocol)}
	e.cols = make([]pqColumn, len(l.cols))
	for i := range e.cols {
		e.cols[i].def = &l.cols[i]
		if l.cols[i].dict {
			e.cols[i].dict = map[string]int32{}
		}
	}
	if err := e.write([]byte("PAR1")); err != nil {
		return nil, err
	}
	return e, nil
}

// buffered returns the size of the row group's values buffered so far.
func (e *pqEncoder) buffered() int {
	n := 0
	for i := range e.cols {
		c := &e.cols[i]
		for _, p := range c.pages {
			n += len(p.buf)
		}
		n += len(c.bits) + 4*len(c.idx) + 4*len(c.lens)
	}
	return n
}

func (e *pqEncoder) setMeta(kv map[string]string) { maps.Copy(e.kv, kv) }

func (e *pqEncoder) write(b []byte) error {
	if e.err != nil {
		return e.err
	}
	n, err := e.out.Write(b)
	e.pos += int64(n)
	e.err = err
	return err
}

// groupCheck is how many rows are added between checks of the buffered size.
const groupCheck = 256

func (e *pqEncoder) encode(recs []Record) error {
	for len(recs) > 0 {
		n := min(len(recs), e.maxRows-e.rows, groupCheck)
		for i := range e.cols {
			e.cols[i].add(recs[:n])
		}
		e.rows += n
		recs = recs[n:]
		if e.rows == e.maxRows || e.buffered() >= e.maxBytes {
			if err := e.flushGroup(); err != nil {
				return err
			}
		}
	}
	return e.err
}

func field[T any](r *Record, off uintptr) T { return *(*T)(unsafe.Add(unsafe.Pointer(r), off)) }

// addList appends a list column's value of each record to its pages (p as for addInts);
// float lists also feed the statistics.
func addList[T int32 | float32](c *pqColumn, p *pqPage, recs []Record) {
	_, isFloat := any(T(0)).(float32)
	for i := range recs {
		v := field[[]T](&recs[i], c.def.off)
		if p == nil || len(p.buf)+4*len(v) > cap(p.buf) {
			p = c.page(4 * len(v))
		}
		c.lens = append(c.lens, int32(len(v)))
		p.rows++
		if len(v) == 0 {
			c.nulls++
			p.nulls++
			continue
		}
		if isFloat {
			for _, x := range v {
				c.floatStat(float64(x))
			}
		}
		p.vals += len(v)
		p.buf = appendLE32(p.buf, v)
	}
}

// addInts appends an integer column's value of each record to its pages (p is the last page,
// nil if none; the new last page is returned), with min and max kept in registers.
func addInts[T int32 | int64](c *pqColumn, p *pqPage, recs []Record) *pqPage {
	size := int(unsafe.Sizeof(T(0)))
	lo, hi, has := c.minI, c.maxI, c.hasMinMax
	for i := 0; i < len(recs); {
		if p == nil || len(p.buf)+size > cap(p.buf) {
			p = c.page(size)
		}
		n := min(len(recs)-i, (cap(p.buf)-len(p.buf))/size)
		dst := grow(&p.buf, size*n)
		for j := range n {
			v := field[T](&recs[i+j], c.def.off)
			if size == 4 {
				binary.LittleEndian.PutUint32(dst[4*j:], uint32(v))
			} else {
				binary.LittleEndian.PutUint64(dst[8*j:], uint64(v))
			}
			if !has {
				lo, hi, has = int64(v), int64(v), true
			}
			lo, hi = min(lo, int64(v)), max(hi, int64(v))
		}
		p.rows += n
		i += n
	}
	c.minI, c.maxI, c.hasMinMax = lo, hi, has
	return p
}

// add appends the column's value of each record.
func (c *pqColumn) add(recs []Record) {
	d := c.def
	var p *pqPage
	if n := len(c.pages); n > 0 {
		p = &c.pages[n-1]
	}
	// fits reports whether the current page has room for need more bytes.
	fits := func(need int) bool { return p != nil && len(p.buf)+need <= cap(p.buf) }
	switch d.kind {
	case kBool:
		for i := range recs {
			if c.nbits%8 == 0 {
				c.bits = append(c.bits, 0)
			}
			if field[bool](&recs[i], d.off) {
				c.bits[len(c.bits)-1] |= 1 << (c.nbits % 8)
				c.ones++
			}
			c.nbits++
		}
	case kInt32:
		p = addInts[int32](c, p, recs)
	case kInt64:
		p = addInts[int64](c, p, recs)
	case kFloat32:
		for i := range recs {
			if !fits(4) {
				p = c.page(4)
			}
			v := field[float32](&recs[i], d.off)
			p.buf = binary.LittleEndian.AppendUint32(p.buf, math.Float32bits(v))
			p.rows++
			c.floatStat(float64(v))
		}
	case kFloat64:
		lo, hi, has := c.minF, c.maxF, c.hasMinMax
		for i := 0; i < len(recs); {
			if !fits(8) {
				p = c.page(8)
			}
			n := min(len(recs)-i, (cap(p.buf)-len(p.buf))/8)
			dst := grow(&p.buf, 8*n)
			for j := range n {
				v := field[float64](&recs[i+j], d.off)
				binary.LittleEndian.PutUint64(dst[8*j:], math.Float64bits(v))
				switch {
				case v != v: // NaN takes no part in the statistics
				case !has:
					lo, hi, has = v, v, true
				case v < lo:
					lo = v
				case v > hi:
					hi = v
				}
			}
			p.rows += n
			i += n
		}
		c.minF, c.maxF, c.hasMinMax = lo, hi, has
	case kString:
		for i := range recs {
			v := field[string](&recs[i], d.off)
			if d.dict {
				if len(c.idx) > 0 && v == c.last {
					c.idx = append(c.idx, c.idx[len(c.idx)-1])
					continue
				}
				c.last = v
				j, ok := c.dict[v]
				if !ok {
					j = int32(len(c.dictVal))
					c.dict[v] = j
					c.dictVal = append(c.dictVal, v)
					c.stringStat(v)
				}
				c.idx = append(c.idx, j)
				continue
			}
			if !fits(4 + len(v)) {
				p = c.page(4 + len(v))
			}
			p.buf = binary.LittleEndian.AppendUint32(p.buf, uint32(len(v)))
			p.buf = append(p.buf, v...)
			p.rows++
			c.stringStat(v)
		}
	case kListInt32:
		addList[int32](c, p, recs)
	case kListFloat32:
		addList[float32](c, p, recs)
	}
}

func (c *pqColumn) floatStat(v float64) {
	switch {
	case v != v: // NaN takes no part in the statistics
	case !c.hasMinMax:
		c.hasMinMax, c.minF, c.maxF = true, v, v
	case v < c.minF:
		c.minF = v
	case v > c.maxF:
		c.maxF = v
	}
}

// grow extends *b by n bytes (within its capacity) and returns them.
func grow(b *[]byte, n int) []byte {
	at := len(*b)
	*b = (*b)[:at+n]
	return (*b)[at:]
}

func (c *pqColumn) stringStat(v string) {
	if !c.hasMinMax {
		c.hasMinMax, c.minS, c.maxS = true, v, v
		return
	}
	c.minS, c.maxS = min(c.minS, v), max(c.maxS, v)
}

// statistics returns the row group statistics in Parquet's encoding. List columns of int32
// keep none (min and max are optional; computing them would cost a pass over every value).
func (c *pqColumn) statistics() format.Statistics {
	s := format.Statistics{NullCount: c.nulls}
	if c.def.kind == kBool && c.nbits > 0 {
		s.MinValue, s.MaxValue = []byte{0}, []byte{1}
		if c.ones == c.nbits {
			s.MinValue[0] = 1
		}
		if c.ones == 0 {
			s.MaxValue[0] = 0
		}
		return s
	}
	if !c.hasMinMax {
		return s
	}
	// As the format asks, a zero minimum is written -0 and a zero maximum +0.
	lo, hi := c.minF, c.maxF
	if lo == 0 {
		lo = math.Copysign(0, -1)
	}
	if hi == 0 {
		hi = 0
	}
	switch c.def.kind {
	case kInt32:
		s.MinValue = binary.LittleEndian.AppendUint32(nil, uint32(int32(c.minI)))
		s.MaxValue = binary.LittleEndian.AppendUint32(nil, uint32(int32(c.maxI)))
	case kInt64:
		s.MinValue = binary.LittleEndian.AppendUint64(nil, uint64(c.minI))
		s.MaxValue = binary.LittleEndian.AppendUint64(nil, uint64(c.maxI))
	case kFloat32, kListFloat32:
		s.MinValue = binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(lo)))
		s.MaxValue = binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(hi)))
	case kFloat64:
		s.MinValue = binary.LittleEndian.AppendUint64(nil, math.Float64bits(lo))
		s.MaxValue = binary.LittleEndian.AppendUint64(nil, math.Float64bits(hi))
	case kString:
		s.MinValue, s.MaxValue = []byte(c.minS), []byte(c.maxS)
	}
	return s
}

func (c *pqColumn) reset() {
	for _, p := range c.pages {
		c.free = append(c.free, p.buf)
	}
	c.pages, c.bits, c.lens, c.idx = c.pages[:0], c.bits[:0], c.lens[:0], c.idx[:0]
	clear(c.dict)
	c.dictVal = c.dictVal[:0]
	c.hasMinMax, c.nulls, c.nbits, c.ones = false, 0, 0, 0
	c.minS, c.maxS, c.last = "", "", ""
}

// flushGroup writes the buffered row group.
func (e *pqEncoder) flushGroup() error {
	if e.rows == 0 {
		return e.err
	}
	rg := format.RowGroup{NumRows: int64(e.rows), FileOffset: e.pos, Ordinal: int16(len(e.groups))}
	for i := range e.cols {
		cc, err := e.writeChunk(&e.cols[i])
		if err != nil {
			return err
		}
		rg.Columns = append(rg.Columns, cc)
		rg.TotalByteSize += cc.MetaData.TotalUncompressedSize
		rg.TotalCompressedSize += cc.MetaData.TotalCompressedSize
		e.cols[i].reset()
	}
	e.groups = append(e.groups, rg)
	e.total += int64(e.rows)
	e.rows = 0
	return e.err
}

// writeChunk writes one column chunk: a dictionary page if the column has one, then data
// pages of at most pageBytes each, cut at row boundaries.
func (e *pqEncoder) writeChunk(c *pqColumn) (format.ColumnChunk, error) {
	d := c.def
	m := format.ColumnMetaData{Type: d.physical, PathInSchema: d.path, Codec: d.codec, Statistics: c.statistics()}
	start := e.pos
	var pages int32
	if d.dict {
		m.DictionaryPageOffset = e.pos
		e.scratch = e.scratch[:0]
		for _, v := range c.dictVal {
			e.scratch = binary.LittleEndian.AppendUint32(e.scratch, uint32(len(v)))
			e.scratch = append(e.scratch, v...)
		}
		data, err := e.compress(d.codec, e.scratch)
		if err != nil {
			return format.ColumnChunk{}, err
		}
		h := format.PageHeader{Type: format.DictionaryPage, UncompressedPageSize: int32(len(e.scratch)),
			CompressedPageSize: int32(len(data))}
		h.DictionaryPageHeader.V = format.DictionaryPageHeader{NumValues: int32(len(c.dictVal)), Encoding: format.Plain}
		h.DictionaryPageHeader.Valid = true
		unc, err := e.writePage(&h, nil, data)
		if err != nil {
			return format.ColumnChunk{}, err
		}
		m.TotalUncompressedSize += unc
		m.Encoding = append(m.Encoding, format.Plain)
		m.EncodingStats = append(m.EncodingStats, format.PageEncodingStats{PageType: format.DictionaryPage, Encoding: format.Plain, Count: 1})
	}
	m.DataPageOffset = e.pos
	enc := format.Plain
	switch {
	case d.dict:
		enc = format.RLEDictionary
		var err error
		e.page, err = (&rle.DictionaryEncoding{}).EncodeInt32(e.page[:0], c.idx)
		if err != nil {
			return format.ColumnChunk{}, err
		}
		unc, err := e.dataPage(d, e.page, len(c.idx), len(c.idx), 0, enc)
		if err != nil {
			return format.ColumnChunk{}, err
		}
		m.TotalUncompressedSize += unc
		m.NumValues = int64(len(c.idx))
		pages++
	case d.kind == kBool:
		unc, err := e.dataPage(d, c.bits, c.nbits, c.nbits, 0, enc)
		if err != nil {
			return format.ColumnChunk{}, err
		}
		m.TotalUncompressedSize += unc
		m.NumValues = int64(c.nbits)
		pages++
	default:
		list := d.kind == kListInt32 || d.kind == kListFloat32
		row := 0
		for _, p := range c.pages {
			var unc int64
			var err error
			if list {
				unc, err = e.listPage(d, c.lens[row:row+p.rows], p.buf, p.vals, p.nulls)
				m.NumValues += int64(p.vals + p.nulls)
			} else {
				unc, err = e.dataPage(d, p.buf, p.rows, p.rows, 0, enc)
				m.NumValues += int64(p.rows)
			}
			if err != nil {
				return format.ColumnChunk{}, err
			}
			m.TotalUncompressedSize += unc
			row += p.rows
			pages++
		}
	}
	m.Encoding = append(m.Encoding, enc)
	if d.kind == kListInt32 || d.kind == kListFloat32 {
		m.Encoding = append(m.Encoding, format.RLE)
	}
	m.EncodingStats = append(m.EncodingStats, format.PageEncodingStats{PageType: format.DataPageV2, Encoding: enc, Count: pages})
	m.TotalCompressedSize = e.pos - start
	return format.ColumnChunk{MetaData: m}, e.err
}

// listPage writes one data page of a list column: rows with the given lengths, vals values.
// Repetition levels are 0 for a row's first entry and 1 for the rest; definition levels are 1
// for a value and 0 for an empty list (which takes one entry and no value).
func (e *pqEncoder) listPage(d *pqColumnDef, lens []int32, values []byte, vals, nulls int) (int64, error) {
	e.rep, e.def = e.rep[:0], e.def[:0]
	run, runLevel := 0, byte(1) // the current run of definition levels
	for _, n := range lens {
		e.rep = appendRun(e.rep, 1, 0)
		if n > 1 {
			e.rep = appendRun(e.rep, int(n-1), 1)
		}
		level, count := byte(1), int(n)
		if n == 0 {
			level, count = 0, 1
		}
		if level != runLevel && run > 0 {
			e.def = appendRun(e.def, run, runLevel)
			run = 0
		}
		runLevel = level
		run += count
	}
	if run > 0 {
		e.def = appendRun(e.def, run, runLevel)
	}
	return e.dataPageLevels(d, values, vals+nulls, len(lens), nulls, format.Plain, e.rep, e.def)
}

// appendRun appends an RLE run of count copies of a 1-bit level (the RLE/bit-packing hybrid:
// a varint header count<<1, then the value in one byte).
func appendRun(dst []byte, count int, level byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(count)<<1)
	return append(dst, level)
}

func (e *pqEncoder) dataPage(d *pqColumnDef, values []byte, numValues, numRows, nulls int, enc format.Encoding) (int64, error) {
	return e.dataPageLevels(d, values, numValues, numRows, nulls, enc, nil, nil)
}

func (e *pqEncoder) dataPageLevels(d *pqColumnDef, values []byte, numValues, numRows, nulls int, enc format.Encoding, rep, def []byte) (int64, error) {
	data, err := e.compress(d.codec, values)
	if err != nil {
		return 0, err
	}
	levels := len(rep) + len(def)
	h := format.PageHeader{Type: format.DataPageV2, UncompressedPageSize: int32(levels + len(values)),
		CompressedPageSize: int32(levels + len(data))}
	h.DataPageHeaderV2.Valid = true
	v2 := &h.DataPageHeaderV2.V
	*v2 = format.DataPageHeaderV2{NumValues: int32(numValues), NumNulls: int32(nulls), NumRows: int32(numRows),
		Encoding: enc, DefinitionLevelsByteLength: int32(len(def)), RepetitionLevelsByteLength: int32(len(rep)),
		Statistics: format.Statistics{NullCount: int64(nulls)}}
	v2.IsCompressed.V, v2.IsCompressed.Valid = d.codec != format.Uncompressed, true
	e.scratch = append(append(e.scratch[:0], rep...), def...)
	return e.writePage(&h, e.scratch, data)
}

// writePage writes a page header, the page's levels and its (compressed) data, and returns the
// page's uncompressed size with its header.
func (e *pqEncoder) writePage(h *format.PageHeader, levels, data []byte) (int64, error) {
	hb, err := thrift.Marshal(e.hdr, h)
	if err != nil {
		return 0, err
	}
	e.write(hb)
	e.write(levels)
	e.write(data)
	return int64(len(hb)) + int64(h.UncompressedPageSize), e.err
}

func (e *pqEncoder) compress(codec format.CompressionCodec, b []byte) ([]byte, error) {
	switch codec {
	case format.Uncompressed:
		return b, nil
	case format.Zstd:
		e.comp = e.zstd.EncodeAll(b, e.comp[:0])
		return e.comp, nil
	}
	return nil, fmt.Errorf("parquet: codec %v not supported by the flows writer", codec)
}

func (e *pqEncoder) close() error {
	defer e.zstd.Close()
	if err := e.flushGroup(); err != nil {
		return err
	}
	md := format.FileMetaData{Version: 2, Schema: e.layout.schema, NumRows: e.total, RowGroups: e.groups,
		CreatedBy: "etch flows writer (github.com/etchlab/etch/data)", ColumnOrders: e.layout.orders}
	for _, k := range slices.Sorted(maps.Keys(e.kv)) {
		md.KeyValueMetadata = append(md.KeyValueMetadata, format.KeyValue{Key: k, Value: e.kv[k]})
	}
	b, err := thrift.Marshal(e.hdr, &md)
	if err != nil {
		return err
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(b)))
	b = append(b, "PAR1"...)
	return e.write(b)
}

// littleEndian reports whether this machine stores integers little-endian, as Parquet does.
func littleEndian() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}

// appendLE32 appends 4-byte values in Parquet's PLAIN encoding (little-endian): one copy on a
// little-endian machine.
func appendLE32[T int32 | float32](dst []byte, v []T) []byte {
	if len(v) == 0 {
		return dst
	}
	if littleEndian() {
		return append(dst, unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*len(v))...)
	}
	for i := range v {
		dst = binary.LittleEndian.AppendUint32(dst, *(*uint32)(unsafe.Pointer(&v[i])))
	}
	return dst
}
