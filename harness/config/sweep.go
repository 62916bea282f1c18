package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Point is one combination of sweep values: the experiment with those values applied.
type Point struct {
	// Index numbers the points from 0 in grid order (last axis fastest).
	Index int
	// Params maps each swept key to its value at this point.
	Params map[string]any
	// Config is the experiment with the values applied and its sweep removed.
	Config *Experiment
}

// Expand enumerates the sweep grid (one point without a sweep). Repeats are not expanded here:
// each point runs Repeats times (the runner derives a seed per repeat).
func (e *Experiment) Expand() ([]Point, error) {
	n := 1
	for _, a := range e.Sweep {
		if len(a.Values) == 0 {
			return nil, e.errAt("sweep."+a.Key, "no values")
		}
		n *= len(a.Values)
	}
	if n > 100000 {
		return nil, e.errAt("sweep", "%d combinations: too many", n)
	}
	points := make([]Point, 0, n)
	idx := make([]int, len(e.Sweep))
	for p := range n {
		set := map[string]any{}
		keys := make([]string, len(e.Sweep))
		for i, a := range e.Sweep {
			set[a.Key] = a.Values[idx[i]]
			keys[i] = a.Key
		}
		c, err := e.withOrdered(keys, set)
		if err != nil {
			return nil, err
		}
		c.Sweep = nil
		points = append(points, Point{Index: p, Params: set, Config: c})
		for i := len(idx) - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < len(e.Sweep[i].Values) {
				break
			}
			idx[i] = 0
		}
	}
	return points, nil
}

// Hash returns the canonical hash of the resolved experiment: the SHA-256 (hex) of its JSON
// form with sorted object keys. Formatting, key order and comments of the file do not change it.
func (e *Experiment) Hash() string {
	return HashValue(e)
}

// HashValue returns the hex SHA-256 of v's canonical JSON form (object keys sorted).
func HashValue(v any) string {
	b, err := canonicalJSON(v)
	if err != nil {
		return "unhashable:" + err.Error()
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// canonicalJSON encodes v, then re-encodes it through generic values so every object's keys are
// sorted (encoding/json sorts map keys) whatever v's struct field order.
func canonicalJSON(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("canonical json: %w", err)
	}
	var g any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&g); err != nil {
		return nil, fmt.Errorf("canonical json: %w", err)
	}
	return json.Marshal(g)
}
