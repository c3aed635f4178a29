package redstuff

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"testing"

	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/merkle"
	"github.com/walrus-go/walrus/internal/testvec"
)

type blobCase struct {
	ID              string `json:"id"`
	N               int    `json:"n_shards"`
	F               int    `json:"f"`
	Rows            int    `json:"n_primary_source_symbols"`
	Columns         int    `json:"n_secondary_source_symbols"`
	Length          uint64 `json:"unencoded_length"`
	BlobSHA         string `json:"blob_sha256"`
	Error           string `json:"error"`
	MaxBlobSize     uint64 `json:"max_blob_size"`
	SymbolSize      int    `json:"symbol_size"`
	PrimaryBytes    int    `json:"primary_sliver_bytes"`
	SecondaryBytes  int    `json:"secondary_sliver_bytes"`
	EncodedLength   uint64 `json:"encoded_length"`
	BlobIDText      string `json:"blob_id_base64url"`
	BlobIDHex       string `json:"blob_id_hex"`
	BlobIDDecimal   string `json:"blob_id_u256_decimal"`
	RootHex         string `json:"merkle_root_hex"`
	RootDecimal     string `json:"merkle_root_u256_decimal"`
	Rotation        int    `json:"rotation_offset"`
	PairHashesSHA   string `json:"pair_hashes_sha256"`
	PairHashes      []struct{ Primary, Secondary string }
	MetadataLen     int    `json:"metadata_bcs_len"`
	MetadataSHA     string `json:"metadata_bcs_sha256"`
	MetadataHex     string `json:"metadata_bcs_hex"`
	AllPrimarySHA   string `json:"all_primary_slivers_sha256"`
	AllSecondarySHA string `json:"all_secondary_slivers_sha256"`
	SliverPairs     []struct {
		Pair         int    `json:"pair"`
		Shard        int    `json:"shard"`
		PrimaryHex   string `json:"primary_hex"`
		SecondaryHex string `json:"secondary_hex"`
		PrimarySHA   string `json:"primary_sha256"`
		SecondarySHA string `json:"secondary_sha256"`
	} `json:"sliver_pairs"`
}

type blobVectors struct {
	Schema           string     `json:"schema"`
	Cases            []blobCase `json:"cases"`
	RecoveryExamples []struct {
		CaseID  string `json:"case_id"`
		N       int    `json:"n_shards"`
		Length  uint64 `json:"unencoded_length"`
		BlobID  string `json:"blob_id_base64url"`
		Symbols []struct {
			RootHex       string   `json:"proof_root_hex"`
			LeafIndex     int      `json:"proof_leaf_index"`
			TargetSliver  int      `json:"target_sliver_index"`
			SourceSliver  int      `json:"source_sliver_index"`
			Kind          string   `json:"kind"`
			SourcePair    int      `json:"source_pair"`
			TargetPair    int      `json:"target_pair"`
			SymbolID      string   `json:"symbol_id"`
			DecodingIndex int      `json:"decoding_symbol_index"`
			SymbolHex     string   `json:"symbol_hex"`
			ProofPath     []string `json:"proof_path"`
			RecoveryBCS   string   `json:"recovery_symbol_bcs_hex"`
			GeneralBCS    string   `json:"general_recovery_symbol_bcs_hex"`
		} `json:"symbols"`
		SliverBCS []struct {
			Pair   int    `json:"pair"`
			Axis   string `json:"axis"`
			Index  int    `json:"sliver_index"`
			BCSHex string `json:"bcs_hex"`
		} `json:"sliver_bcs_examples"`
		SliverRecovery []struct {
			Axis         string `json:"axis"`
			TargetPair   int    `json:"target_pair"`
			TargetSliver int    `json:"target_sliver_index"`
			Symbols      []struct {
				Index     int    `json:"index"`
				SymbolHex string `json:"symbol_hex"`
			} `json:"symbols"`
			RecoveredHex string `json:"recovered_sliver_hex"`
		} `json:"sliver_recovery"`
	} `json:"recovery_examples"`
	External []struct {
		N         *int              `json:"n_shards"`
		Input     string            `json:"input"`
		Published map[string]string `json:"published"`
	} `json:"external_crosscheck"`
}

func loadBlobVectors(t testing.TB) *blobVectors {
	var v blobVectors
	if err := json.Unmarshal(testvec.Read(t, "walrus-blobs/vectors.json"), &v); err != nil {
		t.Fatal(err)
	}
	if v.Schema != "walrus-blob-vectors/1" || len(v.Cases) == 0 {
		t.Fatalf("unexpected vector file: schema %q with %d cases", v.Schema, len(v.Cases))
	}
	return &v
}

func vectorBlob(n int, length uint64) []byte {
	return testvec.SplitMix64(uint64(n)<<32|length, int(length))
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVectorsBlobs(t *testing.T) {
	v := loadBlobVectors(t)
	for _, tc := range v.Cases {
		t.Run(tc.ID, func(t *testing.T) {
			if testing.Short() && tc.Length > 1<<20 {
				t.Skip("large case in -short mode")
			}
			if testvec.Race && tc.N >= 1000 && tc.Length > 2 {
				t.Skip("n=1000 cases run in the non-race vector pass of make check")
			}
			c, err := NewConfig(tc.N)
			if err != nil {
				t.Fatal(err)
			}
			if c.MaxFaulty() != tc.F || c.SourceSymbols(Primary) != tc.Rows || c.SourceSymbols(Secondary) != tc.Columns {
				t.Fatalf("parameters f=%d R=%d C=%d, want %d %d %d", c.MaxFaulty(), c.SourceSymbols(Primary), c.SourceSymbols(Secondary), tc.F, tc.Rows, tc.Columns)
			}
			if c.MaxBlobSize() != tc.MaxBlobSize {
				t.Fatalf("max blob size %d, want %d", c.MaxBlobSize(), tc.MaxBlobSize)
			}
			blob := vectorBlob(tc.N, tc.Length)
			if sha(blob) != tc.BlobSHA {
				t.Fatalf("regenerated blob does not match blob_sha256")
			}
			if tc.Error != "" {
				if tc.Error != "DataTooLarge" {
					t.Fatalf("unknown expected error %q", tc.Error)
				}
				if _, err := c.Encode(blob); !errors.Is(err, ErrDataTooLarge) {
					t.Fatalf("Encode: err = %v, want ErrDataTooLarge", err)
				}
				if _, err := c.EncodedLength(tc.Length); !errors.Is(err, ErrDataTooLarge) {
					t.Fatalf("EncodedLength: err = %v, want ErrDataTooLarge", err)
				}
				return
			}
			sym, _ := c.SymbolSize(tc.Length)
			if sym != tc.SymbolSize || c.SliverSize(Primary, sym) != tc.PrimaryBytes || c.SliverSize(Secondary, sym) != tc.SecondaryBytes {
				t.Fatalf("symbol size %d, sliver sizes %d/%d; want %d, %d/%d", sym, c.SliverSize(Primary, sym), c.SliverSize(Secondary, sym), tc.SymbolSize, tc.PrimaryBytes, tc.SecondaryBytes)
			}
			if el, _ := c.WalrusEncodedLength(tc.Length); el != tc.EncodedLength {
				t.Fatalf("encoded length %d, want %d", el, tc.EncodedLength)
			}
			enc, err := c.Encode(blob)
			if err != nil {
				t.Fatal(err)
			}
			m := enc.Metadata
			checkMetadata(t, c, tc, m)
			var allP, allS bytes.Buffer
			for p, pair := range enc.Pairs {
				allP.Write(pair.Primary.Data)
				allS.Write(pair.Secondary.Data)
				if p >= len(tc.SliverPairs) {
					continue
				}
				want := tc.SliverPairs[p]
				if want.Pair != p || m.BlobID.PairShard(p, tc.N) != want.Shard || m.BlobID.ShardPair(want.Shard, tc.N) != p {
					t.Fatalf("pair %d: shard %d, want %d", p, m.BlobID.PairShard(p, tc.N), want.Shard)
				}
				if want.PrimaryHex != "" {
					if hex.EncodeToString(pair.Primary.Data) != want.PrimaryHex || hex.EncodeToString(pair.Secondary.Data) != want.SecondaryHex {
						t.Fatalf("pair %d slivers differ", p)
					}
				} else if sha(pair.Primary.Data) != want.PrimarySHA || sha(pair.Secondary.Data) != want.SecondarySHA {
					t.Fatalf("pair %d sliver hashes differ", p)
				}
			}
			if sha(allP.Bytes()) != tc.AllPrimarySHA || sha(allS.Bytes()) != tc.AllSecondarySHA {
				t.Fatalf("joined slivers differ")
			}
			// Every sliver verifies against the metadata (spot-check large n).
			step := max(1, tc.N/13)
			for p := 0; p < tc.N; p += step {
				if err := c.VerifySliver(m, &enc.Pairs[p].Primary); err != nil {
					t.Fatal(err)
				}
				if err := c.VerifySliver(m, &enc.Pairs[p].Secondary); err != nil {
					t.Fatal(err)
				}
			}
			if md, err := c.ComputeMetadata(blob); err != nil || md.BlobID != m.BlobID {
				t.Fatalf("ComputeMetadata differs from Encode: %v", err)
			}
		})
	}
}

func checkMetadata(t *testing.T, c *Config, tc blobCase, m *Metadata) {
	t.Helper()
	if m.BlobID.String() != tc.BlobIDText || m.BlobID.Hex() != tc.BlobIDHex || m.BlobID.U256().String() != tc.BlobIDDecimal {
		t.Fatalf("blob ID %s, want %s", m.BlobID, tc.BlobIDText)
	}
	root := m.Root()
	if hex.EncodeToString(root[:]) != tc.RootHex || RootU256(root).String() != tc.RootDecimal {
		t.Fatalf("root %x, want %s", root, tc.RootHex)
	}
	if m.BlobID.RotationOffset(tc.N) != tc.Rotation {
		t.Fatalf("rotation %d, want %d", m.BlobID.RotationOffset(tc.N), tc.Rotation)
	}
	var ph bytes.Buffer
	for i, h := range m.Hashes {
		ph.Write(h.Primary[:])
		ph.Write(h.Secondary[:])
		if i < len(tc.PairHashes) {
			if h.Primary.String() != tc.PairHashes[i].Primary || h.Secondary.String() != tc.PairHashes[i].Secondary {
				t.Fatalf("pair %d hashes differ", i)
			}
		}
	}
	if sha(ph.Bytes()) != tc.PairHashesSHA {
		t.Fatalf("pair hashes differ")
	}
	b := m.Bytes()
	if len(b) != tc.MetadataLen || sha(b) != tc.MetadataSHA || (tc.MetadataHex != "" && hex.EncodeToString(b) != tc.MetadataHex) {
		t.Fatalf("metadata BCS differs (%d bytes, want %d)", len(b), tc.MetadataLen)
	}
	back, err := DecodeMetadata(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.VerifyMetadata(back); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.Bytes(), b) {
		t.Fatal("metadata does not round-trip")
	}
	id, err := ParseBlobID(tc.BlobIDText)
	if err != nil || id != m.BlobID {
		t.Fatalf("ParseBlobID: %v", err)
	}
	if id2, err := BlobIDFromU256(tc.BlobIDDecimal); err != nil || id2 != m.BlobID {
		t.Fatalf("BlobIDFromU256: %v", err)
	}
}

func TestVectorsExternal(t *testing.T) {
	v := loadBlobVectors(t)
	for i, x := range v.External {
		t.Run(strconv.Itoa(i)+"-"+x.Input, func(t *testing.T) {
			if testvec.Race && x.N != nil && *x.N >= 1000 && i > 2 {
				t.Skip("n=1000 cases run in the non-race vector pass of make check")
			}
			if x.N == nil {
				dec := x.Input[len("u256 "):]
				id, err := BlobIDFromU256(dec)
				if err != nil || id.String() != x.Published["blob_id_base64url"] {
					t.Fatalf("u256 %s -> %s, want %s (%v)", dec, id, x.Published["blob_id_base64url"], err)
				}
				return
			}
			blob := externalInput(t, x.Input)
			c, err := NewConfig(*x.N)
			if err != nil {
				t.Fatal(err)
			}
			m, err := c.ComputeMetadata(blob)
			if err != nil {
				t.Fatal(err)
			}
			if want, ok := x.Published["blob_id_base64url"]; ok && m.BlobID.String() != want {
				t.Fatalf("blob ID %s, want %s", m.BlobID, want)
			}
			if want, ok := x.Published["blob_id_hex"]; ok && m.BlobID.Hex() != want {
				t.Fatalf("blob ID %s, want %s", m.BlobID.Hex(), want)
			}
		})
	}
}

// externalInput builds the inputs named in external_crosscheck: "ascii:TEXT", "empty",
// "ts(L,k)" (byte i = (i+k) mod 256), "zeros(L)", "ff(L)", "bytes[42]" and "bytes[0..9]".
func externalInput(t *testing.T, in string) []byte {
	var l, k int
	switch {
	case len(in) > 6 && in[:6] == "ascii:":
		return []byte(in[6:])
	case in == "empty":
		return nil
	case in == "bytes[42]":
		return []byte{42}
	case in == "bytes[0..9]":
		return []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	}
	if n, _ := sscanf(in, "ts(%d,%d)", &l, &k); n == 2 {
		b := make([]byte, l)
		for i := range b {
			b[i] = byte(i + k)
		}
		return b
	}
	if n, _ := sscanf(in, "zeros(%d)", &l); n == 1 {
		return make([]byte, l)
	}
	if n, _ := sscanf(in, "ff(%d)", &l); n == 1 {
		return bytes.Repeat([]byte{0xff}, l)
	}
	t.Fatalf("unknown external input %q", in)
	return nil
}

func TestVectorsRecovery(t *testing.T) {
	v := loadBlobVectors(t)
	for _, ex := range v.RecoveryExamples {
		t.Run(ex.CaseID, func(t *testing.T) {
			c, _ := NewConfig(ex.N)
			enc, err := c.Encode(vectorBlob(ex.N, ex.Length))
			if err != nil {
				t.Fatal(err)
			}
			m := enc.Metadata
			if m.BlobID.String() != ex.BlobID {
				t.Fatalf("blob ID %s, want %s", m.BlobID, ex.BlobID)
			}
			for _, s := range ex.Symbols {
				var src *Sliver
				var want Axis
				if s.Kind[:7] == "primary" {
					src, want = &enc.Pairs[s.SourcePair].Secondary, Primary
				} else {
					src, want = &enc.Pairs[s.SourcePair].Primary, Secondary
				}
				if src.Index != s.SourceSliver || s.DecodingIndex != s.SourceSliver {
					t.Fatalf("source sliver %d, want %d", src.Index, s.SourceSliver)
				}
				x, err := c.Expand(m, src)
				if err != nil {
					t.Fatal(err)
				}
				sym, err := x.RecoverySymbol(s.TargetSliver)
				if err != nil {
					t.Fatal(err)
				}
				if sym.Axis != want || hex.EncodeToString(sym.Data) != s.SymbolHex || sym.ID() != s.SymbolID {
					t.Fatalf("symbol %s differs", s.SymbolID)
				}
				if x.Root().String() != s.RootHex {
					t.Fatalf("source root differs")
				}
				if len(sym.Proof.Path) != len(s.ProofPath) {
					t.Fatalf("proof length %d, want %d", len(sym.Proof.Path), len(s.ProofPath))
				}
				for i, node := range sym.Proof.Path {
					if (node.IsEmpty() && s.ProofPath[i] != "empty") || (!node.IsEmpty() && node.Value().String() != s.ProofPath[i]) {
						t.Fatalf("proof node %d = %s, want %s", i, node, s.ProofPath[i])
					}
				}
				if got := hex.EncodeToString(sym.RecoveryBytes()); got != s.RecoveryBCS {
					t.Fatalf("RecoverySymbol BCS\n got %s\nwant %s", got, s.RecoveryBCS)
				}
				if got := hex.EncodeToString(sym.Bytes()); got != s.GeneralBCS {
					t.Fatalf("GeneralRecoverySymbol BCS\n got %s\nwant %s", got, s.GeneralBCS)
				}
				back, err := DecodeRecoverySymbol(bcs.NewDecoder(mustHex(t, s.GeneralBCS)), MaxSymbolSize)
				if err != nil {
					t.Fatal(err)
				}
				if err := c.VerifyRecoverySymbol(m, &back); err != nil {
					t.Fatal(err)
				}
			}
			for _, sb := range ex.SliverBCS {
				axis, _ := ParseAxis(sb.Axis)
				var s *Sliver
				if axis == Primary {
					s = &enc.Pairs[sb.Pair].Primary
				} else {
					s = &enc.Pairs[sb.Pair].Secondary
				}
				if s.Index != sb.Index || hex.EncodeToString(s.Bytes()) != sb.BCSHex {
					t.Fatalf("sliver BCS of pair %d %s differs", sb.Pair, axis)
				}
				back, err := DecodeSliver(mustHex(t, sb.BCSHex), axis, 1<<20)
				if err != nil || !bytes.Equal(back.Data, s.Data) || back.Index != s.Index {
					t.Fatalf("sliver BCS does not decode back: %v", err)
				}
			}
			for _, sr := range ex.SliverRecovery {
				axis, _ := ParseAxis(sr.Axis)
				var syms []RecoverySymbol
				for _, s := range sr.Symbols {
					// Rebuild the proofs from the encoding: the example lists data only.
					src := &enc.Pairs[c.n-1-s.Index].Secondary
					if axis == Secondary {
						src = &enc.Pairs[s.Index].Primary
					}
					x, _ := c.Expand(m, src)
					sym, _ := x.RecoverySymbol(sr.TargetSliver)
					if hex.EncodeToString(sym.Data) != s.SymbolHex {
						t.Fatalf("symbol from sliver %d differs", s.Index)
					}
					syms = append(syms, sym)
				}
				got, err := c.RecoverSliver(m, axis, sr.TargetSliver, syms)
				if err != nil {
					t.Fatal(err)
				}
				if hex.EncodeToString(got.Data) != sr.RecoveredHex {
					t.Fatalf("recovered %s sliver %d differs", axis, sr.TargetSliver)
				}
			}
		})
	}
}

var _ = merkle.Empty
