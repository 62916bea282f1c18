package forest

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"

	"github.com/etchlab/etch/harness/model"
)

// gcseq generates a GCseq-shaped dataset: n flows × seqLen packet sizes (0 after the flow ends),
// classes classes with unequal counts. Each class has a typical flow length, a handshake prefix
// and a few favourite packet sizes; noise and shared sizes make neighbouring classes overlap.
func gcseq(n, seqLen, classes int, seed uint64) *model.Data {
	rng := rand.New(rand.NewPCG(seed, 0x6763736571))
	type profile struct {
		meanLen float64
		prefix  []float64
		modes   []float64
		pmode   []float64
	}
	prof := make([]profile, classes)
	for c := range prof {
		p := profile{meanLen: 6 + rng.Float64()*80}
		for range 3 + rng.IntN(3) {
			p.prefix = append(p.prefix, float64(60+rng.IntN(600)))
		}
		m := 2 + rng.IntN(3)
		var sum float64
		for range m {
			// neighbouring classes share part of their sizes
			base := float64(40 + ((c/2)*53+rng.IntN(1400))%1460)
			p.modes = append(p.modes, base)
			w := rng.Float64() + 0.2
			p.pmode = append(p.pmode, w)
			sum += w
		}
		for i := range p.pmode {
			p.pmode[i] /= sum
		}
		prof[c] = p
	}
	// class frequencies ∝ 1/(1+c/6)
	cum := make([]float64, classes)
	var tot float64
	for c := range cum {
		tot += 1 / (1 + float64(c)/6)
		cum[c] = tot
	}
	d := &model.Data{N: n, Seq: make([]float32, n*seqLen), SeqLen: seqLen, SeqChannels: []string{"seq_size"},
		Y: make([]int32, n), Classes: classes}
	for c := range classes {
		d.ClassNames = append(d.ClassNames, "app"+strconv.Itoa(c))
	}
	for i := range n {
		u := rng.Float64() * tot
		c := 0
		for cum[c] < u {
			c++
		}
		d.Y[i] = int32(c)
		p := prof[c]
		l := int(math.Round(p.meanLen * math.Exp(rng.NormFloat64()*0.6)))
		l = max(2, min(l, seqLen))
		row := d.Seq[i*seqLen : (i+1)*seqLen]
		for t := range l {
			var v float64
			switch {
			case t < len(p.prefix) && rng.Float64() < 0.7:
				v = p.prefix[t] + rng.NormFloat64()*15
			case rng.Float64() < 0.3:
				v = float64(40 + rng.IntN(1460))
			default:
				u := rng.Float64()
				j := 0
				for j < len(p.modes)-1 && u > p.pmode[j] {
					u -= p.pmode[j]
					j++
				}
				v = p.modes[j] + rng.NormFloat64()*40
			}
			row[t] = float32(math.Round(max(40, min(1500, v))))
		}
	}
	return d
}

// writeCSV writes d as CSV: label then the sequence values, one flow a line.
func writeCSV(path string, d *model.Data) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	sd := d.SeqDim()
	for i := range d.N {
		fmt.Fprint(w, d.Y[i])
		for _, v := range d.Seq[i*sd : (i+1)*sd] {
			w.WriteByte(',')
			w.WriteString(strconv.FormatFloat(float64(v), 'g', -1, 32))
		}
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
