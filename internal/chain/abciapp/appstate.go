package abciapp

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
)

// The app state of the CometBFT genesis (genesis.json "app_state", InitChain's
// AppStateBytes) is the chain.Genesis as a JSON object, so that an operator can read and
// review it:
//
//	{
//	  "params": {
//	    "chain_id": "walrus-devnet-1a2b3c4d", "n_shards": 10, "epoch_duration": "1h0m0s",
//	    "genesis_time": "2026-01-01T00:00:00Z", "max_epochs_ahead": 53,
//	    "max_committee_size": 111, "min_fee": "1000", "burn_basis_points": 300,
//	    "faucet_max": "0", "epoch_sync_timeout": "30m0s", "signature_fee": "100000",
//	    "node_registration_fee": "10000000000", "faucet_account_max": "0", "faucet_total_max": "0"
//	  },
//	  "accounts": [{"address": "0x…", "balance": "1000000000"}],
//	  "nodes": [{"name": "n0", "network_address": "127.0.0.1:9185", "operator": "0x…",
//	    "public_key": "…96 hex…", "network_public_key": "…64 hex…",
//	    "proof_of_possession": "…192 hex…", "commission_rate": 1000,
//	    "storage_price": "1000", "write_price": "2000", "capacity": "1073741824",
//	    "stake": "100000000000", "shards": [0, 1]}]
//	}
//
// Amounts and sizes (u64) are decimal strings so that no JSON reader rounds them; durations
// are Go duration strings (epoch_sync_timeout is optional: absent means 0, the chain's
// default of half an epoch); "challenge" (sample_size, failure_limit, slash_basis_points,
// stake_min_epochs, stake_penalty_basis_points, stake_penalty_burn_basis_points) is present
// only on a chain with storage challenges; the genesis time is RFC 3339 with nanoseconds and must equal the
// CometBFT genesis time; addresses are 0x-hex; BLS keys and proofs are hex. Decoding is
// strict: unknown fields and trailing data are errors.

type appStateJSON struct {
	Params   paramsJSON    `json:"params"`
	Accounts []accountJSON `json:"accounts"`
	Nodes    []nodeJSON    `json:"nodes"`
}

type paramsJSON struct {
	ChainID             string `json:"chain_id"`
	NShards             uint16 `json:"n_shards"`
	EpochDuration       string `json:"epoch_duration"`
	GenesisTime         string `json:"genesis_time"`
	MaxEpochsAhead      uint32 `json:"max_epochs_ahead"`
	MaxCommitteeSize    uint32 `json:"max_committee_size"`
	MinFee              uint64 `json:"min_fee,string"`
	BurnBasisPoints     uint16 `json:"burn_basis_points"`
	FaucetMax           uint64 `json:"faucet_max,string"`
	SignatureFee        uint64 `json:"signature_fee,string"`
	NodeRegistrationFee uint64 `json:"node_registration_fee,string"`
	FaucetAccountMax    uint64 `json:"faucet_account_max,string"`
	FaucetTotalMax      uint64 `json:"faucet_total_max,string"`
	EpochSyncTimeout    string `json:"epoch_sync_timeout,omitempty"`
	IndexByteFee        uint64 `json:"index_byte_fee,string,omitempty"`
	// Challenge is present only on a chain with storage challenges (chain.Params.Challenge).
	Challenge *challengeJSON `json:"challenge,omitempty"`
}

type challengeJSON struct {
	SampleSize                  uint32 `json:"sample_size"`
	FailureLimit                uint32 `json:"failure_limit"`
	SlashBasisPoints            uint16 `json:"slash_basis_points"`
	StakeMinEpochs              uint32 `json:"stake_min_epochs"`
	StakePenaltyBasisPoints     uint16 `json:"stake_penalty_basis_points"`
	StakePenaltyBurnBasisPoints uint16 `json:"stake_penalty_burn_basis_points"`
}

type accountJSON struct {
	Address string `json:"address"`
	Balance uint64 `json:"balance,string"`
}

type nodeJSON struct {
	Name              string   `json:"name"`
	NetworkAddress    string   `json:"network_address"`
	Operator          string   `json:"operator"`
	PublicKey         string   `json:"public_key"`
	NetworkPublicKey  string   `json:"network_public_key"`
	ProofOfPossession string   `json:"proof_of_possession"`
	CommissionRate    uint16   `json:"commission_rate"`
	StoragePrice      uint64   `json:"storage_price,string"`
	WritePrice        uint64   `json:"write_price,string"`
	Capacity          uint64   `json:"capacity,string"`
	Stake             uint64   `json:"stake,string"`
	Shards            []uint16 `json:"shards,omitempty"`
}

// EncodeAppState returns the JSON app state of a genesis (see the format above).
func EncodeAppState(g *chain.Genesis) ([]byte, error) {
	p := g.Params
	s := appStateJSON{
		Params: paramsJSON{
			ChainID: p.ChainID, NShards: p.NShards, EpochDuration: time.Duration(p.EpochDuration).String(),
			GenesisTime:    time.Unix(0, p.GenesisTime).UTC().Format(time.RFC3339Nano),
			MaxEpochsAhead: p.MaxEpochsAhead, MaxCommitteeSize: p.MaxCommitteeSize, MinFee: p.MinFee,
			BurnBasisPoints: p.BurnBasisPoints, FaucetMax: p.FaucetMax,
			SignatureFee: p.SignatureFee, NodeRegistrationFee: p.NodeRegistrationFee,
			FaucetAccountMax: p.FaucetAccountMax, FaucetTotalMax: p.FaucetTotalMax,
			IndexByteFee: p.IndexByteFee,
		},
		Accounts: []accountJSON{},
		Nodes:    []nodeJSON{},
	}
	if p.EpochSyncTimeout != 0 {
		s.Params.EpochSyncTimeout = time.Duration(p.EpochSyncTimeout).String()
	}
	if c := p.Challenge; c.Enabled() {
		s.Params.Challenge = &challengeJSON{SampleSize: c.SampleSize, FailureLimit: c.FailureLimit, SlashBasisPoints: c.SlashBasisPoints,
			StakeMinEpochs: c.StakeMinEpochs, StakePenaltyBasisPoints: c.StakePenaltyBasisPoints,
			StakePenaltyBurnBasisPoints: c.StakePenaltyBurnBasisPoints}
	}
	for _, a := range g.Accounts {
		s.Accounts = append(s.Accounts, accountJSON{Address: a.Address.String(), Balance: a.Balance})
	}
	for _, n := range g.Nodes {
		s.Nodes = append(s.Nodes, nodeJSON{
			Name: n.Name, NetworkAddress: n.NetworkAddress, Operator: n.Operator.String(),
			PublicKey: hex.EncodeToString(n.PublicKey[:]), NetworkPublicKey: hex.EncodeToString(n.NetworkPublicKey[:]),
			ProofOfPossession: hex.EncodeToString(n.ProofOfPossession[:]),
			CommissionRate:    n.CommissionRate, StoragePrice: n.StoragePrice, WritePrice: n.WritePrice,
			Capacity: n.Capacity, Stake: n.Stake, Shards: n.Shards,
		})
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("abciapp: encode app state: %w", err)
	}
	return b, nil
}

// DecodeAppState decodes the JSON app state of a genesis. It checks the syntax only; the
// chain validates the content at InitChain (chain.Genesis.Validate).
func DecodeAppState(b []byte) (*chain.Genesis, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("abciapp: app state: "+format, args...)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s appStateJSON
	if err := dec.Decode(&s); err != nil {
		return nil, bad("%v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, bad("trailing data after the JSON object")
	}
	d, err := time.ParseDuration(s.Params.EpochDuration)
	if err != nil {
		return nil, bad("params.epoch_duration: %v", err)
	}
	var syncTimeout time.Duration
	if s.Params.EpochSyncTimeout != "" {
		if syncTimeout, err = time.ParseDuration(s.Params.EpochSyncTimeout); err != nil {
			return nil, bad("params.epoch_sync_timeout: %v", err)
		}
	}
	gt, err := time.Parse(time.RFC3339Nano, s.Params.GenesisTime)
	if err != nil {
		return nil, bad("params.genesis_time: %v", err)
	}
	g := &chain.Genesis{Params: chain.Params{
		ChainID: s.Params.ChainID, NShards: s.Params.NShards, EpochDuration: int64(d), GenesisTime: gt.UnixNano(),
		MaxEpochsAhead: s.Params.MaxEpochsAhead, MaxCommitteeSize: s.Params.MaxCommitteeSize, MinFee: s.Params.MinFee,
		BurnBasisPoints: s.Params.BurnBasisPoints, FaucetMax: s.Params.FaucetMax, EpochSyncTimeout: int64(syncTimeout),
		SignatureFee: s.Params.SignatureFee, NodeRegistrationFee: s.Params.NodeRegistrationFee,
		FaucetAccountMax: s.Params.FaucetAccountMax, FaucetTotalMax: s.Params.FaucetTotalMax,
		IndexByteFee: s.Params.IndexByteFee,
	}}
	if c := s.Params.Challenge; c != nil {
		if c.SampleSize == 0 {
			return nil, bad("params.challenge.sample_size: 0 (omit the challenge object to disable challenges)")
		}
		g.Params.Challenge = chain.ChallengeParams{SampleSize: c.SampleSize, FailureLimit: c.FailureLimit, SlashBasisPoints: c.SlashBasisPoints,
			StakeMinEpochs: c.StakeMinEpochs, StakePenaltyBasisPoints: c.StakePenaltyBasisPoints,
			StakePenaltyBurnBasisPoints: c.StakePenaltyBurnBasisPoints}
	}
	for i, a := range s.Accounts {
		addr, err := chain.ParseAddress(a.Address)
		if err != nil {
			return nil, bad("accounts[%d].address: %v", i, err)
		}
		g.Accounts = append(g.Accounts, chain.GenesisAccount{Address: addr, Balance: a.Balance})
	}
	for i, n := range s.Nodes {
		op, err := chain.ParseAddress(n.Operator)
		if err != nil {
			return nil, bad("nodes[%d].operator: %v", i, err)
		}
		gn := chain.GenesisNode{
			Name: n.Name, NetworkAddress: n.NetworkAddress, Operator: op, CommissionRate: n.CommissionRate,
			StoragePrice: n.StoragePrice, WritePrice: n.WritePrice, Capacity: n.Capacity, Stake: n.Stake, Shards: n.Shards,
		}
		if err := decodeHex(n.PublicKey, gn.PublicKey[:]); err != nil {
			return nil, bad("nodes[%d].public_key: %v", i, err)
		}
		if err := decodeHex(n.NetworkPublicKey, gn.NetworkPublicKey[:]); err != nil {
			return nil, bad("nodes[%d].network_public_key: %v", i, err)
		}
		if err := decodeHex(n.ProofOfPossession, gn.ProofOfPossession[:]); err != nil {
			return nil, bad("nodes[%d].proof_of_possession: %v", i, err)
		}
		g.Nodes = append(g.Nodes, gn)
	}
	return g, nil
}

func decodeHex(s string, out []byte) error {
	s = strings.TrimPrefix(s, "0x")
	if len(s) != 2*len(out) {
		return fmt.Errorf("want %d hex digits, got %d", 2*len(out), len(s))
	}
	_, err := hex.Decode(out, []byte(s))
	return err
}
