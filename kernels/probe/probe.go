package probe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// ErrNoGPU is wrapped by every probe failure: no CUDA binary, no driver, no device, or a
// misbehaving probe process.
var ErrNoGPU = errors.New("no usable CUDA device")

// WorkerEnv names the environment variable that points at the CUDA build of etch.
const WorkerEnv = "ETCH_CUDA_BIN"

// WorkerName is the CUDA build's file name, looked for next to the running executable.
const WorkerName = "etch-cuda"

// DefaultTimeout bounds a probe (driver initialisation and enumeration take well under a second
// on a healthy machine; a wedged driver must not hang a run).
const DefaultTimeout = 30 * time.Second

// GPU describes one CUDA device.
type GPU struct {
	Index int    `json:"index"`
	Name  string `json:"name"`
	// Major and Minor are the compute capability; Arch the virtual architecture the kernels are
	// compiled for (at most compute_90 with CUDA 11.8's NVRTC).
	Major     int    `json:"major"`
	Minor     int    `json:"minor"`
	Arch      string `json:"arch"`
	MemoryMiB int64  `json:"memory_mib"`
	SMs       int    `json:"sms"`
}

// String is a one-line description: "0: NVIDIA H100 (sm_90, 81559 MiB, 132 SMs)".
func (g GPU) String() string {
	return fmt.Sprintf("%d: %s (sm_%d%d, %d MiB, %d SMs)", g.Index, g.Name, g.Major, g.Minor, g.MemoryMiB, g.SMs)
}

// Report is what `etch-cuda devices --json` prints.
type Report struct {
	// Driver is the CUDA driver version (e.g. 12040), 0 when unknown.
	Driver int   `json:"driver"`
	GPUs   []GPU `json:"gpus"`
	// Error says why no GPU is listed, when none is.
	Error string `json:"error,omitempty"`
}

// CPU describes the host processor.
type CPU struct {
	Model   string `json:"model"`
	Threads int    `json:"threads"`
	// Features lists the SIMD extensions etch's kernels care about, as /proc/cpuinfo names them.
	Features []string `json:"features"`
}

// interesting are the CPU flags reported by LocalCPU, in this order.
var interesting = []string{"sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "amx_tile", "neon", "asimd", "sve"}

// LocalCPU describes this machine's CPU.
func LocalCPU() CPU {
	c := CPU{Model: runtime.GOARCH, Threads: runtime.NumCPU()}
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return c
	}
	return parseCPUInfo(b, c)
}

// parseCPUInfo reads the model name and flags of the first processor in a /proc/cpuinfo text.
func parseCPUInfo(b []byte, c CPU) CPU {
	var flags []string
	named := false
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "model name", "Model name":
			if !named {
				c.Model, named = v, true
			}
		case "flags", "Features":
			if flags == nil {
				flags = strings.Fields(v)
			}
		}
	}
	for _, f := range interesting {
		if slices.Contains(flags, f) {
			c.Features = append(c.Features, f)
		}
	}
	return c
}

// FindWorker returns the CUDA build of etch: $ETCH_CUDA_BIN if set, else etch-cuda next to the
// running executable, else "" (none).
func FindWorker() string {
	if p := os.Getenv(WorkerEnv); p != "" {
		return p
	}
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	p := filepath.Join(filepath.Dir(exe), WorkerName)
	if st, err := os.Stat(p); err == nil && !st.IsDir() {
		return p
	}
	return ""
}

// Run runs `worker devices --json` and returns its report. The child runs in its own process
// group (nothing it signals reaches the caller), is killed with its group at the timeout
// (0: DefaultTimeout) or when ctx ends, and any failure — exit status, crash, unparsable output,
// zero devices — is an error wrapping ErrNoGPU that says why (with the child's stderr).
func Run(ctx context.Context, worker string, timeout time.Duration) (*Report, error) {
	if worker == "" {
		return nil, fmt.Errorf("%w: no CUDA build of etch (build bin/%s with `make cuda`, or set %s)", ErrNoGPU, WorkerName, WorkerEnv)
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, worker, "devices", "--json")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	name := filepath.Base(worker)
	why := lastLines(stderr.String()+"\n"+stdout.String(), 3)
	switch {
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		return nil, fmt.Errorf("%w: %s devices timed out after %v", ErrNoGPU, name, timeout)
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case err != nil:
		if why != "" {
			return nil, fmt.Errorf("%w: %s devices: %v: %s", ErrNoGPU, name, err, why)
		}
		return nil, fmt.Errorf("%w: %s devices: %v", ErrNoGPU, name, err)
	}
	var r Report
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		return nil, fmt.Errorf("%w: %s devices --json: unreadable output: %v", ErrNoGPU, name, err)
	}
	if len(r.GPUs) == 0 {
		msg := r.Error
		if msg == "" {
			msg = "no devices found"
		}
		return &r, fmt.Errorf("%w: %s", ErrNoGPU, msg)
	}
	return &r, nil
}

// lastLines returns the last n non-empty lines of s, joined by "; ".
func lastLines(s string, n int) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return strings.Join(out, "; ")
}
