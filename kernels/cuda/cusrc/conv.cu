// Conv1D helpers (im2col and its adjoint) and max pooling, channels-last [batch][length][c].
#include "common.cuh"

// cols [batch*out][k*cin]: element (row, j*cin+ci) = x[b][t*stride+j-pad][ci] or 0.
extern "C" __global__ void im2col1d(const float *x, i64 batch, i64 length, i64 cin, i64 k, i64 pad, i64 stride,
                                    i64 out, float *cols) {
    i64 w = k * cin;
    FOR_N(i, batch * out * w) {
        i64 row = i / w, col = i % w;
        i64 b = row / out, t = row % out;
        i64 j = col / cin, ci = col % cin;
        i64 src = t * stride + j - pad;
        cols[i] = (src < 0 || src >= length) ? 0.0f : x[(b * length + src) * cin + ci];
    }
}

// dx[b][pos][ci] += sum over the (t, j) with t*stride+j-pad == pos of cols[(b,t)][j*cin+ci]
// (a gather, one thread per dx element, so the sum order is fixed: deterministic).
extern "C" __global__ void col2im1d(const float *cols, i64 batch, i64 length, i64 cin, i64 k, i64 pad, i64 stride,
                                    i64 out, float *dx) {
    i64 w = k * cin;
    FOR_N(i, batch * length * cin) {
        i64 ci = i % cin, pos = (i / cin) % length, b = i / (cin * length);
        // Output steps t whose window covers pos: j = pos+pad-t*stride in [0, k).
        i64 hi = pos + pad;
        i64 t0 = hi - k + 1 > 0 ? (hi - k + 1 + stride - 1) / stride : 0;
        i64 t1 = hi / stride < out - 1 ? hi / stride : out - 1;
        float s = 0.0f;
        for (i64 t = t0; t <= t1; t++) {
            i64 j = hi - t * stride;
            s += cols[(b * out + t) * w + j * cin + ci];
        }
        dx[i] += s;
    }
}

// y [batch][out][c] = max over each window; argmax = float-encoded index into x (first on ties).
extern "C" __global__ void maxpool1d(const float *x, i64 batch, i64 length, i64 c, i64 size, i64 out, float *y,
                                     float *argmax) {
    FOR_N(i, batch * out * c) {
        i64 ch = i % c, row = i / c;
        i64 b = row / out, t = row % out;
        i64 base = (b * length + t * size) * c + ch;
        float m = x[base];
        i64 at = base;
        for (i64 j = 1; j < size; j++) {
            float v = x[base + j * c];
            if (v > m) {
                m = v;
                at = base + j * c;
            }
        }
        y[i] = m;
        argmax[i] = (float)at;
    }
}

// dx zeroed, then dy scattered at argmax: as a gather, dx[i] = dy[window of i] if argmax there == i.
extern "C" __global__ void maxpool1d_backward(const float *dy, const float *argmax, i64 batch, i64 length, i64 c,
                                              i64 size, i64 out, float *dx) {
    FOR_N(i, batch * length * c) {
        i64 ch = i % c, pos = (i / c) % length, b = i / (c * length);
        i64 t = pos / size;
        float v = 0.0f;
        if (t < out) {
            i64 o = (b * out + t) * c + ch;
            if ((i64)argmax[o] == i) v = dy[o];
        }
        dx[i] = v;
    }
}
