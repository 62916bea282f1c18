//go:build amd64 && !purego

package forest

import (
	"math"

	"golang.org/x/sys/cpu"
)

// walkAVX512 is the AVX-512 walk (walk_amd64.s): groups of 16 lanes gather their nodes, row
// values and children; a lane whose row reached a leaf logs it and its row and takes the next
// row (expand), so no lane waits for a deeper row.
//
//go:noescape
func walkAVX512(pn *pnode, root int32, rows *uint32, f int, leaves *int32, nr int, rowlog *int32)

// haveWalkAVX512 says whether the CPU runs walkAVX512.
var haveWalkAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ

// walkAsmMin is the least number of rows worth the assembly walk (it starts 48 lanes).
const walkAsmMin = 48

// walkLogLen is the length of the logs walkAsm needs for nr rows.
func walkLogLen(nr int) int { return 2 * (nr + 16) }

// walkAsm runs walkAVX512 when the CPU has it and every index it forms fits in int32 (VSIB
// indices are signed 32-bit); it reports whether it ran. rows holds len(leaves)+1 rows, the last
// one scratch; logs is scratch of walkLogLen(len(leaves)).
func walkAsm(pn []pnode, root int32, rows []uint32, f int, leaves, logs []int32) bool {
	nr := len(leaves)
	if !haveWalkAVX512 || nr < walkAsmMin || len(rows) < (nr+1)*f || len(logs) < walkLogLen(nr) ||
		(nr+1)*f > math.MaxInt32 || len(pn) > math.MaxInt32/4-4 || nr+64 > math.MaxInt32 {
		return false
	}
	leafLog, rowLog := logs[:nr+16], logs[nr+16:2*nr+32]
	walkAVX512(&pn[0], root, &rows[0], f, &leafLog[0], nr, &rowLog[0])
	for i, r := range rowLog[:nr] {
		leaves[r] = leafLog[i]
	}
	return true
}
