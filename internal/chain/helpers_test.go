package chain

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"testing"

	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/merkle"
	"github.com/walrus-go/walrus/internal/redstuff"
	"golang.org/x/crypto/blake2b"
)

// testAccountKey returns a deterministic ed25519 key for a name.
func testAccountKey(name string) ed25519.PrivateKey {
	seed := blake2b.Sum256([]byte("test-account:" + name))
	return ed25519.NewKeyFromSeed(seed[:])
}

func testAddress(name string) Address {
	return AddressOf(testAccountKey(name).Public().(ed25519.PublicKey))
}

// testBLSKey returns a deterministic BLS key for a name.
func testBLSKey(t testing.TB, name string) *bls.SecretKey {
	seed := blake2b.Sum256([]byte("test-bls:" + name))
	sk, err := bls.GenerateKey(bytes.NewReader(seed[:]))
	if err != nil {
		t.Fatal(err)
	}
	return sk
}

// testNetKey returns a named test node's network public key (ed25519).
func testNetKey(name string) [NetworkKeySize]byte {
	seed := blake2b.Sum256([]byte("test-net:" + name))
	return [NetworkKeySize]byte(ed25519.NewKeyFromSeed(seed[:]).Public().(ed25519.PublicKey))
}

// testBlob returns the root hash and blob ID of a named test blob of the given size.
func testBlob(name string, size uint64) (root [32]byte, id redstuff.BlobID) {
	root = blake2b.Sum256([]byte("test-blob:" + name))
	return root, redstuff.DeriveBlobID(redstuff.EncodingRS2, size, merkle.Node(root))
}

// checkSupply verifies conservation of WAL: everything ever minted is either burned or held
// by an account, a pool (active stake, pending stake, withdrawal reserve, commission), a
// future reward slot or a shared blob.
func checkSupply(s Store) (string, error) {
	sys, err := loadSystem(s)
	if err != nil {
		return "", err
	}
	var accounts, pools, slots, shared uint64
	iteratePrefix(s, []byte(prefixAccount), func(_, v []byte) bool {
		a, err := DecodeAccount(v)
		if err != nil {
			panic(err)
		}
		accounts += a.Balance
		return true
	})
	for _, p := range allPools(s) {
		pools += p.Wal + p.WithdrawReserve + p.Commission
		for _, x := range p.PendingStake {
			pools += x.Amount
		}
	}
	iteratePrefix(s, []byte(prefixFuture), func(_, v []byte) bool {
		f, err := decodeBCS[FutureEpoch](v)
		if err != nil {
			panic(err)
		}
		slots += f.Rewards
		return true
	})
	iteratePrefix(s, []byte(prefixObject), func(_, v []byte) bool {
		o, err := DecodeObject(v)
		if err != nil {
			panic(err)
		}
		if b, ok := o.(*Blob); ok {
			shared += b.Funds
		}
		return true
	})
	held := accounts + pools + slots + shared
	summary := fmt.Sprintf("supply=%d burned=%d accounts=%d pools=%d slots=%d shared=%d", sys.Supply, sys.Burned, accounts, pools, slots, shared)
	if held+sys.Burned != sys.Supply {
		return summary, fmt.Errorf("supply not conserved: held %d + burned %d != supply %d", held, sys.Burned, sys.Supply)
	}
	return summary, nil
}
