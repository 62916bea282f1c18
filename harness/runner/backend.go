package runner

import (
	"context"
	"errors"
	"fmt"

	"github.com/etchlab/etch/harness/report"
)

// ErrNoDevice reports an explicit `backend: cuda` where no CUDA device can be used.
var ErrNoDevice = errors.New("no usable CUDA device")

// OpenBackend chooses the compute backend of a trial: "auto" picks CUDA when a device is usable
// and CPU otherwise, "cpu" is always available, and "cuda" without a device is an error. It
// returns the backend handed to models in model.Env.Backend (nil: each model opens the CPU
// backend itself with its thread count) and what was chosen and why, for the report.
//
// This build selects among the backends compiled into it; the CUDA backend lives behind the
// cuda build tag (kernels/cuda), so a default build always runs on the CPU and says so.
func OpenBackend(ctx context.Context, requested string, threads int) (any, report.Backend, error) {
	if err := ctx.Err(); err != nil {
		return nil, report.Backend{}, err
	}
	b := report.Backend{Requested: requested, Used: "cpu", Description: "pure-Go CPU kernels"}
	switch requested {
	case "", "auto":
		b.Reason = "auto: this build has no CUDA backend (build with -tags cuda); using cpu"
	case "cpu":
		b.Reason = "cpu: requested explicitly"
	case "cuda":
		return nil, b, fmt.Errorf("backend cuda: %w: this build has no CUDA backend (build with -tags cuda)", ErrNoDevice)
	default:
		return nil, b, fmt.Errorf("backend %q: want auto, cpu or cuda", requested)
	}
	return nil, b, nil
}
