// Adam with L2 weight decay (PyTorch's Adam); c1, c2 are the bias corrections 1/(1-beta^t).
#include "common.cuh"

extern "C" __global__ void adam_step(i64 n, float *param, const float *grad, float *m, float *v, float lr,
                                     float beta1, float beta2, float eps, float weightDecay, float c1, float c2) {
    FOR_N(i, n) {
        float p = param[i];
        float g = grad[i] + weightDecay * p;
        float mv = beta1 * m[i] + (1.0f - beta1) * g;
        float vv = beta2 * v[i] + (1.0f - beta2) * g * g;
        m[i] = mv;
        v[i] = vv;
        param[i] = p - lr * (mv * c1) / (sqrtf(vv * c2) + eps);
    }
}
