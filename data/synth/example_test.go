package synth_test

import (
	"context"
	"fmt"
	"time"

	"github.com/etchlab/etch/data"
	"github.com/etchlab/etch/data/flow"
	"github.com/etchlab/etch/data/synth"
)

// Generate streams a lab's frames in capture-time order; OnFlow tells which flow is which.
func ExampleGenerate() {
	cfg := synth.Config{Classes: 5, Flows: 4, Seed: 1}
	cfg.OnFlow = func(fi synth.FlowInfo) error {
		fmt.Println("flow", fi.Index, fi.Service, fi.Category, fi.Proto, fi.SNI)
		return nil
	}
	frames := 0
	err := synth.Generate(context.Background(), cfg, func(ts time.Time, frame []byte) error {
		frames++
		return nil
	})
	fmt.Println(err, frames > 30)
	// Output:
	// flow 0 chatter Chat tcp gateway.chatter.im
	// flow 1 chatter Chat tcp gateway.chatter.im
	// flow 2 chatter Chat tcp gateway.chatter.im
	// flow 3 searchly Web tcp www.searchly.com
	// <nil> true
}

// Records runs the lab through the flow extractor and labels each record with the ground truth.
func ExampleRecords() {
	cfg := synth.Config{Classes: 5, Flows: 6, Seed: 1}
	sum, err := synth.Records(context.Background(), cfg, flow.Config{}, func(r *data.Record) error {
		fmt.Println(r.Label, r.Category, r.TLSVersion, r.JA4, r.EndReason)
		return nil
	})
	fmt.Println(sum.Flows, sum.Records, err)
	// Output:
	// chatter Chat 1.3 t13d1514h1_8daaf6152771_fb48f8b98a29 fin
	// chatter Chat 1.3 t13d1514h1_8daaf6152771_fb48f8b98a29 fin
	// chatter Chat 1.3 t13d1514h1_8daaf6152771_fb48f8b98a29 fin
	// searchly Web 1.3 t13d1514h2_8daaf6152771_fb48f8b98a29 fin
	// vidflix Streaming 1.3 t13d1515h2_8daaf6152771_3b244d8fbcc8 fin
	// chatter Chat 1.3 t13d1515h1_8daaf6152771_3b244d8fbcc8 fin
	// 6 6 <nil>
}
