package testnet

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"time"

	"golang.org/x/crypto/blake2b"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/chain/chainnode"
)

// CandidateBalance is the balance of each candidate operator account (Options.Candidates).
const CandidateBalance = 100_000 * chain.FrostPerWAL

// keyring is a network's genesis and every key made with it.
type keyring struct {
	genesis    *chain.Genesis
	nodes      []chainnode.StorageNodeKeys // the genesis storage nodes', in order
	wallet     *chainclient.Signer
	candidates []ed25519.PrivateKey // operators of the nodes that join later
}

// seeded is a deterministic random source: ChaCha8 over a seed.
type seeded struct{ r *rand.ChaCha8 }

func (s seeded) Read(p []byte) (int, error) { return s.r.Read(p) }

func seededReader(seed uint64) seeded {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	return seeded{rand.NewChaCha8(s)}
}

// seedKey derives an ed25519 key from a label and the network's seed.
func seedKey(label string, seed uint64) ed25519.PrivateKey {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	k := blake2b.Sum256(append([]byte(label), s[:]...))
	return ed25519.NewKeyFromSeed(k[:])
}

// makeGenesis builds the devnet genesis of a network whose options have their defaults,
// with its storage nodes at addrs. The same Options.Seed gives the same keys.
func makeGenesis(o Options, addrs []string) (*keyring, error) {
	kr := &keyring{wallet: chainclient.NewSigner(seedKey("testnet-wallet:", o.Seed))}
	accounts := append([]chain.GenesisAccount{{Address: kr.wallet.Address(), Balance: o.WalletBalance}}, o.Accounts...)
	for i := range o.Candidates {
		k := seedKey(fmt.Sprintf("testnet-candidate-%d:", i), o.Seed)
		kr.candidates = append(kr.candidates, k)
		accounts = append(accounts, chain.GenesisAccount{Address: chain.AddressOf(k.Public().(ed25519.PublicKey)), Balance: CandidateBalance})
	}
	do := chainnode.DevnetOptions{
		ChainID: "walrus-testnet", NShards: uint16(o.Shards), EpochDuration: o.EpochDuration, EpochSyncTimeout: o.EpochSyncTimeout,
		GenesisTime: time.Now(), MaxEpochsAhead: o.MaxEpochsAhead, Accounts: accounts,
		StorageNodes: o.Nodes, StorageNodeAddresses: addrs, Rand: seededReader(o.Seed),
	}
	if o.NoFees {
		do.MinFee, do.SignatureFee, do.NodeRegistrationFee = chainnode.NoFee, chainnode.NoFee, chainnode.NoFee
	}
	g, keys, err := chainnode.DevnetGenesis(do)
	if err != nil {
		return nil, fmt.Errorf("testnet: %w", err)
	}
	if o.Challenge.Enabled() {
		g.Params.Challenge = o.Challenge
	}
	kr.genesis, kr.nodes = g, keys
	return kr, nil
}

// tenEpochs is the default EpochSyncTimeout: ten epochs of length d, at most 2^60 ns, so
// that a slow shard sync does not end an epoch change early.
func tenEpochs(d time.Duration) time.Duration {
	if d < (1<<60)/10 {
		return 10 * d
	}
	return 1 << 60
}
