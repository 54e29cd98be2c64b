package statistics

import "encoding/binary"

// FNV-1a 64-bit parameters.
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

// golden64 is SplitMix64's increment, 2⁶⁴/φ.
const golden64 = 0x9E3779B97F4A7C15

// Seed derives a stable 64-bit seed from a base seed and identity parts,
// e.g. Seed(runSeed, experiment, basis, period, window, segment, metric,
// branch, statistic).
//
// Definition (stable across runs, platforms and Go versions):
//
//	h = FNV-1a-64( le64(base) ‖ le64(len(p₁)) ‖ p₁ ‖ … ‖ le64(len(p_m)) ‖ p_m )
//	Seed = mix64(h)
//
// where le64 is the 8-byte little-endian encoding (the length prefixes make
// the encoding unambiguous: ("ab","c") ≠ ("a","bc")) and mix64 is the
// SplitMix64 finalizer
//
//	z = (z ⊕ z≫30)·0xBF58476D1CE4E5B9
//	z = (z ⊕ z≫27)·0x94D049BB133111EB
//	z ⊕ z≫31
func Seed(base uint64, parts ...string) uint64 {
	h := uint64(fnvOffset64)
	var buf [8]byte
	write := func(b []byte) {
		for _, c := range b {
			h ^= uint64(c)
			h *= fnvPrime64
		}
	}
	binary.LittleEndian.PutUint64(buf[:], base)
	write(buf[:])
	for _, p := range parts {
		binary.LittleEndian.PutUint64(buf[:], uint64(len(p)))
		write(buf[:])
		for i := 0; i < len(p); i++ {
			h ^= uint64(p[i])
			h *= fnvPrime64
		}
	}
	return mix64(h)
}

// mix64 is the SplitMix64 output function (Stafford's Mix13 variant).
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// splitmix64 advances a SplitMix64 state and returns its next output:
// state += 0x9E3779B97F4A7C15; return mix64(state).
func splitmix64(state *uint64) uint64 {
	*state += golden64
	return mix64(*state)
}

// blockSeed is the seed of replicate block j of a statistic seeded with
// seed: the (j+1)-th output of SplitMix64 started at state seed,
//
//	blockSeed(seed, j) = mix64(seed + (j+1)·0x9E3779B97F4A7C15).
func blockSeed(seed uint64, j int) uint64 {
	return mix64(seed + uint64(j+1)*golden64)
}
