//go:build !amd64 || purego

package forest

// walkAsmMin is the least number of rows worth the assembly walk (none in this build).
const walkAsmMin = 1 << 62

// walkAsm reports that this build has no assembly walk.
func walkAsm([]pnode, int32, []uint32, int, []int32, []int32) bool { return false }

// walkLogLen is the length of the logs walkAsm needs (none in this build).
func walkLogLen(int) int { return 0 }
