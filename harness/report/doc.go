// Package report defines the results document of a run (results.json) and renders it as a
// reproducible Markdown report for GitHub: summary, sweep, dataset, per-model sections with
// per-class tables and confusion matrices, significance tests, reproducibility details, then
// timings in their own section — the only part that differs between two runs of the same
// experiment on the same machine. Tables are rendered with tablewriter's Markdown renderer and
// figures (confusion heatmaps, per-class F1 bars, sweep curves, training curves) with gonum/plot
// as PNG files next to report.md.
package report
