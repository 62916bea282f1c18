package runner

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// DeriveSeed derives a seed from a parent seed and a path of components (repeat number, "split",
// a model name, a fold): SHA-256 of the parent and the components, first 8 bytes. Seeds of
// different components are unrelated; the same inputs always give the same seed.
func DeriveSeed(parent uint64, parts ...any) uint64 {
	h := sha256.New()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], parent)
	h.Write(b[:])
	for _, p := range parts {
		fmt.Fprintf(h, "\x00%v", p)
	}
	return binary.LittleEndian.Uint64(h.Sum(nil)[:8])
}
