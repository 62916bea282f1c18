package realtime_test

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/etchlab/etch/data"
	"github.com/etchlab/etch/data/flow"
	"github.com/etchlab/etch/data/synth"
	"github.com/etchlab/etch/harness/model"
	"github.com/etchlab/etch/harness/model/forest"
	"github.com/etchlab/etch/harness/model/saved"
	"github.com/etchlab/etch/harness/realtime"
	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Train a forest on the first 10 packet sizes of synthetic flows, then classify a capture
// as it streams: every flow is decided at its 10th packet.
func Example() {
	ctx := context.Background()
	const k = 10
	// Training rows, encoded as data.Load would encode them.
	pre := saved.Preprocess{SeqChannels: []string{data.GroupSeqSize, data.GroupSeqDir}, SeqLen: k}
	enc, _ := data.NewEncoder(nil, pre.SeqChannels, k)
	x := &model.Data{SeqLen: k, SeqChannels: pre.SeqChannels}
	labels := map[string]int32{}
	_, err := synth.Records(ctx, synth.Config{Classes: 3, Flows: 300, Seed: 1, Workers: 1}, flow.Config{}, func(r *data.Record) error {
		if _, ok := labels[r.Label]; !ok {
			labels[r.Label] = int32(len(pre.ClassNames))
			pre.ClassNames = append(pre.ClassNames, r.Label)
		}
		row := make([]float32, enc.SeqDim())
		enc.Encode(r, nil, row)
		x.Seq = append(x.Seq, row...)
		x.Y = append(x.Y, labels[r.Label])
		x.N++
		return nil
	})
	if err != nil {
		panic(err)
	}
	x.Classes, x.ClassNames = len(pre.ClassNames), pre.ClassNames
	rf, _ := forest.New(forest.Params{Trees: 20}, model.Env{Seed: 1, Threads: 1})
	if err := rf.Fit(ctx, x, nil); err != nil {
		panic(err)
	}
	// A capture of new flows of the same services.
	var capture bytes.Buffer
	w := pcapgo.NewWriter(&capture)
	w.WriteFileHeader(65535, layers.LinkTypeEthernet)
	synth.Generate(ctx, synth.Config{Classes: 3, Flows: 20, Seed: 2, Workers: 1}, func(ts time.Time, frame []byte) error {
		return w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(frame), Length: len(frame)}, frame)
	})
	src, _ := flow.NewReaderBytes(capture.Bytes(), "example.pcap")

	var early int
	eng, err := realtime.New(&realtime.Classifier{Model: rf, Pre: pre}, realtime.Options{}, func(ds []realtime.Decision) error {
		for _, d := range ds {
			if d.Reason == flow.EndEarly && d.Packets == k {
				early++
			}
		}
		return nil
	})
	if err != nil {
		panic(err)
	}
	if err := eng.Run(ctx, src); err != nil {
		panic(err)
	}
	fmt.Println("flows decided at packet", eng.Packets(), ":", early)
	// Output: flows decided at packet 10 : 20
}
