package flow

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortInt32 compares sortInt32 (insertion and radix paths) with slices.Sort on series of
// every length up to 300 drawn from several value ranges, negative values and extremes included.
func TestSortInt32(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, tc := range []struct {
		name string
		gen  func() int32
	}{
		{"sizes", func() int32 { return int32(40 + rng.IntN(1460)) }},
		{"equal", func() int32 { return 52 }},
		{"iat", func() int32 { return int32(rng.IntN(1 << uint(rng.IntN(31)))) }},
		{"any", func() int32 { return int32(rng.Uint32()) }},
		{"extremes", func() int32 { return []int32{math.MinInt32, -1, 0, 1, math.MaxInt32}[rng.IntN(5)] }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var tmp []int32
			for n := 0; n <= 300; n++ {
				x := make([]int32, n)
				for i := range x {
					x[i] = tc.gen()
				}
				want := slices.Clone(x)
				slices.Sort(want)
				sortInt32(x, &tmp)
				if !slices.Equal(x, want) {
					t.Fatalf("n=%d: got %v, want %v", n, x, want)
				}
			}
		})
	}
}

// BenchmarkSortInt32 measures sortInt32 on series shaped like a flow's packet sizes and
// inter-arrival times (µs), at the lengths flows have.
func BenchmarkSortInt32(b *testing.B) {
	for _, kind := range []string{"size", "iat"} {
		for _, n := range []int{24, 48, 96} {
			rng := rand.New(rand.NewPCG(1, 2))
			src := make([]int32, n*1000)
			for i := range src {
				if kind == "size" {
					src[i] = int32(40 + rng.IntN(1460))
				} else {
					src[i] = int32(rng.IntN(20) * (1 + rng.IntN(512)))
				}
			}
			buf := make([]int32, n)
			var tmp []int32
			b.Run(fmt.Sprintf("%s/%d", kind, n), func(b *testing.B) {
				k := 0
				for b.Loop() {
					copy(buf, src[k*n:(k+1)*n])
					sortInt32(buf, &tmp)
					k = (k + 1) % 1000
				}
			})
		}
	}
}

// TestQuartilesOf compares quartilesOf (partial bucket sort) and quartiles2 (two sorted halves
// of the series, split at random) with the quartiles of the fully sorted series, on series of
// every length up to 300 from several value ranges.
func TestQuartilesOf(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var sc scratch
	for _, tc := range []struct {
		name string
		gen  func() int32
	}{
		{"sizes", func() int32 { return int32(40 + rng.IntN(1460)) }},
		{"few sizes", func() int32 { return []int32{52, 52, 52, 1500, 1500, 90}[rng.IntN(6)] }},
		{"equal", func() int32 { return 7 }},
		{"iat", func() int32 { return int32(rng.IntN(1 << uint(rng.IntN(31)))) }},
		{"small", func() int32 { return int32(rng.IntN(200)) }},
		{"any", func() int32 { return int32(rng.Uint32()) }},
		{"extremes", func() int32 { return []int32{math.MinInt32, -1, 0, 1, math.MaxInt32}[rng.IntN(5)] }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for n := 0; n <= 300; n++ {
				for range 3 {
					x := make([]int32, n)
					for i := range x {
						x[i] = tc.gen()
					}
					sorted := slices.Clone(x)
					slices.Sort(sorted)
					w25, w50, w75 := quartiles(sorted)
					cut := rng.IntN(n + 1)
					a, b := slices.Clone(x[:cut]), slices.Clone(x[cut:])
					slices.Sort(a)
					slices.Sort(b)
					h25, h50, h75 := quartiles2(a, b)
					if h25 != w25 || h50 != w50 || h75 != w75 {
						t.Fatalf("n=%d, halves %d+%d: quartiles2 %v %v %v, want %v %v %v", n, len(a), len(b), h25, h50, h75, w25, w50, w75)
					}
					g25, g50, g75 := sc.quartilesOf(x)
					if g25 != w25 || g50 != w50 || g75 != w75 {
						t.Fatalf("n=%d: got %v %v %v, want %v %v %v", n, g25, g50, g75, w25, w50, w75)
					}
				}
			}
		})
	}
}

// TestSortNet checks the sorting networks against slices.Sort on every length up to
// sortNetMax, with values from narrow ranges (many duplicates), packet-size ranges and the
// whole int32 range (MinInt32 and MaxInt32 included: MaxInt32 is also the padding value).
func TestSortNet(t *testing.T) {
	if !sortNet([]int32{2, 1}) {
		t.Skip("no sorting networks on this CPU or build")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	gens := []func() int32{
		func() int32 { return int32(rng.IntN(3)) },
		func() int32 { return int32(rng.IntN(3001)) - 1500 },
		func() int32 { return int32(rng.Uint32()) },
		func() int32 { return []int32{math.MinInt32, math.MaxInt32, 0, -1}[rng.IntN(4)] },
	}
	for n := 0; n <= sortNetMax; n++ {
		for trial := range 50 {
			gen := gens[trial%len(gens)]
			x := make([]int32, n, n+16)
			for i := range x {
				x[i] = gen()
			}
			// Sentinels past the end must survive.
			guard := x[:n+16][n:]
			for i := range guard {
				guard[i] = int32(7 + i)
			}
			want := slices.Clone(x)
			slices.Sort(want)
			if !sortNet(x) {
				t.Fatalf("n=%d: sortNet declined", n)
			}
			if !slices.Equal(x, want) {
				t.Fatalf("n=%d trial %d:\n got %v\nwant %v", n, trial, x, want)
			}
			for i, g := range guard {
				if g != int32(7+i) {
					t.Fatalf("n=%d: wrote past the end", n)
				}
			}
		}
	}
	if sortNet(make([]int32, sortNetMax+1)) {
		t.Errorf("sortNet took %d values", sortNetMax+1)
	}
}
