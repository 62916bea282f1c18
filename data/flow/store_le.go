//go:build amd64 || arm64 || 386 || riscv64 || loong64 || ppc64le || mips64le || mipsle || wasm

package flow

import "unsafe"

// putLE64 stores v little-endian at b[:8] as one 8-byte store. binary.LittleEndian.PutUint64
// of a value whose upper bytes the compiler knows to be zero becomes a 4-byte store and four
// 1-byte stores, and an 8-byte load of them right after (the flow table reading the address)
// then stalls until they are written to the cache instead of being forwarded.
func putLE64(b []byte, v uint64) {
	_ = b[7]
	*(*uint64)(unsafe.Pointer(&b[0])) = v
}

// setPorts sets p's ports with one 4-byte store, which the flow table's combined load of
// both ports is forwarded from (two 2-byte stores would stall it).
func setPorts(p *Packet, src, dst uint16) {
	*(*uint32)(unsafe.Pointer(&p.SrcPort)) = uint32(src) | uint32(dst)<<16
}

// setPorts needs DstPort right after SrcPort: these fail to compile otherwise.
var (
	_ [unsafe.Offsetof(Packet{}.DstPort) - unsafe.Offsetof(Packet{}.SrcPort) - 2]struct{}
	_ [unsafe.Offsetof(Packet{}.SrcPort) + 2 - unsafe.Offsetof(Packet{}.DstPort)]struct{}
)
