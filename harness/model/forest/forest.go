package forest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/etchlab/etch/harness/model"
)

// Type is the `type:` name of a random forest in an experiment.
const Type = "forest"

// Params are the parameters of a `type: forest` model entry.
type Params struct {
	// Trees is the number of trees (default 100).
	Trees int `json:"trees,omitempty"`
	// MaxDepth limits tree depth; 0 grows trees until leaves are pure or too small.
	MaxDepth int `json:"max_depth,omitempty"`
	// MinSamplesLeaf is the least number of distinct training examples in a leaf (default 1).
	MinSamplesLeaf int `json:"min_samples_leaf,omitempty"`
	// MaxFeatures is how many features a split considers: "sqrt" (default), "log2", "all", an
	// integer count (≥ 1) or a fraction in (0, 1).
	MaxFeatures any `json:"max_features,omitempty"`
	// Criterion is "gini" (default) or "entropy".
	Criterion string `json:"criterion,omitempty"`
	// ClassWeight is "" (none; Data.Weights still apply) or "balanced" (n / (classes × count)).
	ClassWeight string `json:"class_weight,omitempty"`
	// Bins is the number of quantile bins per feature, 2..256 (default 256).
	Bins int `json:"bins,omitempty"`
	// Bootstrap draws each tree's sample with replacement (default true).
	Bootstrap *bool `json:"bootstrap,omitempty"`
}

// ErrParams reports invalid parameters.
var ErrParams = errors.New("invalid forest parameters")

// resolved parameters.
type config struct {
	trees, maxDepth, minLeaf, bins int
	entropy, balanced, bootstrap   bool
	maxFeatures                    string
}

func (p Params) resolve() (config, error) {
	c := config{trees: p.Trees, maxDepth: p.MaxDepth, minLeaf: p.MinSamplesLeaf, bins: p.Bins, bootstrap: true}
	if c.trees == 0 {
		c.trees = 100
	}
	if c.minLeaf == 0 {
		c.minLeaf = 1
	}
	if c.bins == 0 {
		c.bins = 256
	}
	if p.Bootstrap != nil {
		c.bootstrap = *p.Bootstrap
	}
	switch {
	case c.trees < 1 || c.trees > 100_000:
		return c, fmt.Errorf("%w: trees %d outside [1, 100000]", ErrParams, c.trees)
	case c.maxDepth < 0:
		return c, fmt.Errorf("%w: max_depth %d < 0", ErrParams, c.maxDepth)
	case c.minLeaf < 1:
		return c, fmt.Errorf("%w: min_samples_leaf %d < 1", ErrParams, c.minLeaf)
	case c.bins < 2 || c.bins > 256:
		return c, fmt.Errorf("%w: bins %d outside [2, 256]", ErrParams, c.bins)
	}
	switch p.Criterion {
	case "", "gini":
	case "entropy":
		c.entropy = true
	default:
		return c, fmt.Errorf("%w: criterion %q (want gini or entropy)", ErrParams, p.Criterion)
	}
	switch p.ClassWeight {
	case "", "none":
	case "balanced":
		c.balanced = true
	default:
		return c, fmt.Errorf("%w: class_weight %q (want balanced or none)", ErrParams, p.ClassWeight)
	}
	switch v := p.MaxFeatures.(type) {
	case nil:
		c.maxFeatures = "sqrt"
	case string:
		switch v {
		case "sqrt", "log2", "all":
			c.maxFeatures = v
		default:
			return c, fmt.Errorf("%w: max_features %q (want sqrt, log2, all or a number)", ErrParams, v)
		}
	case float64:
		if v <= 0 || (v >= 1 && v != math.Trunc(v)) {
			return c, fmt.Errorf("%w: max_features %v (want an integer ≥ 1 or a fraction in (0,1))", ErrParams, v)
		}
		c.maxFeatures = strconv.FormatFloat(v, 'g', -1, 64)
	case int:
		if v < 1 {
			return c, fmt.Errorf("%w: max_features %d < 1", ErrParams, v)
		}
		c.maxFeatures = strconv.Itoa(v)
	default:
		return c, fmt.Errorf("%w: max_features %v of type %T", ErrParams, v, v)
	}
	return c, nil
}

// mtry returns the number of features a split considers out of f.
func (c config) mtry(f int) int {
	var m int
	switch c.maxFeatures {
	case "sqrt":
		m = int(math.Sqrt(float64(f)))
	case "log2":
		m = int(math.Log2(float64(f)))
	case "all":
		m = f
	default:
		v, _ := strconv.ParseFloat(c.maxFeatures, 64)
		if v < 1 {
			m = int(v * float64(f))
		} else {
			m = int(v)
		}
	}
	return max(1, min(m, f))
}

// Register adds the `forest` constructor to reg.
func Register(reg model.Registry) { reg[Type] = Constructor }

// Constructor builds an untrained forest from a spec.
func Constructor(spec model.Spec, env model.Env) (model.Model, error) {
	var p Params
	if err := model.DecodeParams(spec.Params, &p); err != nil {
		return nil, err
	}
	return New(p, env)
}

// New returns an untrained forest.
func New(p Params, env model.Env) (*Model, error) {
	c, err := p.resolve()
	if err != nil {
		return nil, err
	}
	return &Model{params: p, cfg: c, env: env}, nil
}

// node is one node of the flattened forest. An inner node sends x to the next node (its left
// child) when x[feat] <= thr, else to right. A leaf has feat 0, threshold NaN and right pointing
// to itself (so a walk stays there); leafOf maps it to its distribution.
type node struct {
	thr   float32
	feat  int32
	right int32
}

// pnode is an inner node as the prediction walk reads it: the threshold as an order key (see
// orderKey; a row whose key is <= it goes left) and both children, an inner node's index in
// pnodes or, negative, a leaf: ^e where pleaf[e] is the leaf's first entry, or ^(pureLeaf|c)
// for a leaf of class c alone. 16 bytes: four to a cache
// line.
type pnode struct {
	key   uint32
	feat  int32
	child [2]int32
}

// leafEntry is one class probability of a leaf as prediction reads it: cls has bit 31 set on
// the leaf's last entry.
type leafEntry struct {
	cls uint32
	p   float32
}

// lastEntry flags the last entry of a leaf.
const lastEntry = 1 << 31

// pureLeaf flags a reference to a leaf whose one class has probability 1: ^(pureLeaf | class)
// instead of ^(first entry) (entries are fewer than 1<<30, see maxNodes).
const pureLeaf = 1 << 30

// Model is a random forest classifier.
type Model struct {
	params Params
	cfg    config
	env    model.Env

	features int
	classes  int
	names    []string // feature names
	classNms []string
	// Flattened trees: roots[t] is tree t's first node; nodes of tree t are roots[t]..roots[t+1]-1.
	roots []int32
	nodes []node
	// pnodes are the inner nodes for the walk, tree by tree; proot[t] is tree t's root there, or
	// a leaf reference (negative, see pnode) for a tree that is one leaf.
	pnodes []pnode
	proot  []int32
	// pleaf holds every leaf's distribution as consecutive entries, the last one flagged.
	pleaf []leafEntry
	// leafOf maps a node to its leaf index (-1 for inner nodes).
	leafOf []int32
	// Leaf distributions, sparse: leaf l has classes leafCls[leafOff[l]:leafOff[l+1]] with
	// probabilities leafP[...].
	leafOff []int32
	leafCls []uint16
	leafP   []float32
	// importance holds the mean impurity decrease per feature, normalised to sum 1.
	importance []float64
	// fitTime is how long Fit took.
	fitTime time.Duration
	// block overrides predictBlock (tests and benchmarks).
	block int
}

// Classes returns the number of classes.
func (m *Model) Classes() int { return m.classes }

// Trees returns the number of trees of a fitted forest.
func (m *Model) Trees() int { return max(0, len(m.roots)-1) }

// Nodes returns the total number of nodes of a fitted forest.
func (m *Model) Nodes() int { return len(m.nodes) }

// FitTime returns how long the last Fit took.
func (m *Model) FitTime() time.Duration { return m.fitTime }

// FeatureNames returns the names of the features in the order the forest reads them: the tabular
// features, then the sequence values as channel[step].
func (m *Model) FeatureNames() []string { return m.names }

// ImpurityImportance returns each feature's mean decrease in impurity, normalised to sum to 1
// (scikit-learn's feature_importances_).
func (m *Model) ImpurityImportance() []float64 { return m.importance }

// ParamsJSON returns the model's parameters as JSON.
func (m *Model) ParamsJSON() string {
	b, _ := json.Marshal(m.params)
	return string(b)
}

// featureNames lists the features of d in forest order.
func featureNames(d *model.Data) []string {
	out := append([]string(nil), d.TabNames...)
	for t := range d.SeqLen {
		for _, c := range d.SeqChannels {
			out = append(out, c+"["+strconv.Itoa(t)+"]")
		}
	}
	return out
}

// column copies feature j of d into dst (len d.N).
func column(d *model.Data, j int, dst []float32) {
	td, sd := d.TabDim(), d.SeqDim()
	if j < td {
		for i := range d.N {
			dst[i] = d.Tab[i*td+j]
		}
		return
	}
	j -= td
	for i := range d.N {
		dst[i] = d.Seq[i*sd+j]
	}
}

func (m *Model) threads() int {
	if m.env.Threads > 0 {
		return m.env.Threads
	}
	return runtime.GOMAXPROCS(0)
}

// seedFor derives the seed of one component (a tree, the binning) from the model seed.
func seedFor(seed uint64, component uint64) (uint64, uint64) {
	return splitmix(seed ^ 0x6f72657374), splitmix(component + 0x9e3779b97f4a7c15*seed)
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Fit grows the forest on train; val is not used.
func (m *Model) Fit(ctx context.Context, train, _ *model.Data) error {
	start := time.Now()
	if err := train.Validate(); err != nil {
		return err
	}
	if train.Y == nil || train.N == 0 {
		return fmt.Errorf("%w: forest needs labelled examples", model.ErrShape)
	}
	f := train.TabDim() + train.SeqDim()
	if f == 0 {
		return fmt.Errorf("%w: no features (neither tabular nor sequence)", model.ErrShape)
	}
	if f > math.MaxInt32/2 || train.Classes > math.MaxUint16 || train.Classes < 1 {
		return fmt.Errorf("%w: %d features, %d classes", model.ErrShape, f, train.Classes)
	}
	if train.Weights != nil && len(train.Weights) != train.Classes {
		return fmt.Errorf("%w: %d class weights for %d classes", model.ErrShape, len(train.Weights), train.Classes)
	}
	n, k := train.N, train.Classes
	threads := m.threads()

	// Bin every feature (in parallel over features).
	b := &binned{n: n, f: f, cols: make([]uint8, n*f), edges: make([][]float32, f)}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(threads, f) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &binScratch{col: make([]float32, n)}
			for {
				j := int(next.Add(1) - 1)
				if j >= f {
					return
				}
				column(train, j, s.col)
				rng := rand.New(rand.NewPCG(seedFor(m.env.Seed, 1<<40+uint64(j))))
				b.edges[j] = binColumn(s.col, m.cfg.bins, rng, s, b.cols[j*n:(j+1)*n])
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}

	// Sample weights: class weights (balanced and/or the caller's).
	cw := make([]float64, k)
	counts := make([]int, k)
	for _, y := range train.Y {
		counts[y]++
	}
	for c := range cw {
		cw[c] = 1
		if m.cfg.balanced && counts[c] > 0 {
			cw[c] = float64(n) / float64(k*counts[c])
		}
		if train.Weights != nil {
			cw[c] *= float64(train.Weights[c])
		}
		if !(cw[c] > 0) || math.IsInf(cw[c], 0) {
			return fmt.Errorf("%w: class %d weight %v is not positive and finite", ErrParams, c, cw[c])
		}
	}

	trees := make([]*tree, m.cfg.trees)
	mtry := m.cfg.mtry(f)
	next.Store(0)
	var done atomic.Int64
	var progressMu sync.Mutex
	errs := make([]error, threads)
	for w := range min(threads, m.cfg.trees) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bd := newBuilder(b, train.Y, k, cw, m.cfg, mtry)
			for {
				t := int(next.Add(1) - 1)
				if t >= m.cfg.trees {
					return
				}
				if err := ctx.Err(); err != nil {
					errs[w] = err
					return
				}
				rng := rand.New(rand.NewPCG(seedFor(m.env.Seed, uint64(t))))
				trees[t] = bd.grow(rng)
				d := done.Add(1)
				if m.env.Progress != nil {
					progressMu.Lock()
					m.env.Progress(int(d), m.cfg.trees, "trees")
					progressMu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	m.features, m.classes = f, k
	m.names = featureNames(train)
	m.classNms = train.ClassNames
	m.flatten(trees, b.edges)
	m.fitTime = time.Since(start)
	if m.env.Log != nil {
		m.env.Log.Info("forest fitted", "trees", m.cfg.trees, "nodes", len(m.nodes), "features", f,
			"examples", n, "seconds", m.fitTime.Seconds())
	}
	return nil
}

// flatten turns trees into the model's node arrays, raw thresholds and importances.
func (m *Model) flatten(trees []*tree, edges [][]float32) {
	total, leaves, entries := 0, 0, 0
	for _, t := range trees {
		total += len(t.feat)
		leaves += len(t.leafOff) - 1
		entries += len(t.leafCls)
	}
	m.nodes = make([]node, 0, total)
	m.leafOf = make([]int32, 0, total)
	m.roots = make([]int32, 0, len(trees)+1)
	m.leafOff = make([]int32, 1, leaves+1)
	m.leafCls = make([]uint16, 0, entries)
	m.leafP = make([]float32, 0, entries)
	m.importance = make([]float64, m.features)
	for _, t := range trees {
		base := int32(len(m.nodes))
		m.roots = append(m.roots, base)
		for i, f := range t.feat {
			if f < 0 {
				l := t.leaf[i]
				m.leafOf = append(m.leafOf, int32(len(m.leafOff)-1))
				m.nodes = append(m.nodes, node{thr: float32(math.NaN()), right: int32(len(m.nodes))})
				m.leafCls = append(m.leafCls, t.leafCls[t.leafOff[l]:t.leafOff[l+1]]...)
				m.leafP = append(m.leafP, t.leafP[t.leafOff[l]:t.leafOff[l+1]]...)
				m.leafOff = append(m.leafOff, int32(len(m.leafCls)))
				continue
			}
			m.leafOf = append(m.leafOf, -1)
			m.nodes = append(m.nodes, node{feat: f, thr: edges[f][t.bin[i]], right: base + t.right[i]})
		}
		var sum float64
		for _, v := range t.importance {
			sum += v
		}
		if sum > 0 {
			for j, v := range t.importance {
				m.importance[j] += v / sum
			}
		}
	}
	m.roots = append(m.roots, int32(len(m.nodes)))
	m.prepare()
	var sum float64
	for _, v := range m.importance {
		sum += v
	}
	if sum > 0 {
		for j := range m.importance {
			m.importance[j] /= sum
		}
	}
}

// Summary describes the fitted forest in one line.
func (m *Model) Summary() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "forest: %d trees, %d nodes, %d features, %d classes", m.Trees(), len(m.nodes), m.features, m.classes)
	return sb.String()
}

// prepare derives the walk's nodes from nodes.
func (m *Model) prepare() {
	inner := make([]int32, len(m.nodes))
	ni := int32(0)
	for i := range m.nodes {
		if m.leafOf[i] < 0 {
			inner[i] = ni
			ni++
		}
	}
	// A leaf's entries start where its sparse distribution does; an empty one (none are, but a
	// loaded file may say so) gets a zero entry of its own.
	m.pleaf = make([]leafEntry, 0, len(m.leafCls)+1)
	start := make([]int32, len(m.leafOff)-1)
	for l := range start {
		start[l] = int32(len(m.pleaf))
		a, b := m.leafOff[l], m.leafOff[l+1]
		if a == b {
			m.pleaf = append(m.pleaf, leafEntry{cls: lastEntry})
			continue
		}
		for e := a; e < b; e++ {
			c := uint32(m.leafCls[e])
			if e == b-1 {
				c |= lastEntry
			}
			m.pleaf = append(m.pleaf, leafEntry{cls: c, p: m.leafP[e]})
		}
	}
	ref := func(i int32) int32 {
		l := m.leafOf[i]
		if l < 0 {
			return inner[i]
		}
		if a := m.leafOff[l]; m.leafOff[l+1] == a+1 && m.leafP[a] == 1 {
			return ^(pureLeaf | int32(m.leafCls[a]))
		}
		return ^start[l]
	}
	m.pnodes = make([]pnode, 0, ni)
	m.proot = make([]int32, 0, len(m.roots))
	for t := range len(m.roots) - 1 {
		m.proot = append(m.proot, ref(m.roots[t]))
		for i := m.roots[t]; i < m.roots[t+1]; i++ {
			if m.leafOf[i] >= 0 {
				continue
			}
			d := m.nodes[i]
			m.pnodes = append(m.pnodes, pnode{key: orderKey(d.thr), feat: d.feat, child: [2]int32{ref(i + 1), ref(d.right)}})
		}
	}
}
