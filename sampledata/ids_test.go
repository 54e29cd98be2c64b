package sampledata

import (
	"hash/crc32"
	"regexp"
	"testing"
)

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestIDs(t *testing.T) {
	tests := []struct {
		seed   uint64
		index  int
		client string
		group  string
		sample int32
	}{
		{1, 0, "db538f85-fe40-4082-bd32-13b27857bfc1", "22c738ac-89b3-4dae-8833-e6bb59b2c0ef", 54},
		{2, 12345, "5edf1314-d7ad-44c6-bb5a-5dcfcf4cb651", "a478b513-c117-4d6c-ab0c-600f21690049", 7},
	}
	for _, tt := range tests {
		if got := ClientID(tt.seed, tt.index); got != tt.client {
			t.Errorf("ClientID(%d, %d) = %s, want %s", tt.seed, tt.index, got, tt.client)
		}
		if got := ProfileGroupID(tt.seed, tt.index); got != tt.group {
			t.Errorf("ProfileGroupID(%d, %d) = %s, want %s", tt.seed, tt.index, got, tt.group)
		}
		if got := SampleID(tt.client); got != tt.sample {
			t.Errorf("SampleID(%s) = %d, want %d", tt.client, got, tt.sample)
		}
	}
}

func TestIDsAreUUIDsAndDistinct(t *testing.T) {
	seen := map[string]bool{}
	samples := make([]int, 100)
	const n = 20_000
	for i := range n {
		for _, id := range []string{ClientID(9, i), ProfileGroupID(9, i)} {
			if !uuidV4.MatchString(id) {
				t.Fatalf("%q is not a version-4 UUID", id)
			}
			if seen[id] {
				t.Fatalf("id %s repeated", id)
			}
			seen[id] = true
		}
		s := SampleID(ClientID(9, i))
		if want := int32(crc32.ChecksumIEEE([]byte(ClientID(9, i))) % 100); s != want {
			t.Fatalf("SampleID = %d, want %d", s, want)
		}
		samples[s]++
	}
	// sample_id is roughly uniform: each bucket holds 200 ± 14 clients; allow 5 SD.
	for s, c := range samples {
		if c < 130 || c > 270 {
			t.Errorf("sample_id %d holds %d of %d clients", s, c, n)
		}
	}
}
