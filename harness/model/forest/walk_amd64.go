//go:build amd64 && !purego

package forest

import (
	"math"

	"golang.org/x/sys/cpu"
)

// walkAVX512 is the AVX-512 walk (walk_amd64.s): groups of 16 lanes gather their nodes, row
// values and children; a lane whose row reached a leaf stores it (scatter) and takes the next
// row (expand), so no lane waits for a deeper row.
//
//go:noescape
func walkAVX512(pn *pnode, root int32, rows *uint32, f int, leaves *int32, nr int)

// haveWalkAVX512 says whether the CPU runs walkAVX512.
var haveWalkAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ

// walkAsmMin is the least number of rows worth the assembly walk (it starts 48 lanes).
const walkAsmMin = 48

// walkAsm runs walkAVX512 when the CPU has it and every index it forms fits in int32 (VSIB
// indices are signed 32-bit); it reports whether it ran. rows holds len(leaves) rows, the last
// one scratch, and so does leaves.
func walkAsm(pn []pnode, root int32, rows []uint32, f int, leaves []int32) bool {
	nr := len(leaves) - 1
	if !haveWalkAVX512 || nr < walkAsmMin || len(rows) < (nr+1)*f ||
		(nr+1)*f > math.MaxInt32 || len(pn) > math.MaxInt32/4-4 || nr+64 > math.MaxInt32 {
		return false
	}
	walkAVX512(&pn[0], root, &rows[0], f, &leaves[0], nr)
	return true
}
