//go:build !(amd64 || arm64 || 386 || riscv64 || loong64 || ppc64le || mips64le || mipsle || wasm)

package flow

import "encoding/binary"

// putLE64 stores v little-endian at b[:8] (see store_le.go).
func putLE64(b []byte, v uint64) { binary.LittleEndian.PutUint64(b, v) }

// setPorts sets p's ports (see store_le.go).
func setPorts(p *Packet, src, dst uint16) { p.SrcPort, p.DstPort = src, dst }
