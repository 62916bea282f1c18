//go:build cuda

package cusrc

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"gorgonia.org/cu/nvrtc"
)

//go:embed *.cu *.cuh
var files embed.FS

// Kernels maps every kernel the backend launches to the module (source file without .cu) that
// defines it.
var Kernels = map[string]string{
	"fill": "elementwise", "copy2d": "elementwise", "axpy2d": "elementwise", "axpy": "elementwise",
	"scale": "elementwise", "mul": "elementwise", "add_bias": "elementwise", "sum_rows": "elementwise",
	"act": "elementwise", "act_backward": "elementwise", "dropout_mask": "elementwise", "sum_squares": "elementwise",
	"im2col1d": "conv", "col2im1d": "conv", "maxpool1d": "conv", "maxpool1d_backward": "conv",
	"softmax": "softmax", "softmax_xent": "softmax",
	"batchnorm_forward": "norm", "batchnorm_backward": "norm",
	"lstm_forward": "rnn", "lstm_backward": "rnn", "gru_forward": "rnn", "gru_backward": "rnn",
	"adam_step": "optim",
}

// Header is the shared header every source includes.
const Header = "common.cuh"

// Source is one .cu file.
type Source struct {
	// Name is the file name ("conv.cu"); Code its text.
	Name, Code string
}

// Sources returns every embedded .cu source, sorted by name.
func Sources() []Source {
	names, err := fs.Glob(files, "*.cu")
	if err != nil {
		panic(err) // a valid constant pattern
	}
	sort.Strings(names)
	out := make([]Source, 0, len(names))
	for _, n := range names {
		b, err := files.ReadFile(n)
		if err != nil {
			panic(fmt.Sprintf("cusrc: embedded %s: %v", n, err))
		}
		out = append(out, Source{Name: n, Code: string(b)})
	}
	return out
}

// Options are the NVRTC options for a virtual architecture such as "compute_80". FMA contraction
// is off so that elementwise kernels round like the CPU backend.
func Options(arch string) []string {
	return []string{"--gpu-architecture=" + arch, "--std=c++14", "--fmad=false", "-default-device"}
}

// Diagnostic is a failed or noisy compilation: the NVRTC log of a source.
type Diagnostic struct {
	Source, Arch, Log string
	Err               error
}

func (d *Diagnostic) Error() string {
	msg := fmt.Sprintf("nvrtc %s (%s)", d.Source, d.Arch)
	if d.Err != nil {
		msg += ": " + d.Err.Error()
	}
	if d.Log != "" {
		msg += ":\n" + d.Log
	}
	return msg
}

func (d *Diagnostic) Unwrap() error { return d.Err }

// Compile compiles src for arch and returns its PTX and the compiler log (warnings; empty when
// clean). A compile error is a *Diagnostic carrying the log.
func Compile(src Source, arch string) (ptx, log string, err error) {
	hdr, err := files.ReadFile(Header)
	if err != nil {
		return "", "", fmt.Errorf("cusrc: %s: %w", Header, err)
	}
	prog, err := nvrtc.CreateProgram(src.Code, src.Name, nvrtc.Include{Source: string(hdr), Name: Header})
	if err != nil {
		return "", "", &Diagnostic{Source: src.Name, Arch: arch, Err: err}
	}
	defer prog.Destroy()
	cerr := prog.Compile(Options(arch)...)
	log, _ = prog.GetLog()
	log = strings.TrimSpace(strings.TrimRight(log, "\x00"))
	if cerr != nil {
		return "", log, &Diagnostic{Source: src.Name, Arch: arch, Log: log, Err: cerr}
	}
	ptx, err = prog.GetPTX()
	if err != nil {
		return "", log, &Diagnostic{Source: src.Name, Arch: arch, Log: log, Err: err}
	}
	return strings.TrimRight(ptx, "\x00"), log, nil
}

// Module names the module a source compiles to ("conv" for conv.cu).
func Module(src Source) string { return strings.TrimSuffix(path.Base(src.Name), ".cu") }
