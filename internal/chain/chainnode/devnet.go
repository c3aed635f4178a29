package chainnode

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/chain"
)

// Defaults of DevnetOptions.
const (
	// DefaultChainID is the prefix of a generated chain ID: DevnetGenesis appends a random
	// suffix, so that no two development chains share an ID and a transaction signed for
	// one cannot be replayed on another.
	DefaultChainID          = "walrus-devnet"
	DefaultDevnetShards     = 10
	DefaultStorageNodes     = 4
	DefaultEpochDuration    = time.Hour
	DefaultMaxEpochsAhead   = 53
	DefaultMaxCommitteeSize = 111
	DefaultMinFee           = 1000 // FROST
	// DefaultSignatureFee is added to the minimum fee of a transaction whose operation
	// verifies a BLS signature (a pairing costs about 40 ed25519 verifications).
	DefaultSignatureFee = 100 * DefaultMinFee
	// DefaultNodeRegistrationFee is added to the minimum fee of a node registration: a pool
	// is rewritten at every epoch change for ever.
	DefaultNodeRegistrationFee = 10 * chain.FrostPerWAL
	// DefaultIndexByteFee is the fee per byte of a payload that grows the bucket index
	// (chain.Params.IndexByteFee): 10 FROST, so that a typical 200-byte entry costs three
	// times the minimum fee.
	DefaultIndexByteFee    = 10
	DefaultBurnBasisPoints = 300
	DefaultNodeStake       = 1000 * chain.FrostPerWAL
	DefaultOperatorBalance = 1000 * chain.FrostPerWAL
	DefaultStoragePrice    = 1000 // FROST per MiB per epoch
	DefaultWritePrice      = 2000 // FROST per MiB
	DefaultNodeCapacity    = 1 << 40
	DefaultCommissionRate  = 1000 // basis points
)

// DevnetOptions describes the chain genesis of a development network: parameters, funded
// accounts, and storage nodes whose keys DevnetGenesis generates. The zero value of every
// field but GenesisTime has the documented default.
type DevnetOptions struct {
	// ChainID; default DefaultChainID, a hyphen and 8 random hex digits (from Rand).
	ChainID string
	// NShards is the number of shards; default DefaultDevnetShards.
	NShards uint16
	// EpochDuration is the length of an epoch in block time; default DefaultEpochDuration.
	EpochDuration time.Duration
	// EpochSyncTimeout is how long after an epoch change starts the new committee has to
	// signal EpochSyncDone before the change completes without the laggards (see
	// chain.Params.EpochSyncTimeout); 0 means the chain's default, EpochDuration/2.
	EpochSyncTimeout time.Duration
	// GenesisTime is the start of epoch 0 and the CometBFT genesis time (required; use the
	// present time, as CometBFT waits for the genesis time before making blocks).
	GenesisTime time.Time
	// MaxEpochsAhead and MaxCommitteeSize; defaults DefaultMaxEpochsAhead and
	// DefaultMaxCommitteeSize.
	MaxEpochsAhead, MaxCommitteeSize uint32
	// MinFee in FROST; default DefaultMinFee. Use NoMinFee for a zero minimum.
	MinFee uint64
	// SignatureFee and NodeRegistrationFee (FROST); defaults DefaultSignatureFee and
	// DefaultNodeRegistrationFee. Use NoFee for zero.
	SignatureFee, NodeRegistrationFee uint64
	// IndexByteFee (FROST per payload byte of a bucket index write); default
	// DefaultIndexByteFee. Use NoFee for zero.
	IndexByteFee uint64
	// Challenge enables storage challenges with these parameters (chain.Params.Challenge;
	// zero, the default, leaves them off). chain.DefaultChallengeParams() are the defaults.
	Challenge chain.ChallengeParams
	// FaucetMax is the most one faucet transaction may mint; 0 disables the faucet.
	FaucetMax uint64
	// FaucetAccountMax is the most the faucet mints to one account, default 10 × FaucetMax;
	// FaucetTotalMax the most it mints in all, default 100 × FaucetAccountMax (both
	// saturating). Unused without a faucet.
	FaucetAccountMax, FaucetTotalMax uint64
	// Accounts are funded at genesis.
	Accounts []chain.GenesisAccount
	// StorageNodes is the number of genesis storage nodes; default DefaultStorageNodes.
	StorageNodes int
	// StorageNodeAddresses are their network addresses (host:port); default
	// "127.0.0.1:<9185+i>".
	StorageNodeAddresses []string
	// NodeStake is each storage node's genesis stake; default DefaultNodeStake.
	NodeStake uint64
	// OperatorBalance funds each operator account (for fees); default
	// DefaultOperatorBalance.
	OperatorBalance uint64
	// Rand is the source of the generated keys; nil means crypto/rand. Tests pass a
	// seeded reader for reproducible genesis files.
	Rand io.Reader
}

// NoFee as DevnetOptions.MinFee, SignatureFee, NodeRegistrationFee or IndexByteFee sets that
// fee to zero.
const NoFee = ^uint64(0)

// NoMinFee as DevnetOptions.MinFee sets a zero minimum fee.
const NoMinFee = NoFee

// StorageNodeKeys are the secrets of a generated genesis storage node.
type StorageNodeKeys struct {
	Name           string
	NetworkAddress string
	// BLS is the node's protocol key (signs confirmations); Network the ed25519 key of its
	// TLS certificate (registered on chain, pinned by clients); Operator the ed25519 key of
	// the operator account that controls the node on chain.
	BLS      *bls.SecretKey
	Network  ed25519.PrivateKey
	Operator ed25519.PrivateKey
}

// DevnetGenesis builds a development genesis and the keys of its storage nodes.
func DevnetGenesis(o DevnetOptions) (*chain.Genesis, []StorageNodeKeys, error) {
	if o.GenesisTime.IsZero() {
		return nil, nil, errors.New("chainnode: devnet: GenesisTime is required")
	}
	orDefault := func(v *uint64, d uint64) {
		if *v == 0 {
			*v = d
		}
	}
	if o.NShards == 0 {
		o.NShards = DefaultDevnetShards
	}
	if o.EpochDuration == 0 {
		o.EpochDuration = DefaultEpochDuration
	}
	if o.MaxEpochsAhead == 0 {
		o.MaxEpochsAhead = DefaultMaxEpochsAhead
	}
	if o.MaxCommitteeSize == 0 {
		o.MaxCommitteeSize = DefaultMaxCommitteeSize
	}
	fee := func(v *uint64, d uint64) {
		switch *v {
		case 0:
			*v = d
		case NoFee:
			*v = 0
		}
	}
	fee(&o.MinFee, DefaultMinFee)
	fee(&o.SignatureFee, DefaultSignatureFee)
	fee(&o.NodeRegistrationFee, DefaultNodeRegistrationFee)
	fee(&o.IndexByteFee, DefaultIndexByteFee)
	if o.FaucetMax > 0 {
		orDefault(&o.FaucetAccountMax, saturatingMul(o.FaucetMax, 10))
		orDefault(&o.FaucetTotalMax, saturatingMul(o.FaucetAccountMax, 100))
	}
	if o.StorageNodes == 0 {
		o.StorageNodes = DefaultStorageNodes
	}
	if o.StorageNodes < 0 || (len(o.StorageNodeAddresses) > 0 && len(o.StorageNodeAddresses) != o.StorageNodes) {
		return nil, nil, fmt.Errorf("chainnode: devnet: %d storage nodes with %d addresses", o.StorageNodes, len(o.StorageNodeAddresses))
	}
	orDefault(&o.NodeStake, DefaultNodeStake)
	orDefault(&o.OperatorBalance, DefaultOperatorBalance)
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	g := &chain.Genesis{
		Params: chain.Params{
			ChainID: o.ChainID, NShards: o.NShards, EpochDuration: int64(o.EpochDuration),
			GenesisTime: o.GenesisTime.UnixNano(), MaxEpochsAhead: o.MaxEpochsAhead,
			MaxCommitteeSize: o.MaxCommitteeSize, MinFee: o.MinFee, BurnBasisPoints: DefaultBurnBasisPoints,
			FaucetMax: o.FaucetMax, FaucetAccountMax: o.FaucetAccountMax, FaucetTotalMax: o.FaucetTotalMax,
			EpochSyncTimeout: int64(o.EpochSyncTimeout),
			SignatureFee:     o.SignatureFee, NodeRegistrationFee: o.NodeRegistrationFee,
			IndexByteFee: o.IndexByteFee,
			Challenge:    o.Challenge,
		},
		Accounts: append([]chain.GenesisAccount(nil), o.Accounts...),
	}
	var keys []StorageNodeKeys
	for i := range o.StorageNodes {
		sk, err := bls.GenerateKey(o.Rand)
		if err != nil {
			return nil, nil, fmt.Errorf("chainnode: devnet: %w", err)
		}
		seed := make([]byte, ed25519.SeedSize)
		if _, err := io.ReadFull(o.Rand, seed); err != nil {
			return nil, nil, fmt.Errorf("chainnode: devnet: %w", err)
		}
		op := ed25519.NewKeyFromSeed(seed)
		if _, err := io.ReadFull(o.Rand, seed); err != nil {
			return nil, nil, fmt.Errorf("chainnode: devnet: %w", err)
		}
		netKey := ed25519.NewKeyFromSeed(seed)
		k := StorageNodeKeys{Name: fmt.Sprintf("storage-node-%d", i), NetworkAddress: fmt.Sprintf("127.0.0.1:%d", 9185+i), BLS: sk, Network: netKey, Operator: op}
		if len(o.StorageNodeAddresses) > 0 {
			k.NetworkAddress = o.StorageNodeAddresses[i]
		}
		opAddr := chain.AddressOf(op.Public().(ed25519.PublicKey))
		g.Nodes = append(g.Nodes, chain.GenesisNode{
			Name: k.Name, NetworkAddress: k.NetworkAddress, Operator: opAddr,
			PublicKey: sk.PublicKey().Bytes(), ProofOfPossession: sk.ProvePossession(0, opAddr).Bytes(),
			NetworkPublicKey: [chain.NetworkKeySize]byte(netKey.Public().(ed25519.PublicKey)),
			CommissionRate:   DefaultCommissionRate, StoragePrice: DefaultStoragePrice, WritePrice: DefaultWritePrice,
			Capacity: DefaultNodeCapacity, Stake: o.NodeStake,
		})
		g.Accounts = append(g.Accounts, chain.GenesisAccount{Address: opAddr, Balance: o.OperatorBalance})
		keys = append(keys, k)
	}
	if g.Params.ChainID == "" {
		// Drawn after the keys, so that a seeded Rand gives the same keys as before.
		suffix := make([]byte, 4)
		if _, err := io.ReadFull(o.Rand, suffix); err != nil {
			return nil, nil, fmt.Errorf("chainnode: devnet: %w", err)
		}
		g.Params.ChainID = fmt.Sprintf("%s-%x", DefaultChainID, suffix)
	}
	if err := g.Validate(); err != nil {
		return nil, nil, fmt.Errorf("chainnode: devnet: %w", err)
	}
	return g, keys, nil
}

func saturatingMul(a, b uint64) uint64 {
	if a != 0 && a*b/a != b {
		return ^uint64(0)
	}
	return a * b
}
