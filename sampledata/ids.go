package sampledata

import "hash/crc32"

// uuidString formats 128 bits as a version-4, RFC 9562-variant UUID string
// (xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx).
func uuidString(hi, lo uint64) string {
	hi = hi&^0xf000 | 0x4000     // version 4
	lo = lo&^(0xc<<60) | 0x8<<60 // variant 10xx
	const hexDigits = "0123456789abcdef"
	var b [36]byte
	pos := 0
	put := func(v uint64, nibbles int) {
		for i := nibbles - 1; i >= 0; i-- {
			b[pos] = hexDigits[(v>>(4*uint(i)))&0xf]
			pos++
		}
	}
	put(hi>>32, 8)
	b[pos] = '-'
	pos++
	put(hi>>16, 4)
	b[pos] = '-'
	pos++
	put(hi, 4)
	b[pos] = '-'
	pos++
	put(lo>>48, 4)
	b[pos] = '-'
	pos++
	put(lo, 12)
	return string(b[:])
}

// ClientID returns the client_id of client index under seed: a UUID-formatted string that
// depends only on (seed, index).
func ClientID(seed uint64, index int) string {
	return uuidString(mix(seed, uint64(index), tagClientHi), mix(seed, uint64(index), tagClientLo))
}

// ProfileGroupID returns the profile_group_id of client index under seed (one profile group
// per client).
func ProfileGroupID(seed uint64, index int) string {
	return uuidString(mix(seed, uint64(index), tagGroupHi), mix(seed, uint64(index), tagGroupLo))
}

// SampleID returns the sample_id of a client id: crc32 (IEEE) of the id modulo 100, like
// Mozilla's telemetry pipeline.
func SampleID(clientID string) int32 {
	return int32(crc32.ChecksumIEEE([]byte(clientID)) % 100)
}
