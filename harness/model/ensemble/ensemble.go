package ensemble

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/etchlab/etch/harness/eval"
	"github.com/etchlab/etch/harness/model"
)

// Model type names.
const (
	SoftVote = "soft_vote"
	HardVote = "hard_vote"
	Stacking = "stacking"
)

// Params are the parameters of the ensemble types.
type Params struct {
	// Members names the member models (entries of the same experiment).
	Members []string `json:"members"`
	// Weights weighs the members (soft_vote, hard_vote; default equal). They need not sum to 1.
	Weights []float64 `json:"weights,omitempty"`
	// Folds is the number of stratified folds for stacking's out-of-fold probabilities (default 5).
	Folds int `json:"folds,omitempty"`
	// C is the inverse L2 strength of stacking's logistic regression (default 1, as scikit-learn).
	C float64 `json:"c,omitempty"`
	// MaxIter bounds the meta-learner's L-BFGS iterations (default 200).
	MaxIter int `json:"max_iter,omitempty"`
}

// Errors of ensemble construction and fitting.
var (
	ErrParams        = errors.New("invalid ensemble parameters")
	ErrMissingMember = errors.New("ensemble member not available")
	ErrNotFitted     = errors.New("ensemble is not fitted")
)

// Register adds soft_vote, hard_vote and stacking to reg.
func Register(reg model.Registry) {
	for _, kind := range []string{SoftVote, HardVote, Stacking} {
		reg[kind] = Constructor(kind)
	}
}

// Constructor returns the constructor of one ensemble kind.
func Constructor(kind string) model.Constructor {
	return func(spec model.Spec, env model.Env) (model.Model, error) {
		var p Params
		if err := model.DecodeParams(spec.Params, &p); err != nil {
			return nil, err
		}
		return New(kind, p, env)
	}
}

// New returns an unfitted ensemble of the given kind.
func New(kind string, p Params, env model.Env) (*Model, error) {
	switch kind {
	case SoftVote, HardVote, Stacking:
	default:
		return nil, fmt.Errorf("%w: kind %q", ErrParams, kind)
	}
	if len(p.Members) == 0 {
		return nil, fmt.Errorf("%w: no members", ErrParams)
	}
	seen := map[string]bool{}
	for _, name := range p.Members {
		if seen[name] {
			return nil, fmt.Errorf("%w: member %q listed twice", ErrParams, name)
		}
		seen[name] = true
	}
	if p.Weights != nil {
		if kind == Stacking {
			return nil, fmt.Errorf("%w: stacking learns its weights", ErrParams)
		}
		if len(p.Weights) != len(p.Members) {
			return nil, fmt.Errorf("%w: %d weights for %d members", ErrParams, len(p.Weights), len(p.Members))
		}
		var sum float64
		for _, w := range p.Weights {
			if !(w >= 0) || math.IsInf(w, 0) {
				return nil, fmt.Errorf("%w: weight %v", ErrParams, w)
			}
			sum += w
		}
		if sum <= 0 {
			return nil, fmt.Errorf("%w: weights sum to 0", ErrParams)
		}
	}
	if p.Folds == 0 {
		p.Folds = 5
	}
	if p.C == 0 {
		p.C = 1
	}
	if p.MaxIter == 0 {
		p.MaxIter = 200
	}
	if p.Folds < 2 || p.C < 0 || p.MaxIter < 1 {
		return nil, fmt.Errorf("%w: folds %d, c %v, max_iter %d", ErrParams, p.Folds, p.C, p.MaxIter)
	}
	w := make([]float64, len(p.Members))
	for i := range w {
		w[i] = 1
		if p.Weights != nil {
			w[i] = p.Weights[i]
		}
	}
	var sum float64
	for _, v := range w {
		sum += v
	}
	for i := range w {
		w[i] /= sum
	}
	return &Model{kind: kind, p: p, env: env, weights: w}, nil
}

// Model is a fitted or unfitted ensemble.
type Model struct {
	kind    string
	p       Params
	env     model.Env
	weights []float64 // normalised to sum 1
	members []model.Model
	classes int
	meta    *LogReg
}

// Kind returns soft_vote, hard_vote or stacking.
func (m *Model) Kind() string { return m.kind }

// Classes returns the number of classes.
func (m *Model) Classes() int { return m.classes }

// Members returns the fitted members, in the order of the parameters.
func (m *Model) Members() []model.Model { return m.members }

// Weights returns the members' voting weights, normalised to sum 1.
func (m *Model) Weights() []float64 { return m.weights }

// Meta returns stacking's fitted meta-learner (nil for voting).
func (m *Model) Meta() *LogReg { return m.meta }

// memberSeed derives the seed of member i fitted on fold f (f = 0: all training data).
func (m *Model) memberSeed(f, i int) uint64 {
	x := m.env.Seed ^ (uint64(f)<<32 | uint64(i)) ^ 0x656e73656d626c65
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// build returns a fresh member i for fold f.
func (m *Model) build(i, f int) (model.Model, error) {
	name := m.p.Members[i]
	if m.env.Build == nil {
		return nil, fmt.Errorf("%w: %q is not among the runner's members and Env.Build is nil", ErrMissingMember, name)
	}
	mm, err := m.env.Build(name, m.memberSeed(f, i))
	if err != nil {
		return nil, fmt.Errorf("build member %q: %w", name, err)
	}
	return mm, nil
}

// Fit gets every member fitted on train (see the package doc for where members come from) and,
// for stacking, fits the meta-learner on out-of-fold probabilities.
func (m *Model) Fit(ctx context.Context, train, val *model.Data) error {
	if err := train.Validate(); err != nil {
		return err
	}
	if train.Y == nil {
		return fmt.Errorf("%w: ensemble needs labelled examples", model.ErrShape)
	}
	m.classes = train.Classes
	m.members = make([]model.Model, len(m.p.Members))
	for i, name := range m.p.Members {
		if err := ctx.Err(); err != nil {
			return err
		}
		mm, ok := m.env.Members[name]
		fitIt := m.env.FitMembers
		if !ok {
			var err error
			if mm, err = m.build(i, 0); err != nil {
				return err
			}
			fitIt = true
		}
		if fitIt {
			if err := mm.Fit(ctx, train, val); err != nil {
				return fmt.Errorf("fit member %q: %w", name, err)
			}
		}
		if mm.Classes() != train.Classes {
			return fmt.Errorf("%w: member %q predicts %d classes, data has %d", model.ErrShape, name, mm.Classes(), train.Classes)
		}
		m.members[i] = mm
	}
	if m.kind != Stacking {
		return nil
	}
	return m.fitMeta(ctx, train, val)
}

// fitMeta fits the stacking meta-learner on out-of-fold member probabilities.
func (m *Model) fitMeta(ctx context.Context, train, val *model.Data) error {
	folds, err := eval.Split(eval.SplitConfig{Kind: "kfold", K: m.p.Folds}, train.Y, nil, m.env.Seed^0x73746b)
	if err != nil {
		return fmt.Errorf("stacking folds: %w", err)
	}
	k, nm := train.Classes, len(m.members)
	dim := nm * k
	oof := make([]float64, train.N*dim)
	probs := make([]float32, train.N*k)
	for f, fold := range folds {
		tr := train.Slice(fold.Train)
		te := train.Slice(fold.Test)
		for i := range m.members {
			if err := ctx.Err(); err != nil {
				return err
			}
			mm, err := m.build(i, f+1)
			if err != nil {
				return fmt.Errorf("stacking needs Env.Build for per-fold members: %w", err)
			}
			if err := mm.Fit(ctx, tr, val); err != nil {
				return fmt.Errorf("fit member %q on fold %d: %w", m.p.Members[i], f+1, err)
			}
			if err := mm.PredictProba(ctx, te, probs[:te.N*k]); err != nil {
				return fmt.Errorf("member %q on fold %d: %w", m.p.Members[i], f+1, err)
			}
			for r, row := range fold.Test {
				for c := range k {
					oof[row*dim+i*k+c] = float64(probs[r*k+c])
				}
			}
		}
	}
	meta, err := FitLogReg(oof, train.Y, dim, k, 1/m.p.C, m.p.MaxIter)
	if err != nil {
		return fmt.Errorf("stacking meta-learner: %w", err)
	}
	m.meta = meta
	return nil
}

// PredictProba combines the members' probabilities: their weighted mean (soft_vote), the
// weighted share of members voting for each class (hard_vote; a member votes for its most
// probable class, the lowest index on ties) or the meta-learner's probabilities (stacking).
func (m *Model) PredictProba(ctx context.Context, x *model.Data, dst []float32) error {
	if m.members == nil || (m.kind == Stacking && m.meta == nil) {
		return ErrNotFitted
	}
	k := m.classes
	if len(dst) < x.N*k {
		return fmt.Errorf("%w: dst %d < %d×%d", model.ErrShape, len(dst), x.N, k)
	}
	out := dst[:x.N*k]
	clear(out)
	probs := make([]float32, x.N*k)
	var feats []float64
	if m.kind == Stacking {
		feats = make([]float64, x.N*len(m.members)*k)
	}
	for i, mm := range m.members {
		if err := mm.PredictProba(ctx, x, probs); err != nil {
			return fmt.Errorf("member %q: %w", m.p.Members[i], err)
		}
		w := float32(m.weights[i])
		for r := range x.N {
			row := probs[r*k : (r+1)*k]
			switch m.kind {
			case SoftVote:
				o := out[r*k : (r+1)*k]
				for c, p := range row {
					o[c] += w * p
				}
			case HardVote:
				best := 0
				for c, p := range row {
					if p > row[best] {
						best = c
					}
				}
				out[r*k+best] += w
			case Stacking:
				dim := len(m.members) * k
				for c, p := range row {
					feats[r*dim+i*k+c] = float64(p)
				}
			}
		}
	}
	if m.kind == Stacking {
		dim := len(m.members) * k
		for r := range x.N {
			m.meta.Predict(feats[r*dim:(r+1)*dim], out[r*k:(r+1)*k])
		}
	}
	return nil
}
