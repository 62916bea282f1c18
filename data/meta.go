package data

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Footer metadata keys written into every flows.parquet (key/value metadata).
const (
	MetaSchemaVersion = "etch.schema_version"
	MetaVersion       = "etch.version" // etch version that wrote the file
	MetaSource        = "etch.source"  // extract, synth, import:gcseq, import:arff, import:csv, ...
	MetaSeqLen        = "etch.seq_len" // N of the first-N sequences
	MetaIdleTimeout   = "etch.idle_timeout"
	MetaActiveTimeout = "etch.active_timeout"
	MetaPrivacy       = "etch.privacy"     // e.g. "ips=drop sni=clear"
	MetaInputs        = "etch.inputs"      // JSON array of {"name","sha256"}
	MetaExtraNames    = "etch.extra_names" // JSON array of names of the Extra column's entries
	MetaParams        = "etch.params"      // JSON object of source-specific parameters (seed, layout, ...)
)

// Input names one input file of a dataset and its content hash.
type Input struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// Meta is the footer metadata of a flows file.
type Meta struct {
	SchemaVersion int
	Version       string
	Source        string
	SeqLen        int
	IdleTimeout   string
	ActiveTimeout string
	Privacy       string
	Inputs        []Input
	ExtraNames    []string
	Params        map[string]string
}

// KeyValues encodes m as footer key/value pairs. Empty fields are left out.
func (m *Meta) KeyValues() map[string]string {
	kv := map[string]string{MetaSchemaVersion: strconv.Itoa(SchemaVersion)}
	set := func(k, v string) {
		if v != "" {
			kv[k] = v
		}
	}
	set(MetaVersion, m.Version)
	set(MetaSource, m.Source)
	if m.SeqLen > 0 {
		kv[MetaSeqLen] = strconv.Itoa(m.SeqLen)
	}
	set(MetaIdleTimeout, m.IdleTimeout)
	set(MetaActiveTimeout, m.ActiveTimeout)
	set(MetaPrivacy, m.Privacy)
	if len(m.Inputs) > 0 {
		b, _ := json.Marshal(m.Inputs)
		kv[MetaInputs] = string(b)
	}
	if len(m.ExtraNames) > 0 {
		b, _ := json.Marshal(m.ExtraNames)
		kv[MetaExtraNames] = string(b)
	}
	if len(m.Params) > 0 {
		b, _ := json.Marshal(m.Params)
		kv[MetaParams] = string(b)
	}
	return kv
}

// ParseMeta decodes footer key/value pairs. It fails on a missing or unsupported schema version
// or malformed JSON values.
func ParseMeta(kv map[string]string) (Meta, error) {
	var m Meta
	sv, ok := kv[MetaSchemaVersion]
	if !ok {
		return m, fmt.Errorf("%w: no %s in footer", ErrSchema, MetaSchemaVersion)
	}
	v, err := strconv.Atoi(sv)
	if err != nil || v != SchemaVersion {
		return m, fmt.Errorf("%w: schema version %q, want %d", ErrSchema, sv, SchemaVersion)
	}
	m.SchemaVersion = v
	m.Version = kv[MetaVersion]
	m.Source = kv[MetaSource]
	if s := kv[MetaSeqLen]; s != "" {
		if m.SeqLen, err = strconv.Atoi(s); err != nil || m.SeqLen < 0 {
			return m, fmt.Errorf("%w: bad %s %q", ErrSchema, MetaSeqLen, s)
		}
	}
	m.IdleTimeout = kv[MetaIdleTimeout]
	m.ActiveTimeout = kv[MetaActiveTimeout]
	m.Privacy = kv[MetaPrivacy]
	for _, f := range []struct {
		key string
		dst any
	}{{MetaInputs, &m.Inputs}, {MetaExtraNames, &m.ExtraNames}, {MetaParams, &m.Params}} {
		if s := kv[f.key]; s != "" {
			if err := json.Unmarshal([]byte(s), f.dst); err != nil {
				return m, fmt.Errorf("%w: bad %s: %v", ErrSchema, f.key, err)
			}
		}
	}
	return m, nil
}
