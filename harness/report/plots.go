package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/etchlab/etch/harness/eval"
)

// maxLabelledClasses is the largest class count whose figures carry class names on the axes.
const maxLabelledClasses = 60

func writeFigures(dir string, res *Results) (figureSet, error) {
	figs := figureSet{confusion: map[string]string{}, f1: map[string]string{}, curve: map[string]string{}}
	for i := range res.Trials {
		t := &res.Trials[i]
		for _, ms := range res.Models {
			m := t.Models[ms.Name]
			if m == nil || len(m.PerClass) == 0 {
				continue
			}
			k := key(t.ID, ms.Name)
			base := "figures/" + fileSafe(t.ID) + "-" + fileSafe(ms.Name)
			if err := savePlot(dir, base+"-confusion.png", confusionPlot(ms.Name, m)); err != nil {
				return figs, err
			}
			figs.confusion[k] = base + "-confusion.png"
			if err := savePlot(dir, base+"-f1.png", f1Plot(ms.Name, m)); err != nil {
				return figs, err
			}
			figs.f1[k] = base + "-f1.png"
			if len(m.Curve) > 1 {
				if err := savePlot(dir, base+"-training.png", curvePlot(ms.Name, m)); err != nil {
					return figs, err
				}
				figs.curve[k] = base + "-training.png"
			}
		}
	}
	for _, sk := range res.SweepKeys {
		sp := sweepPlot(res, sk)
		if sp == nil {
			continue
		}
		name := "figures/sweep-" + fileSafe(sk) + ".png"
		if err := savePlot(dir, name, sp); err != nil {
			return figs, err
		}
		figs.sweep = append(figs.sweep, name)
	}
	return figs, nil
}

type sizedPlot struct {
	p    *plot.Plot
	w, h vg.Length
}

func savePlot(dir, name string, sp *sizedPlot) error {
	wt, err := sp.p.WriterTo(sp.w, sp.h, "png")
	if err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	var b bytes.Buffer
	if _, err := wt.WriteTo(&b); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	return WriteFileAtomic(filepath.Join(dir, name), b.Bytes())
}

// grid is a row-normalised confusion matrix as a plotter.GridXYZ; row 0 is drawn at the top.
type grid struct{ m [][]float64 }

func (g grid) Dims() (c, r int)   { return len(g.m), len(g.m) }
func (g grid) Z(c, r int) float64 { return g.m[len(g.m)-1-r][c] }
func (g grid) X(c int) float64    { return float64(c) }
func (g grid) Y(r int) float64    { return float64(r) }

func classTicks(labels []string, reverse bool) plot.ConstantTicks {
	if len(labels) > maxLabelledClasses {
		return nil
	}
	ts := make(plot.ConstantTicks, len(labels))
	for i, l := range labels {
		pos := i
		if reverse {
			pos = len(labels) - 1 - i
		}
		ts[i] = plot.Tick{Value: float64(pos), Label: l}
	}
	return ts
}

func confusionPlot(name string, m *ModelResult) *sizedPlot {
	k := len(m.Confusion)
	norm := make([][]float64, k)
	for i, row := range m.Confusion {
		norm[i] = make([]float64, k)
		total := 0
		for _, v := range row {
			total += v
		}
		for j, v := range row {
			if total > 0 {
				norm[i][j] = float64(v) / float64(total)
			}
		}
	}
	labels := make([]string, k)
	for i, c := range m.PerClass {
		labels[i] = c.Label
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: confusion (row-normalised)", name)
	p.X.Label.Text = "predicted"
	p.Y.Label.Text = "true"
	h := plotter.NewHeatMap(grid{norm}, whiteToBlue(64))
	h.Min, h.Max = 0, 1
	p.Add(h)
	if ts := classTicks(labels, false); ts != nil {
		p.X.Tick.Marker = ts
		p.X.Tick.Label.Rotation = math.Pi / 2
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
		p.Y.Tick.Marker = classTicks(labels, true)
	}
	side := vg.Length(math.Max(5, 2+0.22*float64(k))) * vg.Inch
	return &sizedPlot{p, side, side}
}

func f1Plot(name string, m *ModelResult) *sizedPlot {
	k := len(m.PerClass)
	vals := make(plotter.Values, k)
	labels := make([]string, k)
	for i, c := range m.PerClass {
		vals[k-1-i] = c.F1 // first class at the top
		labels[k-1-i] = c.Label
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: per-class F1", name)
	p.X.Label.Text = "F1"
	p.X.Min, p.X.Max = 0, 1
	bars, err := plotter.NewBarChart(vals, vg.Points(8))
	if err == nil {
		bars.Horizontal = true
		bars.Color = color.RGBA{R: 59, G: 76, B: 192, A: 255}
		bars.LineStyle.Width = 0
		p.Add(bars)
	}
	if k <= maxLabelledClasses {
		p.NominalY(labels...)
	}
	h := vg.Length(math.Max(3, 1+0.18*float64(k))) * vg.Inch
	return &sizedPlot{p, 6 * vg.Inch, h}
}

var lineColors = []color.Color{
	color.RGBA{59, 76, 192, 255}, color.RGBA{180, 4, 38, 255}, color.RGBA{0, 128, 0, 255},
	color.RGBA{230, 140, 0, 255}, color.RGBA{120, 60, 160, 255}, color.RGBA{0, 150, 150, 255},
	color.RGBA{100, 100, 100, 255}, color.RGBA{200, 80, 160, 255},
}

func curvePlot(name string, m *ModelResult) *sizedPlot {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s: training curve", name)
	p.X.Label.Text = "epoch"
	p.Y.Label.Text = "loss"
	p.Legend.Top = true
	var train, val plotter.XYs
	for _, e := range m.Curve {
		train = append(train, plotter.XY{X: float64(e.Epoch), Y: e.TrainLoss})
		if e.ValLoss > 0 {
			val = append(val, plotter.XY{X: float64(e.Epoch), Y: e.ValLoss})
		}
	}
	addLine(p, "train loss", train, 0)
	if len(val) > 0 {
		addLine(p, "validation loss", val, 1)
	}
	return &sizedPlot{p, 6 * vg.Inch, 4 * vg.Inch}
}

func addLine(p *plot.Plot, name string, xys plotter.XYs, i int) {
	l, s, err := plotter.NewLinePoints(xys)
	if err != nil {
		return
	}
	c := lineColors[i%len(lineColors)]
	l.Color, s.Color = c, c
	p.Add(l, s)
	p.Legend.Add(name, l, s)
}

// sweepPlot draws mean accuracy against a numeric sweep key, one line per model (averaged over
// repeats and the other sweep keys). It returns nil when the key's values are not numeric.
func sweepPlot(res *Results, sk string) *sizedPlot {
	type acc struct{ xs []float64 }
	points := map[string]map[float64]*acc{}
	for i := range res.Trials {
		t := &res.Trials[i]
		x, ok := number(t.Params[sk])
		if !ok {
			return nil
		}
		for _, ms := range res.Models {
			m := t.Models[ms.Name]
			if m == nil {
				continue
			}
			if points[ms.Name] == nil {
				points[ms.Name] = map[float64]*acc{}
			}
			a := points[ms.Name][x]
			if a == nil {
				a = &acc{}
				points[ms.Name][x] = a
			}
			a.xs = append(a.xs, m.Accuracy)
		}
	}
	if len(points) == 0 {
		return nil
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("accuracy vs %s", sk)
	p.X.Label.Text = sk
	p.Y.Label.Text = "accuracy"
	p.Legend.Top = true
	p.Legend.Left = true
	for i, ms := range res.Models {
		pts := points[ms.Name]
		xs := make([]float64, 0, len(pts))
		for x := range pts {
			xs = append(xs, x)
		}
		sort.Float64s(xs)
		var line plotter.XYs
		for _, x := range xs {
			mean, _ := eval.MeanCI(pts[x].xs)
			line = append(line, plotter.XY{X: x, Y: mean})
		}
		addLine(p, ms.Name, line, i)
	}
	return &sizedPlot{p, 6 * vg.Inch, 4 * vg.Inch}
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

// whiteToBlue is a sequential palette: 0 white, 1 dark blue, so empty cells stay blank.
type whiteToBlue int

func (n whiteToBlue) Colors() []color.Color {
	cs := make([]color.Color, n)
	for i := range cs {
		t := float64(i) / float64(n-1)
		cs[i] = color.RGBA{R: uint8(255 - t*(255-8)), G: uint8(255 - t*(255-48)), B: uint8(255 - t*(255-107)), A: 255}
	}
	return cs
}

var _ palette.Palette = whiteToBlue(2)
