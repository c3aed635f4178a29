package uploadrelay

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/redstuff"
)

func u64(v uint64) *uint64 { return &v }

// TestTipConfigJSON pins Walrus's JSON forms (its TipConfig and TipKind serde, snake case).
func TestTipConfigJSON(t *testing.T) {
	addr := chain.Address{0x2a}
	for _, tc := range []struct {
		cfg  TipConfig
		json string
	}{
		{TipConfig{}, `"no_tip"`},
		{TipConfig{Address: addr, Kind: TipKind{Const: u64(31415)}},
			`{"send_tip":{"address":"` + addr.String() + `","kind":{"const":31415}}}`},
		{TipConfig{Address: addr, Kind: TipKind{Linear: &LinearTip{Base: 101, PerKiB: 42}}},
			`{"send_tip":{"address":"` + addr.String() + `","kind":{"linear":{"base":101,"encoded_size_mul_per_kib":42}}}}`},
	} {
		b, err := json.Marshal(tc.cfg)
		if err != nil || string(b) != tc.json {
			t.Errorf("marshal %+v = %s, %v; want %s", tc.cfg, b, err, tc.json)
		}
		var back TipConfig
		if err := json.Unmarshal([]byte(tc.json), &back); err != nil {
			t.Fatal(err)
		}
		if b2, _ := json.Marshal(back); string(b2) != tc.json {
			t.Errorf("round trip of %s gave %s", tc.json, b2)
		}
	}
	for _, bad := range []string{`"tip"`, `{}`, `{"send_tip":{"address":"0x1","kind":{"const":1}}}`,
		`{"send_tip":{"address":"` + addr.String() + `","kind":{}}}`, `{"send_tip":{"address":"` + addr.String() + `","kind":{"const":1,"linear":{"base":1}}}}`} {
		var c TipConfig
		if err := json.Unmarshal([]byte(bad), &c); err == nil {
			t.Errorf("unmarshal %s: no error", bad)
		}
	}
}

func TestTip(t *testing.T) {
	lin := TipConfig{Kind: TipKind{Linear: &LinearTip{Base: 101, PerKiB: 42}}}
	for _, tc := range []struct{ enc, want uint64 }{{0, 101}, {1, 143}, {1024, 143}, {1025, 185}} {
		if got, ok := lin.Tip(tc.enc); !ok || got != tc.want {
			t.Errorf("linear tip of %d = %d, want %d", tc.enc, got, tc.want)
		}
	}
	if _, ok := (TipConfig{Kind: TipKind{Linear: &LinearTip{Base: 1, PerKiB: 1 << 60}}}).Tip(1 << 20); ok {
		t.Error("an overflowing tip was computed")
	}
}

// TestResponseJSON pins the answer's shape as the TypeScript SDK reads it: the blob ID and
// message as arrays of numbers, signers as indices, the signature in Base64.
func TestResponseJSON(t *testing.T) {
	r := Response{BlobID: redstuff.BlobID{1, 2}, Certificate: Certificate{Signers: []uint16{0, 2}, SerializedMessage: []byte{1, 0, 3}, Signature: [96]byte{0xff}}}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"blob_id":[1,2,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],"confirmation_certificate":{"signers":[0,2],"serialized_message":[1,0,3],"signature":"/w` + strings.Repeat("A", 126) + `"}}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	var back Response
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	cc, err := back.Certificate.Chain()
	if err != nil || len(cc.Signers) != 1 || cc.Signers[0] != 0b101 {
		t.Fatalf("chain certificate %+v, %v", cc, err)
	}
	if got := CertificateOf(cc); len(got.Signers) != 2 || got.Signers[1] != 2 {
		t.Fatalf("back to Walrus's form: %+v", got)
	}
	if _, err := (Certificate{Signers: []uint16{3, 3}}).Chain(); err == nil {
		t.Error("a repeated signer was accepted")
	}
}

func TestParseParams(t *testing.T) {
	id := redstuff.BlobID{9}
	obj := chain.ObjectID{4}
	p := Params{BlobID: id, DeletableBlobObject: &obj, HasTip: true, TxID: [32]byte{13}, Nonce: [32]byte{23}}
	q, err := url.ParseQuery(p.Query())
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseParams(q)
	if err != nil || got.BlobID != id || *got.DeletableBlobObject != obj || got.TxID != p.TxID || got.Nonce != p.Nonce || !got.HasTip {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for _, bad := range []string{"", "blob_id=x", "blob_id=" + id.String() + "&blob_id=" + id.String(),
		"blob_id=" + id.String() + "&encoding_type=RaptorQ", "blob_id=" + id.String() + "&nonce=AA",
		"blob_id=" + id.String() + "&deletable_blob_object=zz"} {
		q, _ := url.ParseQuery(bad)
		if _, err := ParseParams(q); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func FuzzParseParams(f *testing.F) {
	obj := chain.ObjectID{4}
	f.Add(Params{BlobID: redstuff.BlobID{9}, DeletableBlobObject: &obj, HasTip: true, TxID: [32]byte{13}}.Query())
	f.Add("blob_id=x&tx_id=1111&nonce=%%")
	f.Fuzz(func(t *testing.T, s string) {
		q, err := url.ParseQuery(s)
		if err != nil {
			return
		}
		p, err := ParseParams(q)
		if err != nil {
			if !errors.Is(err, ErrBadRequest) && !errors.Is(err, ErrMissingTxIDOrNonce) {
				t.Fatalf("%q: error %v is neither ErrBadRequest nor ErrMissingTxIDOrNonce", s, err)
			}
			return
		}
		q2, _ := url.ParseQuery(p.Query())
		p2, err := ParseParams(q2)
		if err != nil || p2.BlobID != p.BlobID || p2.TxID != p.TxID || p2.Nonce != p.Nonce {
			t.Fatalf("%q: re-parse gave %+v, %v", s, p2, err)
		}
	})
}

func FuzzAuthPackage(f *testing.F) {
	f.Add(NewAuthPackage([]byte("blob"), [32]byte{1}).Encode())
	f.Add([]byte("short"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := DecodeAuthPackage(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidAuthPackage) {
				t.Fatal(err)
			}
			return
		}
		if string(a.Encode()) != string(b) {
			t.Fatalf("%x re-encodes to %x", b, a.Encode())
		}
	})
}

func FuzzResponse(f *testing.F) {
	b, _ := json.Marshal(Response{Certificate: Certificate{Signers: []uint16{1}, SerializedMessage: []byte{1}}})
	f.Add(string(b))
	f.Fuzz(func(t *testing.T, s string) {
		var r Response
		if json.Unmarshal([]byte(s), &r) != nil {
			return
		}
		_, _ = r.Certificate.Chain()
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var back Response
		if err := json.Unmarshal(b, &back); err != nil || back.BlobID != r.BlobID || back.Certificate.Signature != r.Certificate.Signature {
			t.Fatalf("%q: re-encoding does not decode to the same: %v", s, err)
		}
	})
}

func TestAuthPackageCheck(t *testing.T) {
	blob, nonce := []byte("hello"), [32]byte{23}
	a := NewAuthPackage(blob, nonce)
	if len(a.Encode()) != 72 {
		t.Fatalf("encoded package of %d bytes, want 72", len(a.Encode()))
	}
	for _, tc := range []struct {
		blob  []byte
		nonce [32]byte
		want  error
	}{
		{blob, nonce, nil},
		{blob, [32]byte{24}, ErrInvalidNonceHash},
		{[]byte("world"), nonce, ErrBlobDigestMismatch},
		{[]byte("hello!"), nonce, ErrBlobLengthMismatch},
	} {
		if err := a.Check(tc.blob, tc.nonce); !errors.Is(err, tc.want) {
			t.Errorf("check %q: %v, want %v", tc.blob, err, tc.want)
		}
	}
}
