//go:build amd64 && !purego

package forest

import "golang.org/x/sys/cpu"

// sweepHistAVX512 is sweepHistGo in AVX-512 assembly (hist_amd64.s); wi is w as an integer and
// nw may be nil.
//
//go:noescape
func sweepHistAVX512(hist *int32, nw *int64, nb, stride int, tot *float64, left *int32, w float64, wi int64, minLeaf, nn int32) (bin int, best float64, groups int)

// haveHistAVX512 says whether the CPU runs sweepHistAVX512.
var haveHistAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ

// histMinNode is the least number of examples for which a Gini node takes the histogram path.
var histMinNode = func() int32 {
	if haveHistAVX512 {
		return histMinAsm
	}
	return histMinGo
}()

// sweepHist runs sweepHistAVX512 where the CPU has it, else sweepHistGo.
func sweepHist(hist []int32, nw []int64, stride int, tot []float64, left []int32, w float64, minLeaf, nn int32) (int, float64, int) {
	nb := len(hist) / stride
	if !haveHistAVX512 || nb == 0 || len(tot) < stride || len(left) < stride || (nw != nil && len(nw) < nb) {
		return sweepHistGo(hist, nw, stride, tot, left, w, minLeaf, nn)
	}
	var pnw *int64
	if nw != nil {
		pnw = &nw[0]
	}
	return sweepHistAVX512(&hist[0], pnw, nb, stride, &tot[0], &left[0], w, int64(w), minLeaf, nn)
}
