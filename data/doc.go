// Package data defines etch's flow record (schema v1), the footer metadata every flows file
// carries, and reading and writing flows files: Parquet (the dataset format), JSON lines and CSV.
//
// The schema is defined once, by Record; README.md ("Flow schema") documents every column.
// Writers go through a temporary file that is renamed into place on Close, so a failed or
// interrupted write never leaves a half-written dataset behind.
//
// Load is the training path: it reads only the projected columns of a flows file, page by page
// through parquet-go's column chunks, into one float32 slab per kind of feature, applying the
// class filters while decoding. It is hand-written on top of the page API because parquet-go's
// row readers (GenericReader, Rows) decode whole rows into Go values, which is several times
// slower and allocates per row; see BenchmarkLoad. Scalers (Fit, Scaler) are fitted on training
// rows only and serialise to JSON.
//
// Writing: Create's Parquet writer lays out the pages of a flows file itself (pqwrite.go) and
// leaves to parquet-go what it does well: the schema (the schema elements of an empty file parquet-go
// writes for Record, so both writers' files have the same schema, codecs and encodings), the
// Thrift page headers and footer, the RLE encoder of dictionary indexes and the zstd codec.
// parquet-go's GenericWriter shreds every row value by value and keeps level histograms per page,
// which cost about 40% of `etch extract` on a 1M-packet capture, most of it for the four list
// columns whose levels follow one fixed pattern; the hand-written encoder copies each column's
// values once into page-sized buffers and writes the levels as runs. It writes PLAIN values
// (dictionary encoding where the schema asks for it), data pages v2 cut at row boundaries of
// about 256 KiB, and row group statistics (min/max except on int32 lists, null counts); no page
// index or bloom filters. TestFlowsWriterMatchesParquetGo checks its files against
// parquet-go's: same records read back, same schema, same statistics.
//
// Subpackages produce records: flow (pcap → flows), tlsfp (TLS/QUIC fingerprints), importers
// (CSV/ARFF/JSON datasets) and synth (a synthetic traffic lab).
package data
