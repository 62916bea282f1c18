// Package probe finds out which compute devices a machine has without risking the caller:
// GPUs are enumerated by the CUDA build of etch (bin/etch-cuda) in a subprocess, `etch-cuda
// devices --json`, because that binary links libcuda and exits (or does not start at all) when
// no driver or device is usable. A crash, a hang (bounded by a timeout), a missing binary or
// garbage output is a "no GPU" answer with the reason, never a failure of the caller.
//
// The report format (Report, GPU) is shared by both builds: the CUDA build writes it, the default
// build reads it. CPU features are read from /proc/cpuinfo.
package probe
