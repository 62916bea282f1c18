package kernels

import (
	"context"
	"fmt"
	"strings"
)

// Open opens the backend called name with the given openers (there is no global registry):
//
//   - "cpu", "cuda", ...: the opener of that name. If its Probe fails, the error wraps
//     ErrNoDevice for any device backend (every name but "cpu").
//   - "auto" or "": the first device opener (in the given order) whose Probe succeeds, the "cpu"
//     opener last; probe failures are not errors, they are reported in the reason.
//
// It returns the backend and a human-readable reason for the choice, e.g.
// "auto: cuda unavailable (no device); using cpu".
func Open(ctx context.Context, name string, openers []Opener, opts Options) (Backend, string, error) {
	name = strings.ToLower(strings.TrimSpace(name))
	if name == "" || name == "auto" {
		return openAuto(ctx, openers, opts)
	}
	for _, o := range openers {
		if o.Name() != name {
			continue
		}
		if err := o.Probe(ctx); err != nil {
			if name == "cpu" {
				return nil, "", fmt.Errorf("kernels: open cpu: %w", err)
			}
			return nil, "", fmt.Errorf("kernels: open %s: %w: %w", name, ErrNoDevice, err)
		}
		b, err := o.Open(ctx, opts)
		if err != nil {
			if name == "cpu" {
				return nil, "", fmt.Errorf("kernels: open cpu: %w", err)
			}
			return nil, "", fmt.Errorf("kernels: open %s: %w: %w", name, ErrNoDevice, err)
		}
		return b, fmt.Sprintf("%s: requested explicitly (%s)", name, b.Device()), nil
	}
	if name == "cuda" {
		return nil, "", fmt.Errorf("kernels: open cuda: %w: this binary has no cuda backend", ErrNoDevice)
	}
	return nil, "", fmt.Errorf("kernels: open %q: %w (have %s)", name, ErrUnknownBackend, names(openers))
}

func openAuto(ctx context.Context, openers []Opener, opts Options) (Backend, string, error) {
	var skipped []string
	try := func(o Opener) (Backend, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := o.Probe(ctx); err != nil {
			skipped = append(skipped, fmt.Sprintf("%s unavailable (%v)", o.Name(), err))
			return nil, nil
		}
		b, err := o.Open(ctx, opts)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("%s failed to open (%v)", o.Name(), err))
			return nil, nil
		}
		return b, nil
	}
	reason := func(b Backend) string {
		msg := "auto: "
		if len(skipped) > 0 {
			msg += strings.Join(skipped, "; ") + "; "
		}
		return msg + "using " + b.Name() + " (" + b.Device() + ")"
	}
	for _, o := range openers {
		if o.Name() == "cpu" {
			continue
		}
		b, err := try(o)
		if err != nil {
			return nil, "", fmt.Errorf("kernels: open auto: %w", err)
		}
		if b != nil {
			return b, reason(b), nil
		}
	}
	for _, o := range openers {
		if o.Name() != "cpu" {
			continue
		}
		b, err := try(o)
		if err != nil {
			return nil, "", fmt.Errorf("kernels: open auto: %w", err)
		}
		if b != nil {
			return b, reason(b), nil
		}
	}
	return nil, "", fmt.Errorf("kernels: open auto: no usable backend among [%s]: %s", names(openers), strings.Join(skipped, "; "))
}

func names(openers []Opener) string {
	s := make([]string, len(openers))
	for i, o := range openers {
		s[i] = o.Name()
	}
	return strings.Join(s, ", ")
}
