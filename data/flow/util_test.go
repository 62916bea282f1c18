package flow

import (
	"io"
	"log/slog"
	"time"
)

func timeUS(us int64) time.Time { return time.UnixMicro(us).UTC() }

func newTextLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
