package kernels

import "testing"

func TestMix64(t *testing.T) {
	// SplitMix64 with state 0: the first outputs are Mix64(golden), Mix64(2*golden), ...
	// (reference values of the published generator).
	tests := []struct {
		in   uint64
		want uint64
	}{
		{golden, 0xE220A8397B1DCDAF},
		{0x3C6EF372FE94F82A, 0x6E789E6AA1B965F4},
		{0xDAA66D2C7DDF743F, 0x06C45D188009454F},
	}
	for _, tc := range tests {
		if got := Mix64(tc.in); got != tc.want {
			t.Errorf("Mix64(%#x) = %#x, want %#x", tc.in, got, tc.want)
		}
	}
}

func TestUniform(t *testing.T) {
	key := StreamKey(1, 2)
	var sum float64
	const n = 100000
	for i := uint64(0); i < n; i++ {
		u := Uniform(key, i)
		if u < 0 || u >= 1 {
			t.Fatalf("Uniform(%d) = %v outside [0, 1)", i, u)
		}
		sum += float64(u)
	}
	if mean := sum / n; mean < 0.49 || mean > 0.51 {
		t.Fatalf("mean of %d uniforms = %v", n, mean)
	}
	if StreamKey(1, 2) == StreamKey(1, 3) || StreamKey(1, 2) == StreamKey(2, 2) {
		t.Fatal("stream keys collide")
	}
	if DropoutUniform(1, 2, 5) != Uniform(key, 5) {
		t.Fatal("DropoutUniform disagrees with Uniform(StreamKey)")
	}
}
