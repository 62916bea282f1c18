package forest

import (
	"fmt"
	"io"

	"github.com/etchlab/etch/harness/model/onnx"
)

// ONNX names of the exported graph.
const (
	ONNXInput         = "input"
	ONNXLabel         = "label"
	ONNXProbabilities = "probabilities"
)

// ExportONNX writes the forest as an ONNX model with one ai.onnx.ml TreeEnsembleClassifier:
// input "input" float [N, features] (the tabular features, then the flattened sequence, as the
// forest reads them), outputs "label" int64 [N] and "probabilities" float [N, classes]. Splits are
// BRANCH_LEQ on the raw thresholds the forest itself compares, and each leaf's class weights are
// its probabilities divided by the number of trees, so the summed output is the forest's average.
func (m *Model) ExportONNX(w io.Writer) error {
	if len(m.roots) < 2 {
		return ErrNotFitted
	}
	k := m.classes
	labels := make([]int64, k)
	for c := range labels {
		labels[c] = int64(c)
	}
	n := len(m.nodes)
	treeIDs := make([]int64, 0, n)
	nodeIDs := make([]int64, 0, n)
	featIDs := make([]int64, 0, n)
	values := make([]float32, 0, n)
	modes := make([]string, 0, n)
	trueIDs := make([]int64, 0, n)
	falseIDs := make([]int64, 0, n)
	var cTree, cNode, cID []int64
	var cW []float32
	inv := 1 / float32(m.Trees())
	for t := range m.Trees() {
		start, end := m.roots[t], m.roots[t+1]
		for i := start; i < end; i++ {
			d := m.nodes[i]
			treeIDs = append(treeIDs, int64(t))
			nodeIDs = append(nodeIDs, int64(i-start))
			if l := m.leafOf[i]; l >= 0 {
				featIDs = append(featIDs, 0)
				values = append(values, 0)
				modes = append(modes, "LEAF")
				trueIDs = append(trueIDs, 0)
				falseIDs = append(falseIDs, 0)
				a, b := m.leafOff[l], m.leafOff[l+1]
				if k == 2 {
					// ONNX Runtime treats a two-class ensemble whose weights name one class as a
					// binary scorer; weights for both classes keep it a plain classifier.
					var p [2]float32
					for e := a; e < b; e++ {
						p[m.leafCls[e]] = m.leafP[e]
					}
					for c := range 2 {
						cTree, cNode, cID = append(cTree, int64(t)), append(cNode, int64(i-start)), append(cID, int64(c))
						cW = append(cW, p[c]*inv)
					}
					continue
				}
				for e := a; e < b; e++ {
					cTree, cNode, cID = append(cTree, int64(t)), append(cNode, int64(i-start)), append(cID, int64(m.leafCls[e]))
					cW = append(cW, m.leafP[e]*inv)
				}
				continue
			}
			featIDs = append(featIDs, int64(d.feat))
			values = append(values, d.thr)
			modes = append(modes, "BRANCH_LEQ")
			trueIDs = append(trueIDs, int64(i+1-start))
			falseIDs = append(falseIDs, int64(d.right-start))
		}
	}
	g := onnx.NewGraph("etch_forest")
	g.Input(ONNXInput, -1, int64(m.features))
	g.Node("TreeEnsembleClassifier", "ai.onnx.ml", []string{ONNXInput}, []string{ONNXLabel, ONNXProbabilities},
		onnx.AttrInts("classlabels_int64s", labels),
		onnx.AttrInts("nodes_treeids", treeIDs),
		onnx.AttrInts("nodes_nodeids", nodeIDs),
		onnx.AttrInts("nodes_featureids", featIDs),
		onnx.AttrFloats("nodes_values", values),
		onnx.AttrStrings("nodes_modes", modes),
		onnx.AttrInts("nodes_truenodeids", trueIDs),
		onnx.AttrInts("nodes_falsenodeids", falseIDs),
		onnx.AttrInts("class_treeids", cTree),
		onnx.AttrInts("class_nodeids", cNode),
		onnx.AttrInts("class_ids", cID),
		onnx.AttrFloats("class_weights", cW),
		onnx.AttrString("post_transform", "NONE"))
	g.OutputInt64(ONNXLabel, -1)
	g.Output(ONNXProbabilities, -1, int64(k))
	meta := map[string]string{"etch.model": "forest", "etch.params": m.ParamsJSON()}
	if _, err := w.Write(g.Model("forest/1", meta, []string{"etch.model", "etch.params"})); err != nil {
		return fmt.Errorf("export forest to ONNX: %w", err)
	}
	return nil
}
