package runner

import (
	"errors"
	"path/filepath"
	"slices"

	"github.com/etchlab/etch/data"
	"github.com/etchlab/etch/harness/config"
	"github.com/etchlab/etch/harness/model"
	"github.com/etchlab/etch/harness/model/saved"
)

// ModelsDir is the subdirectory of a run directory that holds the saved models:
// models/<trial id>/<model name>.etchm.
const ModelsDir = "models"

// ModelPath returns where a run saves model name of trial id.
func ModelPath(runDir, trial, name string) string {
	return filepath.Join(runDir, ModelsDir, trial, name+saved.Ext)
}

// saveModel writes a model fitted on the first fold of trial s, with the preprocessing that
// feeds it (features, sequence length, the fold's scaler, classes), so that etch classify applies
// it exactly as the trial did. Models that cannot be saved (ONNX) are skipped with a log line:
// saving is a by-product, never a reason to fail a trial.
func (w *Worker) saveModel(s *TrialSpec, ms config.Model, m model.Model, ds *data.Dataset, sc *data.Scaler) {
	pre := saved.Preprocess{Features: s.Config.Data.Features, Label: s.Config.Data.Label, TabNames: ds.TabNames,
		SeqChannels: ds.SeqChannels, SeqLen: ds.SeqLen, Scaler: sc, ClassNames: ds.ClassNames}
	if p, ok := m.(*model.Projected); ok {
		m = p.Model
		pre.TabNames, pre.SeqChannels, pre.Scaler = restrict(p, ds, sc)
	}
	if len(pre.SeqChannels) == 0 {
		pre.SeqLen = 0
	}
	b := &saved.Bundle{Header: saved.Header{Preprocess: pre, Name: ms.Name, Type: ms.Type, Experiment: s.Experiment,
		Trial: s.ID, EtchVersion: s.EtchVersion}, Model: m}
	path := filepath.Join(s.ModelDir, ms.Name+saved.Ext)
	if err := saved.WriteFile(path, b); err != nil {
		lvl := "model not saved"
		if errors.Is(err, saved.ErrNotSaver) {
			w.log().Info(lvl, "trial", s.ID, "model", ms.Name, "reason", err)
			return
		}
		w.log().Warn(lvl, "trial", s.ID, "model", ms.Name, "err", err)
	}
}

// restrict returns the names and the scaler of p's features only (scaling is per feature, so the
// restricted scaler scales them exactly as the full one).
func restrict(p *model.Projected, ds *data.Dataset, sc *data.Scaler) (tab, ch []string, out *data.Scaler) {
	out = &data.Scaler{Method: sc.Method}
	for _, name := range p.Tab {
		out.Tab = append(out.Tab, sc.Tab[slices.Index(ds.TabNames, name)])
	}
	for _, name := range p.Channels {
		out.Seq = append(out.Seq, sc.Seq[slices.Index(ds.SeqChannels, name)])
	}
	return slices.Clone(p.Tab), slices.Clone(p.Channels), out
}
