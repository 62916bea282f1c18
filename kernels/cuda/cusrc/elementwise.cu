// Elementwise kernels, strided 2-D moves, activations, bias and row sums, dropout masks.
#include "common.cuh"

extern "C" __global__ void fill(float *x, i64 n, float v) {
    FOR_N(i, n) x[i] = v;
}

extern "C" __global__ void copy2d(i64 rows, i64 cols, const float *src, i64 lds, float *dst, i64 ldd) {
    FOR_N(i, rows * cols) {
        i64 r = i / cols, c = i % cols;
        dst[r * ldd + c] = src[r * lds + c];
    }
}

extern "C" __global__ void axpy2d(i64 rows, i64 cols, float alpha, const float *x, i64 ldx, float *y, i64 ldy) {
    FOR_N(i, rows * cols) {
        i64 r = i / cols, c = i % cols;
        y[r * ldy + c] += alpha * x[r * ldx + c];
    }
}

extern "C" __global__ void axpy(i64 n, float alpha, const float *x, float *y) {
    FOR_N(i, n) y[i] += alpha * x[i];
}

extern "C" __global__ void scale(i64 n, float alpha, float *x) {
    FOR_N(i, n) x[i] *= alpha;
}

extern "C" __global__ void mul(i64 n, const float *a, const float *b, float *dst) {
    FOR_N(i, n) dst[i] = a[i] * b[i];
}

extern "C" __global__ void add_bias(float *x, i64 rows, i64 cols, const float *bias) {
    FOR_N(i, rows * cols) x[i] += bias[i % cols];
}

// One block per column: dst[c] = beta*dst[c] + sum_r dy[r][c].
extern "C" __global__ void sum_rows(const float *dy, i64 rows, i64 cols, float *dst, float beta) {
    __shared__ double sh[RBLOCK];
    i64 c = blockIdx.x;
    double s = 0;
    for (i64 r = threadIdx.x; r < rows; r += RBLOCK) s += dy[r * cols + c];
    s = block_sum(s, sh);
    if (threadIdx.x == 0) {
        float prev = beta == 0.0f ? 0.0f : beta * dst[c];
        dst[c] = prev + (float)s;
    }
}

// kind: 0 identity, 1 ReLU, 2 sigmoid, 3 tanh (kernels.Activation).
extern "C" __global__ void act(i64 kind, const float *x, float *y, i64 n) {
    FOR_N(i, n) {
        float v = x[i];
        switch (kind) {
        case 1: v = v > 0.0f ? v : 0.0f; break;
        case 2: v = sigmoidf_(v); break;
        case 3: v = tanhf(v); break;
        default: break;
        }
        y[i] = v;
    }
}

extern "C" __global__ void act_backward(i64 kind, const float *y, const float *dy, float *dx, i64 n) {
    FOR_N(i, n) {
        float v = y[i], d = dy[i];
        switch (kind) {
        case 1: d = v > 0.0f ? d : 0.0f; break;
        case 2: d = d * v * (1.0f - v); break;
        case 3: d = d * (1.0f - v * v); break;
        default: break;
        }
        dx[i] = d;
    }
}

// SplitMix64's finaliser, as kernels.Mix64.
__device__ __forceinline__ u64 mix64(u64 z) {
    z ^= z >> 30;
    z *= 0xBF58476D1CE4E5B9ULL;
    z ^= z >> 27;
    z *= 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return z;
}

// mask[i] = keep if Uniform(key, i) >= p else 0, with key = kernels.StreamKey(seed, step).
extern "C" __global__ void dropout_mask(i64 n, float p, float keep, u64 key, float *mask) {
    FOR_N(i, n) {
        u64 z = mix64(key + 0x9E3779B97F4A7C15ULL * (u64)(i + 1));
        float u = (float)(z >> 40) * (1.0f / 16777216.0f);
        mask[i] = u >= p ? keep : 0.0f;
    }
}

// Per-block partial sums of squares (in double) into partial[blockIdx.x].
extern "C" __global__ void sum_squares(const float *x, i64 n, double *partial) {
    __shared__ double sh[RBLOCK];
    double s = 0;
    FOR_N(i, n) {
        double v = x[i];
        s += v * v;
    }
    s = block_sum(s, sh);
    if (threadIdx.x == 0) partial[blockIdx.x] = s;
}
