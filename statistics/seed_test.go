package statistics

import (
	"encoding/binary"
	"hash/fnv"
	"testing"
)

func TestSplitMix64(t *testing.T) {
	// Reference outputs of SplitMix64 started at state 0 (Vigna's splitmix64.c).
	want := []uint64{0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F}
	var s uint64
	for i, w := range want {
		if got := splitmix64(&s); got != w {
			t.Errorf("splitmix64 output %d = %#x, want %#x", i, got, w)
		}
	}
	for j := range 3 {
		s := uint64(99)
		for range j + 1 {
			splitmix64(&s)
		}
		if got := blockSeed(99, j); got != mix64(s) {
			t.Errorf("blockSeed(99, %d) = %#x, want the %d-th SplitMix64 output %#x", j, got, j+1, mix64(s))
		}
	}
}

func TestSeed(t *testing.T) {
	// Independent definition with hash/fnv.
	ref := func(base uint64, parts ...string) uint64 {
		h := fnv.New64a()
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], base)
		h.Write(b[:])
		for _, p := range parts {
			binary.LittleEndian.PutUint64(b[:], uint64(len(p)))
			h.Write(b[:])
			h.Write([]byte(p))
		}
		return mix64(h.Sum64())
	}
	tests := []struct {
		base  uint64
		parts []string
		want  uint64 // pinned: the definition must never change
	}{
		{0, nil, 9313164154874788883},
		{42, []string{"exp", "all", "active_hours", "control", "bootstrap_mean"}, 2993143012794110492},
		{1, []string{"ab", "c"}, 6899690122680467729},
		{1, []string{"a", "bc"}, 14193834343682772644},
	}
	for _, tc := range tests {
		got := Seed(tc.base, tc.parts...)
		if got != tc.want || got != ref(tc.base, tc.parts...) {
			t.Errorf("Seed(%d, %q) = %d, want %d (hash/fnv: %d)", tc.base, tc.parts, got, tc.want, ref(tc.base, tc.parts...))
		}
	}
	distinct := map[uint64]string{}
	for _, c := range []struct {
		name string
		s    uint64
	}{
		{"base 1", Seed(1)}, {"base 2", Seed(2)}, {"empty part", Seed(1, "")},
		{"two empty parts", Seed(1, "", "")}, {"a", Seed(1, "a")}, {"a,b", Seed(1, "a", "b")}, {"b,a", Seed(1, "b", "a")},
	} {
		if prev, dup := distinct[c.s]; dup {
			t.Errorf("Seed collision between %s and %s", prev, c.name)
		}
		distinct[c.s] = c.name
	}
}
