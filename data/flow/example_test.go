package flow_test

import (
	"flag"
	"fmt"

	"github.com/etchlab/etch/data"
	"github.com/etchlab/etch/data/flow"
)

// A Table groups packets into bidirectional flows and emits a record per flow.
func ExampleTable() {
	tab := flow.NewTable(flow.Config{SeqLen: 4, NoTLS: true}, func(r *data.Record) error {
		fmt.Println(r.Proto, r.SrcPort, "→", r.DstPort, r.EndReason, r.PktsFwd, r.PktsBwd, r.SeqSize)
		return nil
	})
	pkt := func(fromClient bool, flags uint8, payload int) *flow.Packet {
		p := &flow.Packet{IPVersion: 4, Proto: flow.ProtoTCP, Flags: flags, IPLen: 40 + payload, PayloadLen: payload,
			SrcPort: 50000, DstPort: 443}
		copy(p.Src[:], []byte{10, 0, 0, 1})
		copy(p.Dst[:], []byte{192, 0, 2, 1})
		if !fromClient {
			p.Src, p.Dst, p.SrcPort, p.DstPort = p.Dst, p.Src, p.DstPort, p.SrcPort
		}
		return p
	}
	tab.AddUS(0, pkt(true, flow.FlagSYN, 0))
	tab.AddUS(1000, pkt(false, flow.FlagSYN|flow.FlagACK, 0))
	tab.AddUS(2000, pkt(true, flow.FlagACK|flow.FlagPSH, 100))
	tab.AddUS(3000, pkt(false, flow.FlagRST, 0))
	tab.Flush()
	// Output: tcp 50000 → 443 rst 2 2 [40 -40 140 -40]
}

// Options carries the extraction flags that etch extract, etch classify and etch data synth
// share: register them on a flag set, parse, then Apply them to a Config.
func ExampleOptions() {
	fs := flag.NewFlagSet("etch classify", flag.ContinueOnError)
	opts := flow.DefaultOptions()
	opts.RegisterFlags(fs)
	if err := fs.Parse([]string{"--seq-len", "30", "--idle-timeout", "15s", "--label-rules", "../rules/example-rules.yaml", "--label", "category"}); err != nil {
		panic(err)
	}
	cfg := flow.Config{Version: "v1"}
	if err := opts.Apply(&cfg); err != nil {
		panic(err)
	}
	r := data.Record{SNI: "r4---sn-abc.googlevideo.com"}
	cfg.Labeler.Label(&r)
	fmt.Println(cfg.SeqLen, cfg.IdleTimeout, cfg.Privacy.Mode(), r.Label, r.Service)
	// Output: 30 15s ips=drop sni=clear Streaming YouTube
}
