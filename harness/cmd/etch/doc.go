// Command etch is the Encrypted Traffic Classification Harness: it turns captures into flow
// datasets, trains and evaluates traffic classifiers from YAML experiments, and writes
// reproducible Markdown reports. Run `etch help` for the commands.
//
// This package only parses flags, builds a context cancelled by SIGINT/SIGTERM and calls into
// the other packages; it holds no logic of its own.
package main
