package eval

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
)

// SplitConfig says how to split a dataset.
type SplitConfig struct {
	// Kind is "stratified" (holdout: Test and Val fractions) or "kfold" (K stratified folds, each
	// fold's Val taken from its training part).
	Kind string  `json:"kind"`
	Test float64 `json:"test,omitempty"`
	Val  float64 `json:"val,omitempty"`
	K    int     `json:"k,omitempty"`
	// Grouped keeps every group (e.g. capture file) on one side of each split.
	Grouped bool `json:"grouped,omitempty"`
}

// Fold is one train/validation/test partition, as sorted row indices.
type Fold struct {
	Train, Val, Test []int
}

// ErrSplit reports a split that cannot be made from the data.
var ErrSplit = errors.New("cannot split")

// Split partitions the rows whose labels are y (and, when cfg.Grouped, whose groups are groups)
// into folds: one for a holdout split, K for k-fold. The result depends only on the inputs and
// seed. Stratification keeps each class's share about equal on every side; classes with a
// single example go to training.
func Split(cfg SplitConfig, y []int32, groups []int32, seed uint64) ([]Fold, error) {
	if cfg.Grouped && len(groups) != len(y) {
		return nil, fmt.Errorf("%w: %d groups for %d rows", ErrSplit, len(groups), len(y))
	}
	if cfg.Val < 0 || cfg.Val >= 1 || cfg.Test < 0 || cfg.Test >= 1 || cfg.Test+cfg.Val >= 1 {
		return nil, fmt.Errorf("%w: fractions test=%g val=%g", ErrSplit, cfg.Test, cfg.Val)
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed5917))
	switch cfg.Kind {
	case "stratified", "holdout", "":
		if cfg.Test <= 0 {
			return nil, fmt.Errorf("%w: holdout needs test > 0", ErrSplit)
		}
		units := makeUnits(cfg.Grouped, y, groups)
		test, rest := takeFraction(units, cfg.Test, rng)
		val, train := takeFraction(rest, cfg.Val/(1-cfg.Test), rng)
		f := Fold{Train: flatten(train), Val: flatten(val), Test: flatten(test)}
		if len(f.Train) == 0 || len(f.Test) == 0 {
			return nil, fmt.Errorf("%w: %d rows give an empty train or test side", ErrSplit, len(y))
		}
		return []Fold{f}, nil
	case "kfold":
		if cfg.K < 2 {
			return nil, fmt.Errorf("%w: kfold needs k ≥ 2, got %d", ErrSplit, cfg.K)
		}
		units := makeUnits(cfg.Grouped, y, groups)
		parts := assignFolds(units, cfg.K, rng)
		folds := make([]Fold, cfg.K)
		for k := range folds {
			var rest []unit
			for j, p := range parts {
				if j != k {
					rest = append(rest, p...)
				}
			}
			val, train := takeFraction(rest, cfg.Val, rng)
			folds[k] = Fold{Train: flatten(train), Val: flatten(val), Test: flatten(parts[k])}
			if len(folds[k].Test) == 0 || len(folds[k].Train) == 0 {
				return nil, fmt.Errorf("%w: fold %d of %d is empty (%d rows)", ErrSplit, k+1, cfg.K, len(y))
			}
		}
		return folds, nil
	}
	return nil, fmt.Errorf("%w: unknown split kind %q (stratified, kfold)", ErrSplit, cfg.Kind)
}

// unit is what a split moves as a whole: one row, or all rows of one group. class is the
// majority label of its rows.
type unit struct {
	rows  []int
	class int32
}

func makeUnits(grouped bool, y, groups []int32) []unit {
	if !grouped {
		us := make([]unit, len(y))
		for i, c := range y {
			us[i] = unit{rows: []int{i}, class: c}
		}
		return us
	}
	byGroup := map[int32][]int{}
	var order []int32
	for i, g := range groups {
		if _, ok := byGroup[g]; !ok {
			order = append(order, g)
		}
		byGroup[g] = append(byGroup[g], i)
	}
	slices.Sort(order)
	us := make([]unit, 0, len(order))
	for _, g := range order {
		rows := byGroup[g]
		count := map[int32]int{}
		best := y[rows[0]]
		for _, r := range rows {
			count[y[r]]++
			if c := count[y[r]]; c > count[best] || (c == count[best] && y[r] < best) {
				best = y[r]
			}
		}
		us = append(us, unit{rows: rows, class: best})
	}
	return us
}

// byClass returns the units of each class, classes in ascending order, each shuffled.
func byClass(units []unit, rng *rand.Rand) [][]unit {
	m := map[int32][]unit{}
	for _, u := range units {
		m[u.class] = append(m[u.class], u)
	}
	keys := make([]int32, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([][]unit, len(keys))
	for i, k := range keys {
		us := m[k]
		rng.Shuffle(len(us), func(a, b int) { us[a], us[b] = us[b], us[a] })
		out[i] = us
	}
	return out
}

// takeFraction takes about frac of the rows of every class (by units), rounding so that the
// total is as close as possible; single-unit classes stay on the rest side.
func takeFraction(units []unit, frac float64, rng *rand.Rand) (taken, rest []unit) {
	if frac <= 0 {
		return nil, units
	}
	for _, us := range byClass(units, rng) {
		n := 0
		for _, u := range us {
			n += len(u.rows)
		}
		want := int(float64(n)*frac + 0.5)
		if want == 0 && len(us) > 1 && float64(n)*frac > 0.25 {
			want = 1
		}
		got := 0
		for i, u := range us {
			if got < want && i < len(us)-1 {
				taken = append(taken, u)
				got += len(u.rows)
			} else {
				rest = append(rest, u)
			}
		}
	}
	return taken, rest
}

// assignFolds deals each class's shuffled units round-robin over k folds, smallest fold first,
// so that class shares and fold sizes stay balanced (for groups too).
func assignFolds(units []unit, k int, rng *rand.Rand) [][]unit {
	parts := make([][]unit, k)
	sizes := make([]int, k)
	for _, us := range byClass(units, rng) {
		for _, u := range us {
			best := 0
			for j := 1; j < k; j++ {
				if sizes[j] < sizes[best] {
					best = j
				}
			}
			parts[best] = append(parts[best], u)
			sizes[best] += len(u.rows)
		}
	}
	return parts
}

func flatten(us []unit) []int {
	var out []int
	for _, u := range us {
		out = append(out, u.rows...)
	}
	slices.Sort(out)
	return out
}

// Leaks counts rows of the test side whose key (a hash of the row's features) also occurs on the
// training side: duplicate flows that make a test set easier than it looks.
func Leaks(keys []uint64, f Fold) int {
	train := make(map[uint64]struct{}, len(f.Train))
	for _, i := range f.Train {
		train[keys[i]] = struct{}{}
	}
	n := 0
	for _, i := range f.Test {
		if _, ok := train[keys[i]]; ok {
			n++
		}
	}
	return n
}
