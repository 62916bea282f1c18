//go:build !amd64 || purego

package forest

// walkAsmMin is the least number of rows worth the assembly walk (none in this build).
const walkAsmMin = 1 << 62

// walkAsm reports that this build has no assembly walk.
func walkAsm([]pnode, int32, []uint32, int, []int32) bool { return false }
