//go:build cudaemu

// A host emulator of etch's CUDA kernels, for testing the CUDA backend without a GPU (build tag
// cudaemu): the .cu sources of package cusrc are compiled here as C++ with CUDA's built-ins
// emulated. Blocks run one after another; a kernel without __syncthreads runs its threads one
// after another, one that synchronises runs them as fibers (ucontext) that take turns up to each
// __syncthreads, so every thread of the block reaches a barrier before any passes it, and
// __shared__ arrays are per block. cublasSgemm is a plain column-major loop that checks its
// arguments as cuBLAS does. Device memory is host memory. Only the code generation of NVCC/NVRTC
// and the real hardware are left out; `make cuda-check` compiles the same sources with NVRTC.

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <math.h>
#include <string>
#include <type_traits>
#include <setjmp.h>
#include <ucontext.h>
#include <utility>
#include <vector>

namespace {
struct emu_dim3 {
    unsigned x = 0, y = 0, z = 0;
};
// The launch state is per OS thread: two emulated backends may run kernels at the same time.
thread_local emu_dim3 threadIdx, blockIdx, blockDim, gridDim;

// A fiber is started once with makecontext/swapcontext and afterwards switched with
// _setjmp/_longjmp, which (unlike swapcontext) make no system call.
struct Fiber {
    ucontext_t ctx;
    jmp_buf jb;
    std::vector<char> stack;
    bool started = false, done = false;
};
thread_local ucontext_t emu_sched;
thread_local jmp_buf emu_sched_jb;
thread_local std::vector<Fiber> *emu_fibers;
thread_local int emu_cur;

// __syncthreads: the running fiber yields to the block scheduler.
void emu_syncthreads() {
    if (!_setjmp((*emu_fibers)[emu_cur].jb)) _longjmp(emu_sched_jb, 1);
}
}  // namespace

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static thread_local
#define __syncthreads() emu_syncthreads()

#include "cusrc/conv.cu"
#include "cusrc/elementwise.cu"
#include "cusrc/norm.cu"
#include "cusrc/optim.cu"
#include "cusrc/rnn.cu"
#include "cusrc/softmax.cu"

namespace {
// conv turns a 64-bit kernel parameter into the kernel's parameter type, as the CUDA driver
// would copy sizeof(T) bytes of it: pointers and 64-bit integers whole, a float from the low half.
template <class T> T conv(uint64_t v) {
    if constexpr (std::is_pointer_v<T>) {
        return reinterpret_cast<T>(static_cast<uintptr_t>(v));
    } else if constexpr (std::is_same_v<T, float>) {
        uint32_t u = static_cast<uint32_t>(v);
        float f;
        std::memcpy(&f, &u, 4);
        return f;
    } else {
        static_assert(sizeof(T) == 8, "kernel parameters are 64-bit or float");
        return static_cast<T>(v);
    }
}

struct Entry {
    void (*call)(void *fn, const uint64_t *p);
    void *fn;
    int nparams;
    bool syncs;  // uses __syncthreads: the block's threads must run concurrently
};

template <class... A, size_t... I> void invoke(void (*f)(A...), const uint64_t *p, std::index_sequence<I...>) {
    f(conv<A>(p[I])...);
}

template <class... A> Entry entry(void (*f)(A...), bool syncs) {
    return Entry{[](void *fn, const uint64_t *p) {
                     invoke(reinterpret_cast<void (*)(A...)>(fn), p, std::index_sequence_for<A...>{});
                 },
                 reinterpret_cast<void *>(f), static_cast<int>(sizeof...(A)), syncs};
}

const std::map<std::string, Entry> &table() {
    static const std::map<std::string, Entry> t = {
        {"fill", entry(fill, false)},
        {"copy2d", entry(copy2d, false)},
        {"axpy2d", entry(axpy2d, false)},
        {"axpy", entry(axpy, false)},
        {"scale", entry(scale, false)},
        {"mul", entry(mul, false)},
        {"add_bias", entry(add_bias, false)},
        {"sum_rows", entry(sum_rows, true)},
        {"act", entry(act, false)},
        {"act_backward", entry(act_backward, false)},
        {"dropout_mask", entry(dropout_mask, false)},
        {"sum_squares", entry(sum_squares, true)},
        {"im2col1d", entry(im2col1d, false)},
        {"col2im1d", entry(col2im1d, false)},
        {"maxpool1d", entry(maxpool1d, false)},
        {"maxpool1d_backward", entry(maxpool1d_backward, false)},
        {"softmax", entry(softmax, false)},
        {"softmax_xent", entry(softmax_xent, false)},
        {"batchnorm_forward", entry(batchnorm_forward, true)},
        {"batchnorm_backward", entry(batchnorm_backward, true)},
        {"lstm_forward", entry(lstm_forward, false)},
        {"lstm_backward", entry(lstm_backward, false)},
        {"gru_forward", entry(gru_forward, false)},
        {"gru_backward", entry(gru_backward, false)},
        {"adam_step", entry(adam_step, false)},
    };
    return t;
}
}  // namespace

extern "C" {

// emu_launch runs a kernel: 0 ok, 1 unknown kernel, 2 wrong parameter count, 3 bad geometry.
int emu_launch(const char *name, int blocks, int threads, const uint64_t *params, int nparams) {
    auto it = table().find(name);
    if (it == table().end()) return 1;
    const Entry &e = it->second;
    if (e.nparams != nparams) return 2;
    if (blocks < 1 || threads < 1 || threads > 1024) return 3;
    gridDim = {static_cast<unsigned>(blocks), 1, 1};
    blockDim = {static_cast<unsigned>(threads), 1, 1};
    if (!e.syncs) {
        for (int b = 0; b < blocks; b++) {
            for (int t = 0; t < threads; t++) {
                blockIdx = {static_cast<unsigned>(b), 0, 0};
                threadIdx = {static_cast<unsigned>(t), 0, 0};
                e.call(e.fn, params);
            }
        }
        return 0;
    }
    static thread_local std::vector<Fiber> fibers;
    static thread_local const Entry *entry_;
    static thread_local const uint64_t *params_;
    fibers.resize(threads);
    entry_ = &e;
    params_ = params;
    emu_fibers = &fibers;
    static thread_local int blocks_;
    blocks_ = blocks;
    // Each fiber runs every block in turn and waits at a barrier after each, so that all of a
    // block's threads finish (and its __shared__ arrays are free) before the next block starts.
    for (int t = 0; t < threads; t++) {
        Fiber &f = fibers[t];
        f.stack.resize(256 << 10);
        f.started = f.done = false;
        getcontext(&f.ctx);
        f.ctx.uc_stack.ss_sp = f.stack.data();
        f.ctx.uc_stack.ss_size = f.stack.size();
        f.ctx.uc_link = nullptr;  // a fiber never returns: it jumps back to the scheduler
        makecontext(&f.ctx, +[] {
            for (int b = 0; b < blocks_; b++) {
                blockIdx = {static_cast<unsigned>(b), 0, 0};
                entry_->call(entry_->fn, params_);
                emu_syncthreads();
            }
            (*emu_fibers)[emu_cur].done = true;
            _longjmp(emu_sched_jb, 1);
        }, 0);
    }
    for (bool running = true; running;) {
        running = false;
        for (int t = 0; t < threads; t++) {
            Fiber &f = fibers[t];
            if (f.done) continue;
            running = true;
            emu_cur = t;
            threadIdx = {static_cast<unsigned>(t), 0, 0};
            if (_setjmp(emu_sched_jb)) continue;  // the fiber yielded or finished
            if (!f.started) {
                f.started = true;
                swapcontext(&emu_sched, &f.ctx);
            } else {
                _longjmp(f.jb, 1);
            }
        }
    }
    return 0;
}

// emu_sgemm is cublasSgemm (column-major): 0 ok, 7 (CUBLAS_STATUS_INVALID_VALUE) on bad arguments.
int emu_sgemm(int ta, int tb, long long m, long long n, long long k, float alpha, uint64_t a, long long lda, uint64_t b,
              long long ldb, float beta, uint64_t c, long long ldc) {
    if (m < 0 || n < 0 || k < 0 || lda < std::max(1LL, ta ? k : m) || ldb < std::max(1LL, tb ? n : k) ||
        ldc < std::max(1LL, m))
        return 7;
    const float *A = reinterpret_cast<const float *>(static_cast<uintptr_t>(a));
    const float *B = reinterpret_cast<const float *>(static_cast<uintptr_t>(b));
    float *C = reinterpret_cast<float *>(static_cast<uintptr_t>(c));
    for (long long j = 0; j < n; j++) {
        for (long long i = 0; i < m; i++) {
            float s = 0;
            for (long long p = 0; p < k; p++) {
                float av = ta ? A[p + i * lda] : A[i + p * lda];
                float bv = tb ? B[j + p * ldb] : B[p + j * ldb];
                s += av * bv;
            }
            float &cv = C[i + j * ldc];
            cv = beta == 0.0f ? alpha * s : alpha * s + beta * cv;
        }
    }
    return 0;
}

uint64_t emu_alloc(size_t bytes) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(std::aligned_alloc(256, (bytes + 255) / 256 * 256))); }
void emu_free(uint64_t p) { std::free(reinterpret_cast<void *>(static_cast<uintptr_t>(p))); }
void emu_memset32(uint64_t p, uint32_t v, size_t n) {
    uint32_t *d = reinterpret_cast<uint32_t *>(static_cast<uintptr_t>(p));
    for (size_t i = 0; i < n; i++) d[i] = v;
}
void emu_htod(uint64_t dst, const void *src, size_t bytes) { std::memcpy(reinterpret_cast<void *>(static_cast<uintptr_t>(dst)), src, bytes); }
void emu_dtoh(void *dst, uint64_t src, size_t bytes) { std::memcpy(dst, reinterpret_cast<const void *>(static_cast<uintptr_t>(src)), bytes); }
void emu_dtod(uint64_t dst, uint64_t src, size_t bytes) {
    std::memmove(reinterpret_cast<void *>(static_cast<uintptr_t>(dst)), reinterpret_cast<const void *>(static_cast<uintptr_t>(src)), bytes);
}
}
