// Package realtime classifies flows while they are open: packets from a capture file, a
// capture streamed on stdin or a live interface (AF_PACKET) go through data/flow's decoder and
// flow table — the code etch extract runs, not a copy — and a flow is classified the moment it
// has the K packets its model was trained on (the table's Early hook hands over the flow's
// record as it stands), or when it ends if it is shorter. Records become model rows through
// data.Encoder (bit-identical to data.Load) and the saved model's scaler (the function the
// runner applies), so a decision equals the batch prediction on the same flow truncated to K.
//
// Decisions are micro-batched across flows: rows collect in a batch that goes to the model when
// it is full, or when its oldest row has waited MaxWait (500 µs by default) and the model is
// idle; while the model runs, the next batch keeps growing, so batches are small at low rates
// and large under load. A bounded queue of batches bounds memory and makes the reader wait (live capture then
// drops in the kernel, counted) rather than grow. The flow table's own bounds (timeouts,
// MaxFlows, StatsCap) bound the rest.
//
// Live capture is a plain AF_PACKET socket read with recvfrom through golang.org/x/sys/unix:
// gopacket's pcap package needs libpcap and cgo, and its afpacket package cgo and TPACKET ring
// handling that a single-reader classifier does not need.
package realtime
