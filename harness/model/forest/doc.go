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
// counting sort (or, for tiny nodes, a rank or insertion sort) of the node's examples by bin;
// Gini nodes whose bins hold few examples are swept position by position without branches, and
// large nodes use a class histogram per bin (hist.go): for Gini with whole example weights an
// integer histogram swept bin by bin, in AVX-512 assembly (hist_amd64.s, hand-written because
// the compiler does not vectorise the sweep's sixteen classes at a time; its Go twin runs
// elsewhere and with -tags purego). With whole weights every sum is exact, so each path finds
// the same split and the forest does not depend on which one a node took. Columns are binned by
// one pass over a radix-sorted order. Split thresholds are kept as raw feature values (the upper edge of the
// bin), so prediction needs no binning and an ONNX export (TreeEnsembleClassifier, BRANCH_LEQ)
// compares exactly the same numbers.
//
// Where fitting time goes (100 trees, 18k flows × 100 features, 25 classes; CPU profile of
// BenchmarkForestFit): the counting sort of a node's examples by bin ~42%, the sweeps ~31%,
// partitioning ~9%; binning (28 ms) and flattening the trees (35 ms) run outside the parallel
// tree loop. Tried and measured without gain (same forest, paired runs): a row-major copy of the
// bins for small nodes (the gathers are not cache-bound), keeping the best Gini score as a
// fraction (no division in the sweep), and sweeping two candidate features in one loop (the
// sweep is bound by throughput, not by its chains of dependent additions).
//
// Prediction derives its own structures from the saved nodes: 16-byte inner nodes (the threshold
// as an order-preserving integer key, the feature, both children, where a child is an inner node
// or a leaf reference; a pure leaf's reference carries its class) and one slab of the other
// leaves' distributions. Blocks of rows walk one tree after another. On CPUs with AVX-512 the
// walk is Go assembly (walk_amd64.s: 48 lanes that gather nodes and row values and refill a lane
// with the next row as soon as its row reached a leaf), hand-written because the compiler does
// not vectorise gathers and a scalar walk is bound by one dependent load after another; its
// pure-Go twin (walkGo, also used with -tags purego and on other architectures) steps eight rows
// together, and tests check both against a plain walk over the saved nodes.
//
// The native format (Save, Load) is versioned and checked: every count is bounded, every child
// index must point forward inside its tree, and a checksum closes the file, so a damaged or hostile
// file is an error, never a panic, an endless walk or a huge allocation.
package forest
