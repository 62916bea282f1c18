// Package kerneltest is the conformance suite every kernels.Backend must pass: Run checks each
// kernel against naive float64 reference implementations written here (not against another
// backend's code, so the CPU backend is tested by it too), with stated tolerances:
//
//   - GEMM: |got − want| ≤ 1e-5·Σ_p|a_ip·b_pj| + 1e-6 (float32 accumulation of k products);
//   - transcendental kernels (sigmoid, tanh, softmax, cross-entropy, batch norm, LSTM/GRU cells,
//     Adam): |got − want| ≤ 2e-5·(1+|want|);
//   - data movement, pooling, ReLU, dropout masks and other exact kernels: bit-exact;
//   - reductions (SumSquares, SumRows, loss): relative 1e-5.
//
// The float64 references of the fused LSTM/GRU backward passes are themselves checked against
// central finite differences of the reference forward passes, so the suite cannot agree with a
// wrong derivation. A CUDA backend runs the same suite (`make test-gpu`).
package kerneltest
