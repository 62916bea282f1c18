// Batch normalisation over rows (channels = columns), one block per column.
#include "common.cuh"

// training != 0: batch statistics (saved to saveMean/saveInvStd, running stats updated with the
// unbiased variance); else the running statistics. y = gamma*(x-mean)*invstd + beta.
extern "C" __global__ void batchnorm_forward(const float *x, i64 rows, i64 cols, const float *gamma,
                                             const float *beta, float eps, i64 training, float momentum,
                                             float *runMean, float *runVar, float *y, float *saveMean,
                                             float *saveInvStd) {
    __shared__ double sh[RBLOCK];
    i64 c = blockIdx.x;
    float mean, inv;
    if (training) {
        double s = 0;
        for (i64 r = threadIdx.x; r < rows; r += RBLOCK) s += x[r * cols + c];
        s = block_sum(s, sh);
        mean = (float)(s / (double)rows);
        double q = 0;
        for (i64 r = threadIdx.x; r < rows; r += RBLOCK) {
            double d = (double)(x[r * cols + c] - mean);
            q += d * d;
        }
        q = block_sum(q, sh);
        double var = q / (double)rows;
        inv = (float)(1.0 / sqrt(var + (double)eps));
        if (threadIdx.x == 0) {
            saveMean[c] = mean;
            saveInvStd[c] = inv;
            double unbiased = rows > 1 ? q / (double)(rows - 1) : var;
            runMean[c] = (1.0f - momentum) * runMean[c] + momentum * mean;
            runVar[c] = (1.0f - momentum) * runVar[c] + momentum * (float)unbiased;
        }
    } else {
        mean = runMean[c];
        inv = (float)(1.0 / sqrt((double)runVar[c] + (double)eps));
    }
    float g = gamma[c], b = beta[c];
    for (i64 r = threadIdx.x; r < rows; r += RBLOCK) y[r * cols + c] = g * (x[r * cols + c] - mean) * inv + b;
}

// dbeta = sum dy, dgamma = sum dy*xhat, dx = gamma*invstd/n * (n*dy - dbeta - xhat*dgamma).
extern "C" __global__ void batchnorm_backward(const float *x, const float *dy, i64 rows, i64 cols,
                                              const float *gamma, const float *saveMean,
                                              const float *saveInvStd, float *dx, float *dgamma,
                                              float *dbeta) {
    __shared__ double sh[RBLOCK];
    i64 c = blockIdx.x;
    float mean = saveMean[c], inv = saveInvStd[c];
    double sdy = 0, sdyx = 0;
    for (i64 r = threadIdx.x; r < rows; r += RBLOCK) {
        float d = dy[r * cols + c];
        sdy += d;
        sdyx += (double)(d * (x[r * cols + c] - mean) * inv);
    }
    sdy = block_sum(sdy, sh);
    sdyx = block_sum(sdyx, sh);
    float db = (float)sdy, dg = (float)sdyx;
    if (threadIdx.x == 0) {
        dbeta[c] = db;
        dgamma[c] = dg;
    }
    float n = (float)rows;
    float k1 = gamma[c] * inv / n;
    for (i64 r = threadIdx.x; r < rows; r += RBLOCK) {
        float xhat = (x[r * cols + c] - mean) * inv;
        dx[r * cols + c] = k1 * (n * dy[r * cols + c] - db - xhat * dg);
    }
}
