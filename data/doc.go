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
// Subpackages produce records: flow (pcap → flows), tlsfp (TLS/QUIC fingerprints), importers
// (CSV/ARFF/JSON datasets) and synth (a synthetic traffic lab).
package data
