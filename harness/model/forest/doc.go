// Package forest is etch's random forest: a histogram-based classifier in the style of
// scikit-learn's RandomForestClassifier, written here because no Go library trains one fast enough
// (the target is several times scikit-learn's fit speed and ten times its prediction throughput on
// the same two cores).
//
// Fitting bins every feature once into at most 256 quantile bins (a column-major uint8 matrix);
// each tree draws a bootstrap sample with its own generator, seeded from the model seed and the
// tree index, so a seed gives the same forest whatever the number of threads. A node draws
// candidate features without replacement as scikit-learn does (features already found constant
// higher up count as drawn but cost nothing; drawing goes on past max_features until one
// non-constant feature was seen) and finds the best bin boundary by Gini or entropy, from a
// counting sort (or, for tiny nodes, an insertion sort) of the node's examples by bin; entropy on
// large nodes uses a class histogram per bin. Split thresholds are
// kept as raw feature values (the upper edge of the bin), so prediction needs no binning and an ONNX
// export (TreeEnsembleClassifier, BRANCH_LEQ) compares exactly the same numbers.
//
// Prediction flattens all trees into one pre-order node array (left child next to its parent)
// and walks blocks of rows through one tree at a time, several rows interleaved, with sparse
// leaf distributions; rows are split across threads.
//
// The native format (Save, Load) is versioned and checked: every count is bounded, every child
// index must point forward inside its tree, and a checksum closes the file, so a damaged or hostile
// file is an error, never a panic, an endless walk or a huge allocation.
package forest
