package kernels

// Counter-based random numbers shared by every backend: a value depends only on (seed, step, i),
// so a CPU and a GPU kernel (one thread per i) produce the same bits, and any element can be
// generated independently, in any order, in parallel.

const golden = 0x9E3779B97F4A7C15

// Mix64 is SplitMix64's finaliser (Steele, Lea & Flood 2014), a bijective 64-bit hash.
func Mix64(z uint64) uint64 {
	z ^= z >> 30
	z *= 0xBF58476D1CE4E5B9
	z ^= z >> 27
	z *= 0x94D049BB133111EB
	z ^= z >> 31
	return z
}

// StreamKey derives the per-(seed, step) key used by Uniform: Mix64(seed + golden*(step+1)).
func StreamKey(seed, step uint64) uint64 {
	return Mix64(seed + golden*(step+1))
}

// Uniform returns the i-th number of stream key as a float32 in [0, 1) with 24 random bits:
// float32(Mix64(key + golden*(i+1)) >> 40) * 2^-24. It is exact in float32 (and in a CUDA
// kernel computing the same integer expression).
func Uniform(key, i uint64) float32 {
	return float32(Mix64(key+golden*(i+1))>>40) * (1.0 / (1 << 24))
}

// DropoutUniform is the uniform number deciding element i of the dropout mask for (seed, step):
// Uniform(StreamKey(seed, step), i).
func DropoutUniform(seed, step, i uint64) float32 {
	return Uniform(StreamKey(seed, step), i)
}
