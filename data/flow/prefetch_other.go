//go:build !amd64

package flow

// prefetch is a no-op where no assembly version exists (see prefetch_amd64.go).
func prefetch(p *byte) {}
