// Package eval turns predictions into the numbers a report shows and splits datasets without
// leaking: stratified holdout, stratified k-fold and grouped splits; accuracy, macro and weighted
// precision/recall/F1, per-class metrics, confusion matrices, top-k accuracy and log loss;
// bootstrap confidence intervals; McNemar's test between two models; mean ± Student-t intervals
// over repeats.
//
// Everything is written here rather than taken from gonum/stat because the metrics are small,
// must be exactly reproducible (every random draw comes from a seeded generator) and must handle
// the multi-class edge cases (absent classes, zero support) the way scikit-learn does; gonum's
// distuv supplies the Student-t and chi-squared distributions.
package eval
