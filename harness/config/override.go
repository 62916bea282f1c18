package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
)

// Override is one `--set key=value`: a dotted key and a value decoded from YAML.
type Override struct {
	Key   string
	Value any
}

// ParseOverride parses "key=value"; the value is read as YAML (10 → number, [a, b] → list,
// {top_n: 5} → map, anything else a string).
func ParseOverride(s string) (Override, error) {
	k, v, ok := strings.Cut(s, "=")
	k = strings.TrimSpace(k)
	if !ok || k == "" {
		return Override{}, fmt.Errorf("%w: --set %q: want key=value", ErrConfig, s)
	}
	var val any
	if strings.TrimSpace(v) != "" {
		if err := yaml.Unmarshal([]byte(v), &val); err != nil {
			return Override{}, fmt.Errorf("%w: --set %s: value %q: %v", ErrConfig, k, v, err)
		}
	}
	if val == nil {
		val = v
	}
	return Override{Key: k, Value: normalize(val)}, nil
}

// Apply returns a copy of e with the overrides applied in order. Keys are dotted paths into the
// experiment (data.filter.top_n, split.kind, executor.jobs); models are addressed by name or
// index (models.rf.trees, models.0.trees) and may gain parameters. The result is decoded
// strictly: an unknown key or a wrong type is an error naming the key.
func (e *Experiment) Apply(ovs ...Override) (*Experiment, error) {
	m := make(map[string]any, len(ovs))
	keys := make([]string, 0, len(ovs))
	for _, o := range ovs {
		if _, ok := m[o.Key]; !ok {
			keys = append(keys, o.Key)
		}
		m[o.Key] = o.Value
	}
	return e.withOrdered(keys, m)
}

// with applies the key → value settings (in sorted key order).
func (e *Experiment) with(set map[string]any) (*Experiment, error) {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return e.withOrdered(keys, set)
}

func (e *Experiment) withOrdered(keys []string, set map[string]any) (*Experiment, error) {
	base := *e
	var rest []string
	for _, k := range keys {
		if ax, ok := strings.CutPrefix(k, "sweep."); ok {
			vals, ok := set[k].([]any)
			if !ok {
				return nil, &Error{File: e.Source, Path: k, Msg: "want a list of values"}
			}
			base.Sweep = setAxis(base.Sweep, ax, vals)
			continue
		}
		rest = append(rest, k)
	}
	keys = rest
	tree, err := base.tree()
	if err != nil {
		return nil, err
	}
	splitKind := false
	for _, k := range keys {
		if err := setPath(tree, k, set[k]); err != nil {
			return nil, &Error{File: e.Source, Path: k, Msg: err.Error()}
		}
		if k == "split.kind" || k == "split" {
			splitKind = true
		}
	}
	if splitKind {
		// A changed split kind takes the other kind's defaults unless they were set too.
		sp, _ := tree["split"].(map[string]any)
		if sp != nil {
			if _, ok := set["split.test"]; !ok && sp["kind"] == "kfold" && fmt.Sprint(sp["test"]) == "0.2" {
				sp["test"] = 0.0
			}
			if _, ok := set["split.k"]; !ok && sp["kind"] == "stratified" && fmt.Sprint(sp["k"]) == "10" {
				sp["k"] = 0.0
			}
		}
	}
	b, err := json.Marshal(tree)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	out, err := decodeJSON(b)
	if err != nil {
		return nil, &Error{File: e.Source, Path: strings.Join(keys, ", "), Msg: err.Error()}
	}
	out.Source, out.positions = e.Source, e.positions
	out.Defaults()
	return out, nil
}

// decodeJSON decodes an experiment's JSON form strictly.
func decodeJSON(b []byte) (*Experiment, error) {
	var out Experiment
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return &out, nil
}

// tree returns the experiment's JSON form as generic values.
func (e *Experiment) tree() (map[string]any, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("%w: encode: %v", ErrConfig, err)
	}
	var t map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // keeps 64-bit seeds exact
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("%w: encode: %v", ErrConfig, err)
	}
	return t, nil
}

// setPath sets the dotted key in tree, creating maps on the way. In the list `models` an
// element is found by its name or its index; in other lists by index.
func setPath(tree map[string]any, key string, v any) error {
	parts := strings.Split(key, ".")
	var cur any = tree
	for i, p := range parts {
		last := i == len(parts)-1
		if p == "" {
			return fmt.Errorf("empty element in key")
		}
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[p] = v
				return nil
			}
			next, ok := c[p]
			if !ok || next == nil {
				next = map[string]any{}
				c[p] = next
			}
			cur = next
		case []any:
			j := -1
			if n, err := strconv.Atoi(p); err == nil {
				j = n
			} else {
				for k, el := range c {
					if m, ok := el.(map[string]any); ok && m["name"] == p {
						j = k
						break
					}
				}
			}
			if j < 0 || j >= len(c) {
				return fmt.Errorf("no element %q in %s", p, strings.Join(parts[:i], "."))
			}
			if last {
				c[j] = v
				return nil
			}
			cur = c[j]
		default:
			return fmt.Errorf("%s is a value, not a map", strings.Join(parts[:i], "."))
		}
	}
	return nil
}

// setAxis returns a copy of s with the axis key set to vals (replaced in place or appended).
func setAxis(s Sweep, key string, vals []any) Sweep {
	out := slices.Clone(s)
	for i := range out {
		if out[i].Key == key {
			out[i].Values = vals
			return out
		}
	}
	return append(out, Axis{Key: key, Values: vals})
}
