package flow

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// TestFlowMap checks flowMap against a Go map under random puts and removes, with hashes
// from the real hash function and with hashes forced into a few home slots (long probe runs
// that wrap around the slot array, so that backward-shift deletion is exercised).
func TestFlowMap(t *testing.T) {
	for _, tc := range []struct {
		name    string
		collide uint64 // 0: real hashes; else hashes are h % collide
	}{{"hashed", 0}, {"colliding", 3}, {"wrapping", 1}} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			m := newFlowMap(4)
			want := map[flowKey]*flow{}
			var keys []flowKey
			hashOf := func(k *flowKey) uint64 {
				h := m.hash(k)
				if tc.collide != 0 {
					h = h%tc.collide + m.mask - 1 // home slots at the end: runs wrap to 0
				}
				return h
			}
			for op := range 20000 {
				if len(keys) > 0 && rng.IntN(3) == 0 {
					i := rng.IntN(len(keys))
					k := keys[i]
					f := want[k]
					m.remove(f, f.hash)
					delete(want, k)
					keys[i] = keys[len(keys)-1]
					keys = keys[:len(keys)-1]
				} else if len(keys) < 300 {
					var k flowKey
					k.a[0], k.a[1] = byte(rng.IntN(256)), byte(rng.IntN(256))
					k.pa, k.pb, k.proto = uint16(rng.IntN(65536)), 443, ProtoTCP
					if want[k] != nil {
						continue
					}
					f := &flow{key: k}
					f.hash = hashOf(&k)
					m.put(f, f.hash)
					want[k] = f
					keys = append(keys, k)
				}
				if op%97 == 0 || op > 19900 {
					if m.len() != len(want) {
						t.Fatalf("op %d: len %d, want %d", op, m.len(), len(want))
					}
					for k, f := range want {
						if got := m.get(&k, f.hash); got != f {
							t.Fatalf("op %d: get %v = %p, want %p", op, k, got, f)
						}
					}
					var absent flowKey
					absent.pa = 7
					if m.get(&absent, hashOf(&absent)) != nil {
						t.Fatalf("op %d: absent key found", op)
					}
				}
			}
		})
	}
}

// TestEndpointLE checks the word-wise endpoint order of the flow table against cmpEndpoint on
// random endpoints that share prefixes of every length, and keyWords against flowKey.
func TestEndpointLE(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 100000 {
		var a, b [16]byte
		for i := range a {
			a[i] = byte(rng.IntN(4))
		}
		b = a
		for i := rng.IntN(17); i < 16; i++ {
			b[i] = byte(rng.IntN(4))
		}
		pa, pb := uint16(rng.IntN(3)), uint16(rng.IntN(3))
		le := func(x *[16]byte) (uint64, uint64) {
			return binary.LittleEndian.Uint64(x[:8]), binary.LittleEndian.Uint64(x[8:])
		}
		a0, a1 := le(&a)
		b0, b1 := le(&b)
		if got, want := endpointLE(a0, a1, pa, b0, b1, pb), cmpEndpoint(&a, pa, &b, pb) <= 0; got != want {
			t.Fatalf("%x:%d vs %x:%d: endpointLE %v, cmpEndpoint <= 0 %v", a, pa, b, pb, got, want)
		}
		w := keyWords{a0, a1, b0, b1, uint64(pa) | uint64(pb)<<16 | uint64(ProtoUDP)<<32}
		want := flowKey{a: a, b: b, pa: pa, pb: pb, proto: ProtoUDP}
		if k := keyOf(w.a0, w.a1, w.b0, w.b1, w.x); k != want || wordsOf(&want) != w {
			t.Fatalf("key() gives %+v, want %+v", k, want)
		}
	}
}
