//go:build amd64 && !purego

package forest

import "golang.org/x/sys/cpu"

// sweepHistAVX512 is sweepHistGo in AVX-512 assembly (hist_amd64.s): nw may be nil; scratch
// holds histScratchLen float64s; lo and hi are the least and most examples allowed on the left.
//
//go:noescape
func sweepHistAVX512(hist *int32, nw *int64, pres *uint8, stride int, tot *float64, left *int32, scratch *float64, w, s0, lo, hi float64) (bin int, best float64, groups int)

// haveHistAVX512 says whether the CPU runs sweepHistAVX512.
var haveHistAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512BW

// histMinBase returns histMin for rows of up to 32 classes and its examples per class beyond
// (see histMin), for the sweep this CPU runs.
func histMinBase() (int32, int32) {
	if haveHistAVX512 {
		return histMinAsm, histMinAsmPerClass
	}
	return histMinGo, histMinGoPerClass
}

// sweepHist runs sweepHistAVX512 where the CPU has it, else sweepHistGo.
func sweepHist(hist []int32, nw []int64, pres []uint8, stride int, tot []float64, left []int32, scratch []float64, w, s0 float64, minLeaf, nn int32) (int, float64, int) {
	if !haveHistAVX512 || stride%16 != 0 || len(hist) < 256*stride || len(pres) < 256 || len(tot) < stride ||
		len(left) < stride || (nw != nil && len(nw) < 256) || len(scratch) < histScratchLen {
		return sweepHistGo(hist, nw, pres, stride, tot, left, w, s0, minLeaf, nn)
	}
	var pnw *int64
	if nw != nil {
		pnw = &nw[0]
	}
	return sweepHistAVX512(&hist[0], pnw, &pres[0], stride, &tot[0], &left[0], &scratch[0], w, s0,
		float64(minLeaf), float64(nn-minLeaf))
}
