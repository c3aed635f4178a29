package storagenode_test

import (
	"testing"

	sn "github.com/walrus-go/walrus/internal/storagenode"
)

// A status event's transaction digest is Base58, as Sui and Walrus write it (the
// TypeScript SDK passes it on as is); the hex that nodes of earlier versions wrote is still
// read. Anything else is refused.
func TestBlobStatusEventDigest(t *testing.T) {
	want := sn.BlobStatus{Kind: sn.BlobStatusInvalid, Event: sn.EventID{TxDigest: [32]byte{8}, Seq: 8}}
	for _, tc := range []struct {
		name, digest string
		ok           bool
	}{
		{"base58", "YEGAxog9gxiGXxo538aAQxq55XAebpFfwU72ZUxmSHm", true},
		{"hex", "0800000000000000000000000000000000000000000000000000000000000000", true},
		{"base58 of 31 bytes", "1", false},
		{"short hex", "08", false},
		{"neither", "not a digest!", false},
		{"empty", "", false},
	} {
		var got sn.BlobStatus
		err := got.UnmarshalJSON([]byte(`{"invalid":{"event":{"txDigest":"` + tc.digest + `","eventSeq":"8"}}}`))
		switch {
		case tc.ok && (err != nil || got != want):
			t.Errorf("%s: %+v, %v; want %+v", tc.name, got, err, want)
		case !tc.ok && err == nil:
			t.Errorf("%s: accepted as %+v", tc.name, got)
		}
	}
}

// FuzzBlobStatusJSON: any input is refused or decodes to a status whose JSON decodes to
// the same status.
func FuzzBlobStatusJSON(f *testing.F) {
	for _, s := range []string{
		`"nonexistent"`,
		`{"invalid":{"event":{"txDigest":"YEGAxog9gxiGXxo538aAQxq55XAebpFfwU72ZUxmSHm","eventSeq":"8"}}}`,
		`{"permanent":{"endEpoch":4,"isCertified":true,"statusEvent":{"txDigest":"GcdayuLaLyrdmUu324nahyv33G5poQdLUEZ1nEytDeP","eventSeq":"4"},"deletableCounts":{"count_deletable_total":1,"count_deletable_certified":1},"initialCertifiedEpoch":1}}`,
		`{"deletable":{"initialCertifiedEpoch":null,"deletableCounts":{"count_deletable_total":1,"count_deletable_certified":0}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var s sn.BlobStatus
		if s.UnmarshalJSON(b) != nil {
			return
		}
		j, err := s.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var back sn.BlobStatus
		if err := back.UnmarshalJSON(j); err != nil {
			t.Fatalf("%s: %v", j, err)
		}
		if j2, _ := back.MarshalJSON(); string(j2) != string(j) {
			t.Fatalf("%s then %s", j, j2)
		}
	})
}
