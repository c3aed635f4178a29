package quilt

import (
	"encoding/base64"
	"encoding/hex"
	"testing"
)

func encode(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// smallQuilts returns the columns of the vectors small enough to hold their bytes.
func smallQuilts(t testing.TB) [][][]byte {
	var out [][][]byte
	for _, v := range loadVectors(t) {
		if v.QuiltHex == "" {
			continue
		}
		blob, err := hex.DecodeString(v.QuiltHex)
		if err != nil {
			t.Fatal(err)
		}
		cols, err := Columns(mustConfig(t, v.NShards), blob)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, cols)
	}
	return out
}

// FuzzDecodeIndex feeds arbitrary bytes as the leading columns of a quilt: the decoder
// must never panic, and an index it accepts has non-empty, increasing ranges.
func FuzzDecodeIndex(f *testing.F) {
	for _, cols := range smallQuilts(f) {
		var b []byte
		for _, c := range cols[:min(3, len(cols))] {
			b = append(b, c...)
		}
		f.Add(b, uint8(len(cols[0])), uint8(len(cols)))
	}
	f.Fuzz(func(t *testing.T, b []byte, colSize, nColumns uint8) {
		if colSize == 0 {
			return
		}
		var cols [][]byte
		for len(b) >= int(colSize) {
			cols = append(cols, b[:colSize])
			b = b[colSize:]
		}
		x, err := DecodeIndex(cols, int(nColumns))
		if err != nil {
			return
		}
		prev := x.Columns
		for _, p := range x.Patches {
			if p.Start != prev || p.End <= p.Start || p.End > int(nColumns) {
				t.Fatalf("accepted patch %+v after column %d", p, prev)
			}
			if ValidateIdentifier(p.Identifier) != nil {
				t.Fatalf("accepted identifier %q", p.Identifier)
			}
			prev = p.End
		}
	})
}

// FuzzDecodePatch feeds arbitrary bytes as a patch's columns: no panic, and an accepted
// patch re-encodes to the same prefix.
func FuzzDecodePatch(f *testing.F) {
	for _, cols := range smallQuilts(f) {
		x, err := DecodeIndex(cols, len(cols))
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range x.Patches {
			var b []byte
			for _, c := range cols[p.Start:p.End] {
				b = append(b, c...)
			}
			f.Add(b, uint16(len(cols[0])))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte, colSize uint16) {
		if colSize == 0 {
			return
		}
		var cols [][]byte
		for len(b) >= int(colSize) {
			cols = append(cols, b[:colSize])
			b = b[colSize:]
		}
		p, err := DecodePatch(cols)
		if err != nil {
			return
		}
		pre, err := patchPrefix(p)
		if err != nil {
			t.Fatalf("decoded patch %q does not re-encode: %v", p.Identifier, err)
		}
		var all []byte
		for _, c := range cols {
			all = append(all, c...)
		}
		if string(all[PatchHeaderSize:len(pre)]) != string(pre[PatchHeaderSize:]) {
			t.Fatalf("re-encoded prefix differs")
		}
	})
}

// FuzzParsePatchID: no panic, and an accepted ID prints back to the same text.
func FuzzParsePatchID(f *testing.F) {
	for _, v := range loadVectors(f) {
		for _, p := range v.Patches[:min(2, len(v.Patches))] {
			f.Add(p.PatchID)
		}
	}
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParsePatchID(s)
		if err != nil {
			return
		}
		if id.String() != s {
			t.Fatalf("%q parsed and printed as %q", s, id.String())
		}
	})
}
