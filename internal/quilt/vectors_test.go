package quilt

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/testvec"
)

// vectorFile is testdata/vectors.json, written by testdata/genvectors.mjs with Mysten's
// TypeScript SDK (the command is in the script).
type vectorFile struct {
	Vectors []vector `json:"vectors"`
}

type vector struct {
	Name        string           `json:"name"`
	NShards     int              `json:"nShards"`
	Files       []vectorFileSpec `json:"files"`
	Error       string           `json:"error"`
	QuiltLength int              `json:"quiltLength"`
	SymbolSize  int              `json:"symbolSize"`
	QuiltSHA256 string           `json:"quiltSha256"`
	QuiltID     string           `json:"quiltId"`
	QuiltHex    string           `json:"quiltHex"`
	Patches     []struct {
		Identifier string `json:"identifier"`
		Start      int    `json:"start"`
		End        int    `json:"end"`
		PatchID    string `json:"patchId"`
	} `json:"patches"`
}

type vectorFileSpec struct {
	Identifier string            `json:"identifier"`
	Tags       map[string]string `json:"tags"`
	Data       struct {
		Text *string `json:"text"`
		Len  int     `json:"len"`
		Seed int     `json:"seed"`
	} `json:"data"`
	Many *struct {
		Count  int    `json:"count"`
		Len    int    `json:"len"`
		Prefix string `json:"prefix"`
	} `json:"many"`
}

func genData(n, seed int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((seed + i*(2*seed+1)) % 256)
	}
	return b
}

func (v *vector) patches() []Patch {
	var out []Patch
	for _, f := range v.Files {
		if f.Many != nil {
			for i := 0; i < f.Many.Count; i++ {
				out = append(out, Patch{Identifier: fmt.Sprintf("%s%04d", f.Many.Prefix, i), Data: genData(f.Many.Len, i%97)})
			}
			continue
		}
		p := Patch{Identifier: f.Identifier, Tags: f.Tags}
		if f.Data.Text != nil {
			p.Data = []byte(*f.Data.Text)
		} else {
			p.Data = genData(f.Data.Len, f.Data.Seed)
		}
		out = append(out, p)
	}
	return out
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	b, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatalf("vectors are part of the repository: %v", err)
	}
	var f vectorFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) < 20 {
		t.Fatalf("only %d vectors", len(f.Vectors))
	}
	return f.Vectors
}

var vectorErrors = map[string]error{
	"duplicate": ErrDuplicateIdentifier,
	"too_many":  ErrTooManyPatches,
	"too_large": ErrTooLarge,
}

// TestVectors encodes every vector's files and compares the quilt, its blob ID and its
// patch IDs with what Mysten's TypeScript SDK produced, then decodes every patch back.
func TestVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			if (testing.Short() || testvec.Race) && v.QuiltLength > 512<<10 {
				t.Skip("large vector: run by the vector pass without -race (make test)")
			}
			cfg, err := redstuff.NewConfig(v.NShards)
			if err != nil {
				t.Fatal(err)
			}
			files := v.patches()
			q, err := Encode(cfg, files)
			if v.Error != "" {
				want, ok := vectorErrors[v.Error]
				if !ok {
					t.Fatalf("unknown error kind %q", v.Error)
				}
				if !errors.Is(err, want) {
					t.Fatalf("Encode: %v, want %v", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(q.Blob) != v.QuiltLength || q.SymbolSize != v.SymbolSize {
				t.Fatalf("quilt of %d bytes, symbol size %d; want %d, %d", len(q.Blob), q.SymbolSize, v.QuiltLength, v.SymbolSize)
			}
			if v.QuiltHex != "" && hex.EncodeToString(q.Blob) != v.QuiltHex {
				t.Fatalf("quilt bytes differ:\n got %x\nwant %s", q.Blob, v.QuiltHex)
			}
			if sum := sha256.Sum256(q.Blob); hex.EncodeToString(sum[:]) != v.QuiltSHA256 {
				t.Fatalf("quilt SHA-256 %x, want %s", sum, v.QuiltSHA256)
			}
			m, err := cfg.ComputeMetadata(q.Blob)
			if err != nil {
				t.Fatal(err)
			}
			id := m.ComputeBlobID()
			if id.String() != v.QuiltID {
				t.Fatalf("quilt ID %s, want %s", id, v.QuiltID)
			}
			if len(q.Index.Patches) != len(v.Patches) {
				t.Fatalf("%d patches, want %d", len(q.Index.Patches), len(v.Patches))
			}
			for i, want := range v.Patches {
				got := q.Index.Patches[i]
				pid := q.PatchID(id, got)
				if got.Identifier != want.Identifier || got.Start != want.Start || got.End != want.End || pid.String() != want.PatchID {
					t.Fatalf("patch %d: %q %d..%d %s; want %q %d..%d %s", i, got.Identifier, got.Start, got.End, pid, want.Identifier, want.Start, want.End, want.PatchID)
				}
				parsed, err := ParsePatchID(want.PatchID)
				if err != nil || parsed != pid {
					t.Fatalf("ParsePatchID(%s) = %v, %v", want.PatchID, parsed, err)
				}
			}
			checkRoundTrip(t, cfg, q, files)
		})
	}
}

// checkRoundTrip decodes the index and every patch from the quilt's columns and compares
// them with the files that went in.
func checkRoundTrip(t *testing.T, cfg *redstuff.Config, q *Quilt, files []Patch) {
	t.Helper()
	cols, err := Columns(cfg, q.Blob)
	if err != nil {
		t.Fatal(err)
	}
	n, err := IndexColumns(cols[0])
	if err != nil || n != q.Index.Columns {
		t.Fatalf("IndexColumns = %d, %v; want %d", n, err, q.Index.Columns)
	}
	x, err := DecodeIndex(cols[:n], len(cols))
	if err != nil {
		t.Fatal(err)
	}
	if len(x.Patches) != len(files) {
		t.Fatalf("decoded %d patches, want %d", len(x.Patches), len(files))
	}
	for i, p := range x.Patches {
		e := q.Index.Patches[i]
		if p.Identifier != e.Identifier || p.Start != e.Start || p.End != e.End || len(p.Tags) != len(e.Tags) {
			t.Fatalf("index entry %d: %+v, want %+v", i, p, e)
		}
	}
	for _, f := range files {
		info, err := x.Lookup(f.Identifier)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodePatch(cols[info.Start:info.End])
		if err != nil {
			t.Fatalf("%q: %v", f.Identifier, err)
		}
		if got.Identifier != f.Identifier || !bytes.Equal(got.Data, f.Data) || len(got.Tags) != len(f.Tags) {
			t.Fatalf("%q: decoded %q with %d bytes and %d tags", f.Identifier, got.Identifier, len(got.Data), len(got.Tags))
		}
		for k, val := range f.Tags {
			if got.Tags[k] != val || !info.HasTag(k, val) {
				t.Fatalf("%q: tag %q = %q, want %q", f.Identifier, k, got.Tags[k], val)
			}
		}
	}
}
