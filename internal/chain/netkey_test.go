package chain

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"math/big"
	"testing"

	"golang.org/x/crypto/blake2b"
)

// TestCheckNetworkKey accepts real ed25519 public keys and refuses the encodings that are not
// points, not canonical or of small order (the identity and the torsion points, whose
// certificates anyone could forge).
func TestCheckNetworkKey(t *testing.T) {
	for i := range 200 {
		seed := blake2b.Sum256([]byte{byte(i), byte(i >> 8)})
		pk := ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey)
		if err := checkNetworkKey([NetworkKeySize]byte(pk)); err != nil {
			t.Fatalf("key %d (%x) refused: %v", i, pk, err)
		}
	}
	refuse := map[string]string{
		"zero (order 4)":      "0000000000000000000000000000000000000000000000000000000000000000",
		"identity":            "0100000000000000000000000000000000000000000000000000000000000000",
		"order 2":             "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"order 8":             "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
		"order 8, other":      "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
		"order 8, sign set":   "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
		"y = p (not reduced)": "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"y = 2^255-1":         "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"off the curve":       "0200000000000000000000000000000000000000000000000000000000000000",
	}
	for name, h := range refuse {
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkNetworkKey([NetworkKeySize]byte(b)); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: got %v, want ErrInvalidArgument", name, err)
		}
	}
	// The two order-8 y-coordinates are negatives of each other.
	other := edLE("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")
	if sum := new(big.Int).Add(edY8, other); sum.Cmp(edP) != 0 {
		t.Fatalf("order-8 y-coordinates do not sum to p")
	}
}

// TestSetNodeInfoNetworkKey: an operator replaces its node's network key with SetNodeInfo
// (clients then pin the new key, through the committee info); an all-zero key keeps it.
func TestSetNodeInfoNetworkKey(t *testing.T) {
	env := rejectionFixture(t)
	n1 := env.object("n1")
	key := func() [NetworkKeySize]byte {
		p, err := env.app.View().Pool(n1)
		if err != nil {
			t.Fatal(err)
		}
		info, err := env.app.View().Committee(1)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range info.Members {
			if m.NodeID == n1 && m.NetworkPublicKey != p.NetworkPublicKey {
				t.Fatalf("committee info carries %x, the pool %x", m.NetworkPublicKey[:4], p.NetworkPublicKey[:4])
			}
		}
		return p.NetworkPublicKey
	}
	if key() != testNetKey("n1") {
		t.Fatal("genesis network key not stored")
	}
	env.run(scriptCase{cmd: "block", body: []string{"n1-op set-info n1 n1 n1.walrus.test:9185 netkey=rotated"}})
	if key() != testNetKey("rotated") {
		t.Fatal("SetNodeInfo did not replace the network key")
	}
	env.run(scriptCase{cmd: "block", body: []string{"n1-op set-info n1 n1 n1.walrus.test:9186"}})
	if key() != testNetKey("rotated") {
		t.Fatal("SetNodeInfo without a key changed it")
	}
}
