package flow

// prefetch asks the CPU to bring the two cache lines at p into its caches without waiting for
// them (PREFETCHT0): the reader calls it for the next record of a mapped capture, whose header
// and IP/TCP headers are otherwise a cache miss per packet (written in assembly because Go
// has no prefetch intrinsic; prefetch_other.go is the portable no-op twin).
//
//go:noescape
func prefetch(p *byte)
