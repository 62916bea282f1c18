package runner

import (
	"context"
	"regexp"

	"github.com/etchlab/etch/harness/report"
	"github.com/etchlab/etch/kernels"
	"github.com/etchlab/etch/kernels/cpu"
)

// DefaultOpeners returns the kernel backends this build has: its device backends (none in a
// default build; a file with the cuda build tag defines deviceOpeners to add the CUDA backend),
// then the CPU backend (see kernels.Open for how `auto` chooses).
func DefaultOpeners() []kernels.Opener {
	return append(deviceOpeners(), cpu.Opener{})
}

// threadsRE matches the thread count in a backend's device description, which varies with the
// run's parallelism and is left out of reports so that their bodies stay reproducible.
var threadsRE = regexp.MustCompile(`,? \d+ threads`)

// BackendOpener returns a backend chooser over openers: "auto" picks the first usable device
// backend and CPU otherwise, "cpu" is always available, and "cuda" without a device is an error
// (matching kernels.ErrNoDevice). It returns the backend handed to models in model.Env.Backend
// and what was chosen and why, for the report.
func BackendOpener(openers []kernels.Opener) func(ctx context.Context, requested string, threads int) (any, report.Backend, error) {
	return func(ctx context.Context, requested string, threads int) (any, report.Backend, error) {
		b, reason, err := kernels.Open(ctx, requested, openers, kernels.Options{Threads: threads})
		if err != nil {
			return nil, report.Backend{Requested: requested}, err
		}
		if (requested == "" || requested == "auto") && !hasDevice(openers) {
			reason = "auto: this build has no CUDA backend (build with -tags cuda); using " + b.Name()
		}
		return b, report.Backend{Requested: requested, Used: b.Name(), Description: threadsRE.ReplaceAllString(b.Device(), ""),
			Reason: threadsRE.ReplaceAllString(reason, "")}, nil
	}
}

// OpenBackend chooses among DefaultOpeners (see BackendOpener).
func OpenBackend(ctx context.Context, requested string, threads int) (any, report.Backend, error) {
	return BackendOpener(DefaultOpeners())(ctx, requested, threads)
}

// hasDevice reports whether any opener is a device backend (not "cpu").
func hasDevice(openers []kernels.Opener) bool {
	for _, o := range openers {
		if o.Name() != "cpu" {
			return true
		}
	}
	return false
}
