package runnertest

import (
	"fmt"
	"math/rand/v2"

	"github.com/etchlab/etch/data"
)

// Classes are the labels WriteDataset uses, most frequent first.
var Classes = []string{"web", "mail", "voip", "p2p", "video", "chat"}

// Options shape a generated dataset.
type Options struct {
	// Flows is the number of rows (default 300); Seed drives every draw.
	Flows int
	Seed  uint64
	// SeqLen is the length of the sequences (default 16).
	SeqLen int
	// Source is written to the footer (default "test"); "import:gcseq" makes it look like the
	// reference study's data.
	Source string
}

// ExtraNames are the names of the extra columns WriteDataset writes.
var ExtraNames = []string{"mean_fiat", "flowBytesPerSecond"}

// WriteDataset writes a flows file at path (any format data.Create accepts).
func WriteDataset(path string, o Options) error {
	if o.Flows == 0 {
		o.Flows = 300
	}
	if o.SeqLen == 0 {
		o.SeqLen = 16
	}
	if o.Source == "" {
		o.Source = "test"
	}
	w, err := data.Create(path, data.Meta{Source: o.Source, SeqLen: o.SeqLen, ExtraNames: ExtraNames})
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(o.Seed, 99))
	recs := make([]data.Record, o.Flows)
	for i := range recs {
		// Zipf-like class sizes: class c drawn with weight 1/(c+1).
		c := 0
		for u := rng.Float64() * 2.45; c < len(Classes)-1; c++ {
			u -= 1 / float64(c+1)
			if u < 0 {
				break
			}
		}
		r := &recs[i]
		r.Label = Classes[c]
		r.Service = Classes[c] + "-svc"
		r.Category = []string{"browsing", "email", "voip", "p2p", "streaming", "chat"}[c]
		r.Capture = fmt.Sprintf("cap%d.pcap", i%6)
		r.StartUS = int64(i) * 500_000
		r.Proto = "tcp"
		r.SNI = fmt.Sprintf("%s%d.example", Classes[c], i%3)
		base := float64(120 * (c + 1))
		r.SizeFwdMean = base + rng.NormFloat64()*50
		r.SizeBwdMean = 1.5*base + rng.NormFloat64()*70
		r.SizeAllMax = 2*base + rng.Float64()*200
		r.IatAllP50 = float64(1000*(6-c)) + rng.Float64()*800
		r.PayloadFwdMean = base/2 + rng.NormFloat64()*30
		r.DurationS = float64(c)/2 + rng.Float64()
		r.PktsFwd = int64(5 + c + rng.IntN(10))
		r.Extra = []float32{float32(r.IatAllP50) + float32(rng.NormFloat64()*200), float32(base*100 + rng.NormFloat64()*3000)}
		for k := range o.SeqLen {
			dir := int32(1 - 2*((k+c)%2))
			size := int32(base) + int32(rng.IntN(200))
			r.SeqSize = append(r.SeqSize, dir*size)
			r.SeqDir = append(r.SeqDir, dir)
			r.SeqPayload = append(r.SeqPayload, max(0, size-52))
			r.SeqIATUS = append(r.SeqIATUS, int32(200*(c+1)+rng.IntN(400)))
		}
	}
	if err := w.Write(recs); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}
