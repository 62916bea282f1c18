// Shared definitions of etch's CUDA kernels (included by every .cu source; NVRTC gets it as a
// named header). Sizes and indices are 64-bit; float scalars are passed as float.
#pragma once
typedef long long i64;
typedef unsigned long long u64;

// The global thread index and the grid-stride step of a 1-D launch.
#define TID() ((i64)blockIdx.x * blockDim.x + threadIdx.x)
#define STRIDE() ((i64)gridDim.x * blockDim.x)
#define FOR_N(i, n) for (i64 i = TID(); i < (n); i += STRIDE())

// Block size every reduction kernel is launched with.
#define RBLOCK 256

// Sums v over the block into the returned value (valid in thread 0); sh holds RBLOCK doubles.
__device__ __forceinline__ double block_sum(double v, double *sh) {
    sh[threadIdx.x] = v;
    __syncthreads();
    for (int s = RBLOCK / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
        __syncthreads();
    }
    double r = sh[0];
    __syncthreads();
    return r;
}

__device__ __forceinline__ float sigmoidf_(float x) { return 1.0f / (1.0f + expf(-x)); }
