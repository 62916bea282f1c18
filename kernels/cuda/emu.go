//go:build cudaemu

package cuda

/*
#cgo CXXFLAGS: -std=c++20 -O2 -U_FORTIFY_SOURCE
#cgo LDFLAGS: -lstdc++ -pthread
#include <stdint.h>
#include <stdlib.h>
int emu_launch(const char *name, int blocks, int threads, const uint64_t *params, int nparams);
int emu_sgemm(int ta, int tb, long long m, long long n, long long k, float alpha, uint64_t a, long long lda, uint64_t b,
              long long ldb, float beta, uint64_t c, long long ldc);
uint64_t emu_alloc(size_t bytes);
void emu_free(uint64_t p);
void emu_memset32(uint64_t p, uint32_t v, size_t n);
void emu_htod(uint64_t dst, const void *src, size_t bytes);
void emu_dtoh(void *dst, uint64_t src, size_t bytes);
void emu_dtod(uint64_t dst, uint64_t src, size_t bytes);
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"unsafe"

	"github.com/etchlab/etch/kernels"
)

// NewEmulator returns a Backend whose kernels run on the host (build tag cudaemu, for tests): the
// same Backend code and the same .cu kernels as on a GPU, with CUDA's thread model emulated and
// cuBLAS replaced by a reference SGEMM that checks its arguments as cuBLAS does.
func NewEmulator(opts kernels.Options) *Backend {
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	return &Backend{drv: emuDriver{}, log: log, device: "CUDA emulator (host)"}
}

type emuDriver struct{}

var errEmuAlloc = errors.New("out of host memory")

func (emuDriver) enter() error { return nil }

func (emuDriver) alloc(bytes int64) (uint64, error) {
	p := uint64(C.emu_alloc(C.size_t(bytes)))
	if p == 0 {
		return 0, errEmuAlloc
	}
	return p, nil
}

func (emuDriver) free(p uint64) error { C.emu_free(C.uint64_t(p)); return nil }

func (emuDriver) memsetD32(p uint64, v uint32, n int64) error {
	C.emu_memset32(C.uint64_t(p), C.uint32_t(v), C.size_t(n))
	return nil
}

func (emuDriver) htod(dst uint64, src unsafe.Pointer, bytes int64) error {
	C.emu_htod(C.uint64_t(dst), src, C.size_t(bytes))
	return nil
}

func (emuDriver) dtoh(dst unsafe.Pointer, src uint64, bytes int64) error {
	C.emu_dtoh(dst, C.uint64_t(src), C.size_t(bytes))
	return nil
}

func (emuDriver) dtod(dst, src uint64, bytes int64) error {
	C.emu_dtod(C.uint64_t(dst), C.uint64_t(src), C.size_t(bytes))
	return nil
}

func (emuDriver) launch(fn string, blocks, threads int, vals []uint64) error {
	name := C.CString(fn)
	defer C.free(unsafe.Pointer(name))
	var p *C.uint64_t
	if len(vals) > 0 {
		p = (*C.uint64_t)(unsafe.Pointer(&vals[0]))
	}
	switch rc := C.emu_launch(name, C.int(blocks), C.int(threads), p, C.int(len(vals))); rc {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("no kernel %s", fn)
	case 2:
		return fmt.Errorf("kernel %s: wrong number of parameters (%d)", fn, len(vals))
	default:
		return fmt.Errorf("kernel %s: bad launch geometry %d×%d", fn, blocks, threads)
	}
}

func (emuDriver) sgemm(transA, transB bool, m, n, k int, alpha float32, a uint64, lda int, b uint64, ldb int, beta float32, c uint64, ldc int) error {
	ta, tb := 0, 0
	if transA {
		ta = 1
	}
	if transB {
		tb = 1
	}
	if rc := C.emu_sgemm(C.int(ta), C.int(tb), C.longlong(m), C.longlong(n), C.longlong(k), C.float(alpha), C.uint64_t(a), C.longlong(lda),
		C.uint64_t(b), C.longlong(ldb), C.float(beta), C.uint64_t(c), C.longlong(ldc)); rc != 0 {
		return fmt.Errorf("cublasSgemm status %d (invalid value)", rc)
	}
	return nil
}

func (emuDriver) sync() error  { return nil }
func (emuDriver) close() error { return nil }

// EmulatorOpener opens the host emulator under the name "cuda" (build tag cudaemu only: it lets
// the runner's GPU tests exercise the whole CUDA path on a machine without a GPU).
type EmulatorOpener struct{}

// Name returns "cuda".
func (EmulatorOpener) Name() string { return "cuda" }

// Probe always succeeds.
func (EmulatorOpener) Probe(context.Context) error { return nil }

// Open returns NewEmulator(opts).
func (EmulatorOpener) Open(_ context.Context, opts kernels.Options) (kernels.Backend, error) {
	return NewEmulator(opts), nil
}
