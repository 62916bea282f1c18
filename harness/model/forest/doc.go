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
// counting sort (or, for tiny nodes, a rank or insertion sort) of the node's examples by bin; Gini
// nodes whose bins hold few examples are swept position by position without branches, and nodes use
// a class histogram per bin (hist.go): for Gini with whole example weights, from 8 examples (more
// over 32 classes), an integer histogram whose present bins are swept in AVX-512 assembly
// (hist_amd64.s, hand-written because the compiler does not vectorise the sweep's sixteen classes
// at a time nor score eight bins at once; its Go twin runs elsewhere and with -tags purego, from
// 1,024 examples), and entropy on large nodes. With whole weights every sum is exact, so each path
// finds the same split and the forest does not depend on which one a node took. Columns are binned
// by one pass over a radix-sorted order. Split thresholds are kept as raw feature values (the upper
// edge of the bin), so prediction needs no binning and an ONNX export (TreeEnsembleClassifier,
// BRANCH_LEQ) compares exactly the same numbers.
//
// Where fitting time goes (100 trees, 18k flows × 100 features, 25 classes; CPU profile of
// BenchmarkForestFit, 0.68 s a fit on 2 threads): the histogram sweep ~39%, filling the histograms
// ~24%, growing (partition, leaves) ~9%, tiny nodes' sorts and sweeps ~10%; binning (radix sort)
// ~3% and flattening ~2% run outside the parallel tree loop. Tried and measured without gain: a
// row-major copy of the bins for small nodes (the gathers are not cache-bound), sweeping two
// candidate features in one loop (the sweep per example is bound by throughput), limiting the
// histogram sweep to the node's bin range (the present-bin map does better), and checking the eight
// batched scores one by one (mispredicted; the batch now takes the first maximum, exactly what the
// sequential rule picks).
//
// Prediction derives its own structures from the saved nodes: 16-byte inner nodes (the threshold as
// an order-preserving integer key, the feature, both children, where a child is an inner node or a
// leaf reference; a pure leaf's reference carries its class) and one slab of the other leaves'
// distributions. Blocks of rows walk one tree after another. On CPUs with AVX-512 the walk is Go
// assembly (walk_amd64.s: 48 lanes that gather nodes and row values, log a finished row and its
// leaf and refill the lane with the next row at once), hand-written because the compiler does not
// vectorise gathers and a scalar walk is bound by one dependent load after another; its pure-Go
// twin (walkGo, also used with -tags purego and on other architectures) steps eight rows together,
// and tests check both against a plain walk over the saved nodes.
//
// The native format (Save, Load) is versioned and checked: every count is bounded, every child
// index must point forward inside its tree, and a checksum closes the file, so a damaged or hostile
// file is an error, never a panic, an endless walk or a huge allocation.
package forest
