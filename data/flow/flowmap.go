package flow

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
)

// flowMap maps 5-tuples to open flows: open addressing with linear probing and backward-shift
// deletion (no tombstones), slots holding the key's hash beside the flow pointer. It replaces a
// Go map[flowKey]*flow on the per-packet path: the hash is a few multiplications over the key's
// words instead of a hash of its 37 bytes, and a lookup touches one slot array and the flow
// itself (which the packet updates anyway). The seed is random per table, so that a crafted
// capture cannot aim at collisions; it changes nothing but slot positions.
type flowMap struct {
	slots []flowSlot // len is a power of two
	mask  uint64
	n     int
	seed  [3]uint64
}

type flowSlot struct {
	h uint64 // hash of f.key; meaningless when f is nil
	f *flow
}

func newFlowMap(capacity int) flowMap {
	size := 16
	for size < 2*capacity {
		size *= 2
	}
	return flowMap{slots: make([]flowSlot, size), mask: uint64(size - 1),
		seed: [3]uint64{rand.Uint64() | 1, rand.Uint64() | 1, rand.Uint64() | 1}}
}

// len returns the number of flows in the map.
func (m *flowMap) len() int { return m.n }

// keyWords is a flow key as five words: the addresses' 8-byte halves read little-endian, and
// the ports and protocol (pa | pb<<16 | proto<<32). The flow table computes them in registers
// from the decoded packet and hashes and compares them there, never reading back a key just
// written to memory (loads of freshly written narrower stores are not forwarded and stall).
type keyWords struct {
	a0, a1, b0, b1, x uint64
}

func wordsOf(k *flowKey) keyWords {
	return keyWords{binary.LittleEndian.Uint64(k.a[:8]), binary.LittleEndian.Uint64(k.a[8:]),
		binary.LittleEndian.Uint64(k.b[:8]), binary.LittleEndian.Uint64(k.b[8:]),
		uint64(k.pa) | uint64(k.pb)<<16 | uint64(k.proto)<<32}
}

// keyOf returns the flowKey of the given words.
func keyOf(a0, a1, b0, b1, x uint64) flowKey {
	var k flowKey
	binary.LittleEndian.PutUint64(k.a[:8], a0)
	binary.LittleEndian.PutUint64(k.a[8:], a1)
	binary.LittleEndian.PutUint64(k.b[:8], b0)
	binary.LittleEndian.PutUint64(k.b[8:], b1)
	k.pa, k.pb, k.proto = uint16(x), uint16(x>>16), uint8(x>>32)
	return k
}

// hash returns the hash of k.
func (m *flowMap) hash(k *flowKey) uint64 {
	w := wordsOf(k)
	return m.hashWords(w.a0, w.a1, w.b0, w.b1, w.x)
}

// hashWords returns the hash of the key whose words (see keyWords) are given. They are scalars
// so that they stay in registers (a struct of five words would go through memory).
func (m *flowMap) hashWords(a0, a1, b0, b1, x uint64) uint64 {
	h := mix(a0^m.seed[0], b0^m.seed[1]) ^ mix(a1^m.seed[2], b1^m.seed[0]) ^ mix(x^m.seed[1], m.seed[2])
	return mix(h, 0x9e3779b97f4a7c15)
}

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// get returns the flow of k (whose hash is h), or nil.
func (m *flowMap) get(k *flowKey, h uint64) *flow {
	w := wordsOf(k)
	return m.getWords(w.a0, w.a1, w.b0, w.b1, w.x, h)
}

// getWords returns the flow of the key whose words are given (whose hash is h), or nil.
func (m *flowMap) getWords(a0, a1, b0, b1, x, h uint64) *flow {
	for i := h & m.mask; ; i = (i + 1) & m.mask {
		s := &m.slots[i]
		if s.f == nil {
			return nil
		}
		if s.h == h {
			k := &s.f.key
			if binary.LittleEndian.Uint64(k.a[:8]) == a0 && binary.LittleEndian.Uint64(k.a[8:]) == a1 &&
				binary.LittleEndian.Uint64(k.b[:8]) == b0 && binary.LittleEndian.Uint64(k.b[8:]) == b1 &&
				uint64(k.pa)|uint64(k.pb)<<16|uint64(k.proto)<<32 == x {
				return s.f
			}
		}
	}
}

// put adds f, whose key (hash h) is not in the map.
func (m *flowMap) put(f *flow, h uint64) {
	if 2*(m.n+1) > len(m.slots) {
		m.grow()
	}
	i := h & m.mask
	for m.slots[i].f != nil {
		i = (i + 1) & m.mask
	}
	m.slots[i] = flowSlot{h: h, f: f}
	m.n++
}

func (m *flowMap) grow() {
	old := m.slots
	m.slots = make([]flowSlot, 2*len(old))
	m.mask = uint64(len(m.slots) - 1)
	for _, s := range old {
		if s.f == nil {
			continue
		}
		i := s.h & m.mask
		for m.slots[i].f != nil {
			i = (i + 1) & m.mask
		}
		m.slots[i] = s
	}
}

// remove deletes f (hash h) from the map; the slots after it move back so that every flow stays
// reachable from its home slot without tombstones.
func (m *flowMap) remove(f *flow, h uint64) {
	i := h & m.mask
	for m.slots[i].f != f {
		if m.slots[i].f == nil {
			return
		}
		i = (i + 1) & m.mask
	}
	for j := (i + 1) & m.mask; ; j = (j + 1) & m.mask {
		s := m.slots[j]
		if s.f == nil {
			break
		}
		// s may move to the hole at i when its home slot is not in the cyclic range (i, j].
		if home := s.h & m.mask; (j-home)&m.mask >= (j-i)&m.mask {
			m.slots[i] = s
			i = j
		}
	}
	m.slots[i] = flowSlot{}
	m.n--
}
