package merkle

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"testing"

	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/testvec"
)

// vectorsPath is the conformance file computed by Walrus's own Rust code, below the
// repository's testdata (see its README.md).
const vectorsPath = "walrus-blobs/vectors.json"

// vectors is the part of vectors.json these tests read.
type vectors struct {
	Schema         string `json:"schema"`
	MerkleExamples []struct {
		LeafCount int        `json:"leaf_count"`
		Leaves    []string   `json:"leaves_utf8"`
		RootHex   string     `json:"root_hex"`
		Proofs    [][]string `json:"proofs"` // hex digests or "empty", bottom up
	} `json:"merkle_examples"`
	RecoveryExamples []struct {
		CaseID  string `json:"case_id"`
		NShards int    `json:"n_shards"`
		Symbols []struct {
			Kind                   string   `json:"kind"`
			SymbolHex              string   `json:"symbol_hex"`
			ProofLeafIndex         int      `json:"proof_leaf_index"`
			ProofPath              []string `json:"proof_path"`
			ProofRootHex           string   `json:"proof_root_hex"`
			DecodingSymbolIndex    int      `json:"decoding_symbol_index"`
			TargetSliverIndex      int      `json:"target_sliver_index"`
			RecoverySymbolBCSHex   string   `json:"recovery_symbol_bcs_hex"`
			GeneralRecoverySymbolB string   `json:"general_recovery_symbol_bcs_hex"`
		} `json:"symbols"`
	} `json:"recovery_examples"`
	Cases []struct {
		ID              string `json:"id"`
		NShards         int    `json:"n_shards"`
		UnencodedLength uint64 `json:"unencoded_length"`
		BlobIDHex       string `json:"blob_id_hex"`
		MerkleRootHex   string `json:"merkle_root_hex"`
		PairHashes      []struct {
			Primary   string `json:"primary"`
			Secondary string `json:"secondary"`
		} `json:"pair_hashes"`
		MetadataBCSHex string `json:"metadata_bcs_hex"`
	} `json:"cases"`
}

func loadVectors(t *testing.T) *vectors {
	t.Helper()
	data := testvec.Read(t, vectorsPath)
	var v vectors
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("parse %s: %v", vectorsPath, err)
	}
	if v.Schema != "walrus-blob-vectors/1" {
		t.Fatalf("%s: schema %q, want walrus-blob-vectors/1", vectorsPath, v.Schema)
	}
	return &v
}

func mustNode(t *testing.T, s string) Node {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != Size {
		t.Fatalf("bad node hex %q", s)
	}
	return Node(b)
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q", s)
	}
	return b
}

// pathFromJSON converts a vector proof path; "empty" is the Empty variant.
func pathFromJSON(t *testing.T, path []string) Proof {
	t.Helper()
	p := Proof{Path: make([]PathNode, len(path))}
	for i, s := range path {
		if s != "empty" {
			p.Path[i] = DigestNode(mustNode(t, s))
		}
	}
	return p
}

func samePath(a, b Proof) bool {
	if len(a.Path) != len(b.Path) {
		return false
	}
	for i := range a.Path {
		if a.Path[i] != b.Path[i] {
			return false
		}
	}
	return true
}

// TestMerkleExamples checks the roots and every proof of Walrus's Merkle
// trees over the ASCII leaves of walrus-core's own tests.
func TestMerkleExamples(t *testing.T) {
	v := loadVectors(t)
	if len(v.MerkleExamples) == 0 {
		t.Fatal("no merkle_examples")
	}
	for _, ex := range v.MerkleExamples {
		if len(ex.Leaves) != ex.LeafCount || len(ex.Proofs) != ex.LeafCount {
			t.Fatalf("malformed example with leaf_count %d", ex.LeafCount)
		}
		want := mustNode(t, ex.RootHex)
		leaves := make([]Node, len(ex.Leaves))
		for i, l := range ex.Leaves {
			leaves[i] = LeafHash([]byte(l))
		}
		tree := New(leaves)
		if got := tree.Root(); got != want {
			t.Errorf("%d leaves: Tree.Root = %v, want %v", ex.LeafCount, got, want)
		}
		if got := Root(leaves); got != want {
			t.Errorf("%d leaves: Root = %v, want %v", ex.LeafCount, got, want)
		}
		inPlace := append([]Node(nil), leaves...)
		if got := RootInto(inPlace, inPlace); got != want {
			t.Errorf("%d leaves: RootInto in place = %v, want %v", ex.LeafCount, got, want)
		}
		for i, jp := range ex.Proofs {
			wantProof := pathFromJSON(t, jp)
			got, err := tree.Proof(i)
			if err != nil {
				t.Fatal(err)
			}
			if !samePath(got, wantProof) {
				t.Errorf("%d leaves, leaf %d: proof %v, want %v", ex.LeafCount, i, got.Path, wantProof.Path)
			}
			if err := wantProof.VerifyLeaf(want, []byte(ex.Leaves[i]), i, ex.LeafCount); err != nil {
				t.Errorf("%d leaves, leaf %d: Walrus's proof does not verify: %v", ex.LeafCount, i, err)
			}
			checkBCSRoundTrip(t, wantProof)
		}
	}
}

func checkBCSRoundTrip(t *testing.T, p Proof) {
	t.Helper()
	var e bcs.Encoder
	p.MarshalBCS(&e)
	d := bcs.NewDecoder(e.Out())
	got, err := DecodeProof(d, len(p.Path))
	if err != nil || d.Finish() != nil {
		t.Fatalf("decode %x: %v, %v", e.Out(), err, d.Err())
	}
	if !samePath(got, p) {
		t.Errorf("BCS round trip changed %v into %v", p.Path, got.Path)
	}
}

// TestRecoverySymbolProofs checks proofs made by Walrus for recovery
// symbols: they verify against the sliver hash, and their BCS inside
// RecoverySymbol and GeneralRecoverySymbol decodes and re-encodes exactly.
func TestRecoverySymbolProofs(t *testing.T) {
	v := loadVectors(t)
	count, empties := 0, 0
	for _, ex := range v.RecoveryExamples {
		for _, s := range ex.Symbols {
			count++
			symbol := mustHex(t, s.SymbolHex)
			want := pathFromJSON(t, s.ProofPath)
			for _, n := range want.Path {
				if n.IsEmpty() {
					empties++
				}
			}
			root := mustNode(t, s.ProofRootHex)
			if err := want.VerifyLeaf(root, symbol, s.ProofLeafIndex, ex.NShards); err != nil {
				t.Errorf("%s %s: %v", ex.CaseID, s.Kind, err)
			}
			if err := want.VerifyLeaf(root, append(symbol, 0), s.ProofLeafIndex, ex.NShards); !errors.Is(err, ErrInvalidProof) {
				t.Errorf("%s %s: proof verified a changed symbol (err %v)", ex.CaseID, s.Kind, err)
			}

			// RecoverySymbol = {index: u16, data: vector<u8>, proof}.
			in := mustHex(t, s.RecoverySymbolBCSHex)
			d := bcs.NewDecoder(in)
			index := d.U16()
			data := d.Bytes(1 << 16)
			proof, err := DecodeProof(d, Depth(ex.NShards))
			if err == nil {
				err = d.Finish()
			}
			if err != nil {
				t.Fatalf("%s %s: decode RecoverySymbol: %v", ex.CaseID, s.Kind, err)
			}
			if int(index) != s.DecodingSymbolIndex || !bytes.Equal(data, symbol) || !samePath(proof, want) {
				t.Errorf("%s %s: RecoverySymbol decoded as index %d, data %x, proof %v", ex.CaseID, s.Kind, index, data, proof.Path)
			}
			var e bcs.Encoder
			e.U16(index)
			e.Bytes(data)
			proof.MarshalBCS(&e)
			if !bytes.Equal(e.Out(), in) {
				t.Errorf("%s %s: RecoverySymbol re-encoded as %x, want %x", ex.CaseID, s.Kind, e.Out(), in)
			}

			// GeneralRecoverySymbol = {axis enum, index u16, data, target u16, proof}.
			in = mustHex(t, s.GeneralRecoverySymbolB)
			d = bcs.NewDecoder(in)
			axis := d.Variant(2)
			index = d.U16()
			data = d.Bytes(1 << 16)
			target := d.U16()
			proof, err = DecodeProof(d, Depth(ex.NShards))
			if err == nil {
				err = d.Finish()
			}
			if err != nil {
				t.Fatalf("%s %s: decode GeneralRecoverySymbol: %v", ex.CaseID, s.Kind, err)
			}
			if int(target) != s.TargetSliverIndex || !samePath(proof, want) {
				t.Errorf("%s %s: GeneralRecoverySymbol target %d, proof %v", ex.CaseID, s.Kind, target, proof.Path)
			}
			e.Reset()
			e.Variant(axis)
			e.U16(index)
			e.Bytes(data)
			e.U16(target)
			proof.MarshalBCS(&e)
			if !bytes.Equal(e.Out(), in) {
				t.Errorf("%s %s: GeneralRecoverySymbol re-encoded as %x, want %x", ex.CaseID, s.Kind, e.Out(), in)
			}
		}
	}
	if count == 0 || empties == 0 {
		t.Fatalf("checked %d recovery symbols with %d empty path nodes; want some of each", count, empties)
	}
}

// TestMetadataRoots decodes the BlobMetadataWithId of every case that
// carries it, checks its Node encodings against pair_hashes, and checks that
// the Merkle root over the pair leaves H(0x00 ‖ primary ‖ secondary) is the
// case's merkle_root_hex.
func TestMetadataRoots(t *testing.T) {
	v := loadVectors(t)
	count := 0
	for _, c := range v.Cases {
		if c.MetadataBCSHex == "" {
			continue
		}
		count++
		in := mustHex(t, c.MetadataBCSHex)
		d := bcs.NewDecoder(in)
		blobID := d.Fixed(Size)
		version := d.Variant(1) // BlobMetadata::V1
		encodingType := d.U8()
		length := d.U64()
		n := d.Len(1 << 16)
		pairs := make([][2]PathNode, n)
		for i := range pairs {
			pairs[i][0] = DecodeNode(d)
			pairs[i][1] = DecodeNode(d)
		}
		if err := d.Finish(); err != nil {
			t.Fatalf("%s: decode metadata: %v", c.ID, err)
		}
		if hex.EncodeToString(blobID) != c.BlobIDHex || encodingType != 1 || length != c.UnencodedLength || n != c.NShards {
			t.Errorf("%s: metadata header: id %x, type %d, length %d, %d pairs", c.ID, blobID, encodingType, length, n)
		}
		leaves := make([]Node, n)
		var e bcs.Encoder
		e.Fixed(blobID)
		e.Variant(version)
		e.U8(encodingType)
		e.U64(length)
		e.Len(n)
		for i, p := range pairs {
			if p[0].IsEmpty() || p[1].IsEmpty() {
				t.Errorf("%s: pair %d holds an Empty node", c.ID, i)
			}
			if len(c.PairHashes) == n &&
				(p[0].String() != c.PairHashes[i].Primary || p[1].String() != c.PairHashes[i].Secondary) {
				t.Errorf("%s: pair %d = %v, %v; want %s, %s", c.ID, i, p[0], p[1], c.PairHashes[i].Primary, c.PairHashes[i].Secondary)
			}
			pv, sv := p[0].Value(), p[1].Value()
			leaves[i] = LeafHash(append(pv[:], sv[:]...))
			EncodeNode(&e, p[0])
			EncodeNode(&e, p[1])
		}
		if !bytes.Equal(e.Out(), in) {
			t.Errorf("%s: metadata re-encoded differently", c.ID)
		}
		want := mustNode(t, c.MerkleRootHex)
		if got := Root(leaves); got != want {
			t.Errorf("%s: root over %d pair leaves = %v, want %v", c.ID, n, got, want)
		}
		tree := New(leaves)
		for i := range leaves {
			p, err := tree.Proof(i)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Verify(want, leaves[i], i, n); err != nil {
				t.Errorf("%s: pair %d: %v", c.ID, i, err)
			}
		}
	}
	if count == 0 {
		t.Fatal("no case carries metadata_bcs_hex")
	}
}
