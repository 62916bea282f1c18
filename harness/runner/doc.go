// Package runner turns an experiment into results: it plans trials (one per sweep point and
// repeat, each a self-contained, serialisable TrialSpec whose hash is its cache key), takes
// finished trials from the cache, hands the rest to an Executor, evaluates every model with
// harness/eval, and writes results.json and the report with harness/report.
//
// Executors: Local runs trials on a goroutine pool in this process, with jobs × model threads
// kept within the cores; Process runs each trial as `etch trial run SPEC` in a worker process
// (another binary such as the CUDA build, or the same command on a cluster node), which writes
// its result file atomically. New executors (Slurm) plug in through an ExecutorFactory without
// changes here.
//
// Seeds: the trial seed is DeriveSeed(experiment seed, "repeat", r) — identical across sweep
// points, so points are compared on the same splits and initialisations — and every component
// derives its own: the split DeriveSeed(trial, "split"), each model DeriveSeed(trial, "model",
// name, fold), each bootstrap DeriveSeed(trial, "bootstrap", name).
//
// Fitted models: every model a trial fits on its first fold is saved in the run directory as
// models/<trial>/<name>.etchm (package harness/model/saved: the model with its features,
// sequence length, the fold's scaler and class names), which etch classify loads.
//
// Datasets are read by LoadDataset, the single place that loads flows files; scaling (min-max
// or standard) is fitted on each fold's training rows only.
package runner
