// Package config decodes, checks and expands etch experiment files (experiments/*.yaml).
//
// An experiment names a dataset, a split, a list of models and optionally a sweep: a grid over
// any dotted key whose combinations, times the number of repeats, are the experiment's trials.
// Files are decoded strictly with github.com/goccy/go-yaml (unknown keys, wrong types and
// duplicate keys are errors), and every error names the file, line and column. Defaults are
// filled in by Defaults and documented on each field; Validate checks the values.
//
// Overrides (`etch run --set key=value`) and sweep values are applied to a generic tree of the
// resolved experiment (its JSON form) and decoded back strictly, so any key a file may hold can
// be overridden or swept, including a model's own parameters (`models.rf.trees`). The canonical
// hash is the SHA-256 of the resolved experiment's JSON form, whose object keys are sorted.
//
// The position bookkeeping and the dotted-key machinery are written here because neither YAML
// library offers setting a dotted path that may not exist in the file yet.
package config
