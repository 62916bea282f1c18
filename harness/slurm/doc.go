// Package slurm is etch's cluster executor: it runs a run's trials as one Slurm job array, one
// task per trial, each task running `etch trial run SPEC` on a compute node and writing its result
// file atomically into the run directory, followed by a dependent merge job (afterany, so it never
// waits on a dependency that can no longer be met) that renders the report with `etch report`.
//
// The Executor plugs into harness/runner through an ExecutorFactory (Factory): the runner plans
// the trials and skips cached ones as for every executor, and this package only submits, follows
// and cancels. Following is polling: result files in RUN_DIR/trials, task states from squeue
// (sacct where accounting keeps older jobs), and the tasks' logs in RUN_DIR/slurm, whose
// training-progress lines (runner.ProgressLine) feed the same progress display as local runs.
// Submissions are recorded in RUN_DIR/slurm.json, so that `etch status` (Status), `etch report`
// (Merge) and a re-run (which follows tasks still queued or running and submits only trials that
// have neither a result nor a live task) can find the tasks of a run.
//
// The Slurm commands (sbatch, squeue, sacct, scontrol, scancel, sinfo) are run as processes and
// their text output parsed here, by hand: Slurm's C API (libslurm) changes with every release and
// would tie etch to cgo and one Slurm version, while the commands' parsable output formats
// (--parsable, -o with separators, scontrol -o) have been stable for a decade. The tests drive the
// logic with fake commands (testdata/bin) and, when a cluster answers, with real Slurm.
package slurm
