// Fused LSTM and GRU cells (batch-major; gate blocks as documented on kernels.LSTMCeller and
// kernels.GRUCeller), one thread per (batch, hidden unit).
#include "common.cuh"

extern "C" __global__ void lstm_forward(i64 batch, i64 H, float *gates, const float *cPrev, float *c, float *h) {
    FOR_N(k, batch * H) {
        i64 b = k / H, j = k % H;
        float *g = gates + b * 4 * H;
        float i = sigmoidf_(g[j]), f = sigmoidf_(g[H + j]), gc = tanhf(g[2 * H + j]), o = sigmoidf_(g[3 * H + j]);
        g[j] = i;
        g[H + j] = f;
        g[2 * H + j] = gc;
        g[3 * H + j] = o;
        float cv = f * cPrev[k] + i * gc;
        c[k] = cv;
        h[k] = o * tanhf(cv);
    }
}

// dc may be null (zero). dcPrev may alias dc (each thread reads dc[k] before writing dcPrev[k]).
extern "C" __global__ void lstm_backward(i64 batch, i64 H, const float *gates, const float *cPrev, const float *c,
                                         const float *dh, const float *dc, float *dGates, float *dcPrev) {
    FOR_N(k, batch * H) {
        i64 b = k / H, j = k % H;
        const float *g = gates + b * 4 * H;
        float *d = dGates + b * 4 * H;
        float t = tanhf(c[k]);
        float i = g[j], f = g[H + j], gc = g[2 * H + j], o = g[3 * H + j];
        float dhv = dh[k];
        float dct = dhv * o * (1.0f - t * t);
        if (dc) dct += dc[k];
        d[j] = dct * gc * i * (1.0f - i);
        d[H + j] = dct * cPrev[k] * f * (1.0f - f);
        d[2 * H + j] = dct * i * (1.0f - gc * gc);
        d[3 * H + j] = dhv * t * o * (1.0f - o);
        dcPrev[k] = dct * f;
    }
}

extern "C" __global__ void gru_forward(i64 batch, i64 H, float *gx, const float *gh, const float *hPrev, float *h) {
    FOR_N(k, batch * H) {
        i64 b = k / H, j = k % H;
        float *x = gx + b * 3 * H;
        const float *g = gh + b * 3 * H;
        float r = sigmoidf_(x[j] + g[j]);
        float z = sigmoidf_(x[H + j] + g[H + j]);
        float n = tanhf(x[2 * H + j] + r * g[2 * H + j]);
        x[j] = r;
        x[H + j] = z;
        x[2 * H + j] = n;
        h[k] = (1.0f - z) * n + z * hPrev[k];
    }
}

extern "C" __global__ void gru_backward(i64 batch, i64 H, const float *gx, const float *gh, const float *hPrev,
                                        const float *dh, float *dgx, float *dgh, float *dhPrev) {
    FOR_N(k, batch * H) {
        i64 b = k / H, j = k % H;
        const float *a = gx + b * 3 * H;
        const float *g = gh + b * 3 * H;
        float *d = dgx + b * 3 * H;
        float *e = dgh + b * 3 * H;
        float r = a[j], z = a[H + j], n = a[2 * H + j];
        float d0 = dh[k];
        float dn = d0 * (1.0f - z) * (1.0f - n * n);
        float dz = d0 * (hPrev[k] - n) * z * (1.0f - z);
        float dr = dn * g[2 * H + j] * r * (1.0f - r);
        d[j] = dr;
        d[H + j] = dz;
        d[2 * H + j] = dn;
        e[j] = dr;
        e[H + j] = dz;
        e[2 * H + j] = dn * r;
        dhPrev[k] = d0 * z;
    }
}
