// Row-wise softmax and softmax cross-entropy over logits [rows][classes], one thread per row.
#include "common.cuh"

// Writes the softmax of row r of in to out and returns log(sum exp(in - max)); *mx gets the max.
__device__ float softmax_row(const float *in, float *out, i64 classes, float *mx) {
    float m = in[0];
    for (i64 i = 1; i < classes; i++) m = fmaxf(m, in[i]);
    double sum = 0;
    for (i64 i = 0; i < classes; i++) {
        float e = expf(in[i] - m);
        out[i] = e;
        sum += e;
    }
    float inv = (float)(1.0 / sum);
    for (i64 i = 0; i < classes; i++) out[i] *= inv;
    *mx = m;
    return (float)log(sum);
}

extern "C" __global__ void softmax(const float *logits, i64 rows, i64 classes, float *probs) {
    FOR_N(r, rows) {
        float mx;
        softmax_row(logits + r * classes, probs + r * classes, classes, &mx);
    }
}

// probs = softmax(logits); dlogits = w*scale*(p - onehot(label)); rowloss[r] = w*(-log p[label])
// and rowbad[r] = 1 for a label outside [0, classes) or not an integer (the host checks it).
// weights may be null (w = 1). probs and dlogits may alias.
extern "C" __global__ void softmax_xent(const float *logits, i64 rows, i64 classes, const float *labels,
                                        const float *weights, float *probs, float *dlogits, float scale,
                                        float *rowloss, float *rowbad) {
    FOR_N(r, rows) {
        const float *in = logits + r * classes;
        float *p = probs + r * classes;
        float *d = dlogits + r * classes;
        float mx;
        float lse = softmax_row(in, p, classes, &mx);
        float lab = labels[r];
        i64 y = (i64)lab;
        if (y < 0 || y >= classes || (float)y != lab) {
            rowbad[r] = 1.0f;
            rowloss[r] = 0.0f;
            continue;
        }
        rowbad[r] = 0.0f;
        float w = weights ? weights[r] : 1.0f;
        rowloss[r] = w * (lse - (in[y] - mx));
        float g = w * scale;
        for (i64 i = 0; i < classes; i++) d[i] = g * p[i];
        d[y] -= g;
    }
}
