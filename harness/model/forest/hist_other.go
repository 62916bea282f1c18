//go:build !amd64 || purego

package forest

// histMinBase returns histMin for rows of up to 32 classes and its examples per class beyond
// (see histMin), for the sweep this CPU runs.
func histMinBase() (int32, int32) { return histMinGo, histMinGoPerClass }

// sweepHist is sweepHistGo in this build (no assembly).
func sweepHist(hist []int32, nw []int64, pres []uint8, stride int, tot []float64, left []int32, _ []float64, w, s0 float64, minLeaf, nn int32) (int, float64, int) {
	return sweepHistGo(hist, nw, pres, stride, tot, left, w, s0, minLeaf, nn)
}
