//go:build amd64 && !purego

package flow

import "golang.org/x/sys/cpu"

// sortNetAVX512 sorts x[:n] ascending for 2 <= n <= sortNetMax with bitonic sorting networks
// in AVX-512 registers (sort_amd64.s): the per-direction size and payload series of most flows
// are this short, where insertion sort and the radix sort spend most of their time on
// mispredicted branches and bookkeeping.
//
//go:noescape
func sortNetAVX512(x *int32, n int)

// sortNetMax is the longest series sortNetAVX512 sorts (four registers of 16 lanes).
const sortNetMax = 64

// haveSortNet says whether the CPU runs sortNetAVX512.
var haveSortNet = cpu.X86.HasAVX512F

// sortNet sorts x with sortNetAVX512 when the CPU has it and x is short enough, and reports
// whether it did.
func sortNet(x []int32) bool {
	if !haveSortNet || len(x) > sortNetMax {
		return false
	}
	if len(x) > 1 {
		sortNetAVX512(&x[0], len(x))
	}
	return true
}
