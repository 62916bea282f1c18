// Package data defines etch's flow record (schema v1), the footer metadata every flows file
// carries, and reading and writing flows files: Parquet (the dataset format), JSON lines and CSV.
//
// The schema is defined once, by Record; README.md ("Flow schema") documents every column.
// Writers go through a temporary file that is renamed into place on Close, so a failed or
// interrupted write never leaves a half-written dataset behind.
//
// Subpackages produce records: flow (pcap → flows), tlsfp (TLS/QUIC fingerprints), importers
// (CSV/ARFF/JSON datasets) and synth (a synthetic traffic lab).
package data
