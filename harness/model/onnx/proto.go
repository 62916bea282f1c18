package onnx

import (
	"math"
	"strconv"

	"google.golang.org/protobuf/encoding/protowire"
)

// ONNX tensor element types (TensorProto.DataType).
const (
	typeFloat = 1
	typeInt64 = 7
)

// IR and opset versions of exported models: IR 8, ai.onnx 17, ai.onnx.ml 3 (ONNX Runtime 1.24
// runs all three).
const (
	irVersion   = 8
	opsetONNX   = 17
	opsetONNXML = 3
)

// Graph builds an ONNX graph for export: nodes, initializers, one float input and the outputs.
type Graph struct {
	name         string
	nodes        [][]byte
	initializers [][]byte
	inputs       [][]byte
	outputs      [][]byte
	usesML       bool
	count        int
}

// NewGraph starts a graph.
func NewGraph(name string) *Graph { return &Graph{name: name} }

// Attr is one node attribute; build them with the Attr* functions.
type Attr []byte

func attrHeader(name string, typ int32) []byte {
	b := protowire.AppendTag(nil, 1, protowire.BytesType)
	b = protowire.AppendString(b, name)
	b = protowire.AppendTag(b, 20, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(typ))
}

// AttrInt is an INT attribute.
func AttrInt(name string, v int64) Attr {
	b := attrHeader(name, 2)
	b = protowire.AppendTag(b, 3, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}

// AttrFloat is a FLOAT attribute.
func AttrFloat(name string, v float32) Attr {
	b := attrHeader(name, 1)
	b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
	return protowire.AppendFixed32(b, math.Float32bits(v))
}

// AttrString is a STRING attribute.
func AttrString(name, v string) Attr {
	b := attrHeader(name, 3)
	b = protowire.AppendTag(b, 4, protowire.BytesType)
	return protowire.AppendString(b, v)
}

// AttrInts is an INTS attribute.
func AttrInts(name string, vs []int64) Attr {
	b := attrHeader(name, 7)
	var packed []byte
	for _, v := range vs {
		packed = protowire.AppendVarint(packed, uint64(v))
	}
	b = protowire.AppendTag(b, 8, protowire.BytesType)
	return protowire.AppendBytes(b, packed)
}

// AttrFloats is a FLOATS attribute.
func AttrFloats(name string, vs []float32) Attr {
	b := attrHeader(name, 6)
	packed := make([]byte, 0, 4*len(vs))
	for _, v := range vs {
		packed = protowire.AppendFixed32(packed, math.Float32bits(v))
	}
	b = protowire.AppendTag(b, 7, protowire.BytesType)
	return protowire.AppendBytes(b, packed)
}

// AttrStrings is a STRINGS attribute.
func AttrStrings(name string, vs []string) Attr {
	b := attrHeader(name, 8)
	for _, v := range vs {
		b = protowire.AppendTag(b, 9, protowire.BytesType)
		b = protowire.AppendString(b, v)
	}
	return b
}

// Node adds an operator node. domain is "" for ai.onnx or "ai.onnx.ml".
func (g *Graph) Node(op, domain string, inputs, outputs []string, attrs ...Attr) {
	g.count++
	var b []byte
	for _, in := range inputs {
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendString(b, in)
	}
	for _, out := range outputs {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendString(b, out)
	}
	b = protowire.AppendTag(b, 3, protowire.BytesType)
	b = protowire.AppendString(b, op+"_"+strconv.Itoa(g.count))
	b = protowire.AppendTag(b, 4, protowire.BytesType)
	b = protowire.AppendString(b, op)
	for _, a := range attrs {
		b = protowire.AppendTag(b, 5, protowire.BytesType)
		b = protowire.AppendBytes(b, a)
	}
	if domain != "" {
		g.usesML = true
		b = protowire.AppendTag(b, 7, protowire.BytesType)
		b = protowire.AppendString(b, domain)
	}
	g.nodes = append(g.nodes, b)
}

func tensorProto(name string, dims []int64, typ int32, body func(b []byte) []byte) []byte {
	var b []byte
	for _, d := range dims {
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(d))
	}
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(typ))
	b = protowire.AppendTag(b, 8, protowire.BytesType)
	b = protowire.AppendString(b, name)
	return body(b)
}

// Float adds a float32 initializer (a constant tensor) of shape dims.
func (g *Graph) Float(name string, dims []int64, data []float32) {
	g.initializers = append(g.initializers, tensorProto(name, dims, typeFloat, func(b []byte) []byte {
		raw := make([]byte, 0, 4*len(data))
		for _, v := range data {
			raw = protowire.AppendFixed32(raw, math.Float32bits(v))
		}
		b = protowire.AppendTag(b, 9, protowire.BytesType)
		return protowire.AppendBytes(b, raw)
	}))
}

// Int64 adds an int64 initializer of shape dims.
func (g *Graph) Int64(name string, dims []int64, data []int64) {
	g.initializers = append(g.initializers, tensorProto(name, dims, typeInt64, func(b []byte) []byte {
		raw := make([]byte, 0, 8*len(data))
		for _, v := range data {
			raw = protowire.AppendFixed64(raw, uint64(v))
		}
		b = protowire.AppendTag(b, 9, protowire.BytesType)
		return protowire.AppendBytes(b, raw)
	}))
}

// valueInfo encodes a tensor ValueInfoProto; a dim < 0 is the symbolic batch dimension "N".
func valueInfo(name string, typ int32, dims []int64) []byte {
	var shape []byte
	for _, d := range dims {
		var dim []byte
		if d < 0 {
			dim = protowire.AppendTag(dim, 2, protowire.BytesType)
			dim = protowire.AppendString(dim, "N")
		} else {
			dim = protowire.AppendTag(dim, 1, protowire.VarintType)
			dim = protowire.AppendVarint(dim, uint64(d))
		}
		shape = protowire.AppendTag(shape, 1, protowire.BytesType)
		shape = protowire.AppendBytes(shape, dim)
	}
	var tensor []byte
	tensor = protowire.AppendTag(tensor, 1, protowire.VarintType)
	tensor = protowire.AppendVarint(tensor, uint64(typ))
	tensor = protowire.AppendTag(tensor, 2, protowire.BytesType)
	tensor = protowire.AppendBytes(tensor, shape)
	var tp []byte
	tp = protowire.AppendTag(tp, 1, protowire.BytesType)
	tp = protowire.AppendBytes(tp, tensor)
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendString(b, name)
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	return protowire.AppendBytes(b, tp)
}

// Input declares a float graph input of shape dims (-1: batch).
func (g *Graph) Input(name string, dims ...int64) {
	g.inputs = append(g.inputs, valueInfo(name, typeFloat, dims))
}

// Output declares a float graph output of shape dims (-1: batch).
func (g *Graph) Output(name string, dims ...int64) {
	g.outputs = append(g.outputs, valueInfo(name, typeFloat, dims))
}

// OutputInt64 declares an int64 graph output.
func (g *Graph) OutputInt64(name string, dims ...int64) {
	g.outputs = append(g.outputs, valueInfo(name, typeInt64, dims))
}

// Model encodes the graph as an ONNX ModelProto; meta becomes metadata_props.
func (g *Graph) Model(producerVersion string, meta map[string]string, keys []string) []byte {
	var graph []byte
	for _, n := range g.nodes {
		graph = protowire.AppendTag(graph, 1, protowire.BytesType)
		graph = protowire.AppendBytes(graph, n)
	}
	graph = protowire.AppendTag(graph, 2, protowire.BytesType)
	graph = protowire.AppendString(graph, g.name)
	for _, t := range g.initializers {
		graph = protowire.AppendTag(graph, 5, protowire.BytesType)
		graph = protowire.AppendBytes(graph, t)
	}
	for _, v := range g.inputs {
		graph = protowire.AppendTag(graph, 11, protowire.BytesType)
		graph = protowire.AppendBytes(graph, v)
	}
	for _, v := range g.outputs {
		graph = protowire.AppendTag(graph, 12, protowire.BytesType)
		graph = protowire.AppendBytes(graph, v)
	}
	var m []byte
	m = protowire.AppendTag(m, 1, protowire.VarintType)
	m = protowire.AppendVarint(m, irVersion)
	m = protowire.AppendTag(m, 2, protowire.BytesType)
	m = protowire.AppendString(m, "etch")
	m = protowire.AppendTag(m, 3, protowire.BytesType)
	m = protowire.AppendString(m, producerVersion)
	m = protowire.AppendTag(m, 7, protowire.BytesType)
	m = protowire.AppendBytes(m, graph)
	opset := func(domain string, v int64) []byte {
		var o []byte
		o = protowire.AppendTag(o, 1, protowire.BytesType)
		o = protowire.AppendString(o, domain)
		o = protowire.AppendTag(o, 2, protowire.VarintType)
		return protowire.AppendVarint(o, uint64(v))
	}
	m = protowire.AppendTag(m, 8, protowire.BytesType)
	m = protowire.AppendBytes(m, opset("", opsetONNX))
	if g.usesML {
		m = protowire.AppendTag(m, 8, protowire.BytesType)
		m = protowire.AppendBytes(m, opset("ai.onnx.ml", opsetONNXML))
	}
	for _, k := range keys {
		var e []byte
		e = protowire.AppendTag(e, 1, protowire.BytesType)
		e = protowire.AppendString(e, k)
		e = protowire.AppendTag(e, 2, protowire.BytesType)
		e = protowire.AppendString(e, meta[k])
		m = protowire.AppendTag(m, 14, protowire.BytesType)
		m = protowire.AppendBytes(m, e)
	}
	return m
}
