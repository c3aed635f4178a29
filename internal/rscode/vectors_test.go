package rscode

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/walrus-go/walrus/internal/testvec"
)

type rsVectors struct {
	Schema string `json:"schema"`
	Encode []struct {
		ID            string   `json:"id"`
		K             int      `json:"original_count"`
		M             int      `json:"recovery_count"`
		S             int      `json:"shard_bytes"`
		Rate          string   `json:"rate"`
		OrigSHA       string   `json:"originals_sha256"`
		OrigHex       []string `json:"originals_hex"`
		RecSHA        string   `json:"recovery_sha256"`
		RecHex        []string `json:"recovery_hex"`
		RecShardSHA   []string `json:"recovery_shard_sha256"`
		WrongHighRate string   `json:"wrong_high_rate_recovery_sha256"`
	} `json:"encode"`
	Decode []struct {
		ID       string `json:"id"`
		EncodeID string `json:"encode_id"`
		K        int    `json:"original_count"`
		M        int    `json:"recovery_count"`
		S        int    `json:"shard_bytes"`
		Present  []int  `json:"present"`
	} `json:"decode"`
}

func loadRSVectors(t *testing.T) *rsVectors {
	var v rsVectors
	if err := json.Unmarshal(testvec.Read(t, "rs2/vectors.json"), &v); err != nil {
		t.Fatal(err)
	}
	if v.Schema != "rs2-rs-vectors/1" || len(v.Encode) == 0 || len(v.Decode) == 0 {
		t.Fatalf("unexpected vector file: schema %q, %d encode, %d decode", v.Schema, len(v.Encode), len(v.Decode))
	}
	return &v
}

// vectorOriginals regenerates the deterministic original shards of an RS2 vector case.
func vectorOriginals(k, m, s int) [][]byte {
	seed := uint64(k)<<40 | uint64(m)<<20 | uint64(s)
	all := testvec.SplitMix64(seed, k*s)
	out := make([][]byte, k)
	for i := range out {
		out[i] = all[i*s : (i+1)*s]
	}
	return out
}

func shaJoined(shards [][]byte) string {
	h := sha256.New()
	for _, s := range shards {
		h.Write(s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestVectorsEncode(t *testing.T) {
	v := loadRSVectors(t)
	for _, tc := range v.Encode {
		t.Run(tc.ID, func(t *testing.T) {
			orig := vectorOriginals(tc.K, tc.M, tc.S)
			if got := shaJoined(orig); got != tc.OrigSHA {
				t.Fatalf("originals sha256 %s, want %s", got, tc.OrigSHA)
			}
			for i, h := range tc.OrigHex {
				if hex.EncodeToString(orig[i]) != h {
					t.Fatalf("original %d differs from originals_hex", i)
				}
			}
			c, err := New(tc.K, tc.M)
			if err != nil {
				t.Fatal(err)
			}
			if want := tc.Rate == "low"; c.LowRate() != want && nextPow2(tc.K) != nextPow2(tc.M) {
				t.Errorf("LowRate() = %v, crate used %s rate", c.LowRate(), tc.Rate)
			}
			rec := make([][]byte, tc.M)
			for j := range rec {
				rec[j] = make([]byte, tc.S)
			}
			if err := c.Encode(tc.S, orig, rec); err != nil {
				t.Fatal(err)
			}
			got := shaJoined(rec)
			if tc.WrongHighRate != "" && got == tc.WrongHighRate {
				t.Fatalf("recovery equals the high-rate code's output; the low-rate code is required")
			}
			for j, h := range tc.RecHex {
				if g := hex.EncodeToString(rec[j]); g != h {
					t.Fatalf("recovery %d = %s, want %s", j, g, h)
				}
			}
			for j, h := range tc.RecShardSHA {
				sum := sha256.Sum256(rec[j])
				if g := hex.EncodeToString(sum[:]); g != h {
					t.Fatalf("recovery %d sha256 = %s, want %s", j, g, h)
				}
			}
			if got != tc.RecSHA {
				t.Fatalf("recovery sha256 %s, want %s", got, tc.RecSHA)
			}
		})
	}
}

func TestVectorsDecode(t *testing.T) {
	v := loadRSVectors(t)
	for _, tc := range v.Decode {
		t.Run(tc.ID, func(t *testing.T) {
			c, err := New(tc.K, tc.M)
			if err != nil {
				t.Fatal(err)
			}
			orig := vectorOriginals(tc.K, tc.M, tc.S)
			rec := make([][]byte, tc.M)
			for j := range rec {
				rec[j] = make([]byte, tc.S)
			}
			if err := c.Encode(tc.S, orig, rec); err != nil {
				t.Fatal(err)
			}
			all := append(append([][]byte{}, orig...), rec...)
			shards := make([][]byte, tc.K+tc.M)
			for _, i := range tc.Present {
				shards[i] = bytes.Clone(all[i])
			}
			// One shard fewer than required must fail cleanly.
			short := make([][]byte, tc.K+tc.M)
			for _, i := range tc.Present[:tc.K-1] {
				short[i] = all[i]
			}
			if err := c.Reconstruct(tc.S, short); err == nil {
				t.Fatalf("decode from %d shards succeeded, want ErrTooFewShards", tc.K-1)
			}
			if err := c.ReconstructAll(tc.S, shards); err != nil {
				t.Fatal(err)
			}
			for i := range all {
				if !bytes.Equal(shards[i], all[i]) {
					t.Fatalf("shard %d not restored", i)
				}
			}
		})
	}
}
