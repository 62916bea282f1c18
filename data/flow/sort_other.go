//go:build !amd64 || purego

package flow

// sortNetMax is the longest series sortNet sorts; without the AVX-512 networks, none.
const sortNetMax = 0

// sortNet reports false: only amd64 has the sorting networks (sort_amd64.s).
func sortNet([]int32) bool { return false }
