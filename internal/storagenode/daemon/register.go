package daemon

import (
	"context"
	"errors"
	"fmt"

	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
)

// Registration describes a storage node candidate for Register.
type Registration struct {
	// Name and NetworkAddress are announced on chain (see NetworkAddress for the address
	// of a public URL).
	Name           string
	NetworkAddress string
	// NetworkKey is the public key of the node's network key (nodetls.PublicKey), which
	// clients pin.
	NetworkKey [chain.NetworkKeySize]byte
	// CommissionRate is in basis points (at most 10000).
	CommissionRate uint16
	// StoragePrice (FROST per MiB per epoch), WritePrice (FROST per MiB) and Capacity
	// (encoded bytes) are the node's votes.
	StoragePrice, WritePrice, Capacity uint64
	// Stake is the FROST the wallet stakes with the node after registering it; 0 stakes
	// nothing.
	Stake uint64
}

// RegisterResult is the outcome of Register.
type RegisterResult struct {
	NodeID chain.ObjectID
	// Registered is false if the key was registered already (by this wallet), in which
	// case only the stake was added.
	Registered bool
	// StakedWal is the StakedWal object of the stake, if any.
	StakedWal chain.ObjectID
}

// maxPossessionAttempts bounds how often Register signs its proof of possession again
// after an epoch change overtook its registration.
const maxPossessionAttempts = 3

// Register registers a storage node candidate on chain: a RegisterNode transaction from
// the wallet (the node's operator) carrying key's public key and its proof of possession
// for the wallet's address in the current epoch, then a Stake transaction of r.Stake. A
// key this wallet registered before is not registered again; it is only staked. The node
// joins a committee at a later epoch change if its stake ranks high enough.
func Register(ctx context.Context, c *chainclient.Client, wallet *chainclient.Signer, key *bls.SecretKey, r Registration) (RegisterResult, error) {
	var res RegisterResult
	pk := key.PublicKey().Bytes()
	sys, err := c.System(ctx)
	if err != nil {
		return res, err
	}
	// A registration costs the chain's node registration fee even when it fails, so a key
	// registered before is looked up first.
	findKey := func() (bool, error) {
		pools, err := c.Pools(ctx)
		if err != nil {
			return false, err
		}
		for _, p := range pools {
			if p.PublicKey == pk {
				if p.Operator != wallet.Address() {
					return false, fmt.Errorf("daemon: the BLS key is registered for node %s, operated by %s, not by this wallet", p.NodeID, p.Operator)
				}
				res.NodeID = p.NodeID
				return true, nil
			}
		}
		return false, nil
	}
	found, err := findKey()
	if err != nil {
		return res, err
	}
	if !found {
		// The proof of possession is for the current epoch: if the epoch changes before the
		// transaction executes, the chain refuses it, and it is signed again for the new
		// epoch (a bounded number of times: each attempt pays the fee).
		var tx *chainclient.TxResult
		for attempt := 1; ; attempt++ {
			tx, err = c.Submit(ctx, wallet, &chain.RegisterNode{
				Name: r.Name, NetworkAddress: r.NetworkAddress, PublicKey: pk, NetworkPublicKey: r.NetworkKey,
				ProofOfPossession: key.ProvePossession(sys.Epoch, wallet.Address()).Bytes(),
				CommissionRate:    r.CommissionRate, StoragePrice: r.StoragePrice, WritePrice: r.WritePrice, Capacity: r.Capacity,
			})
			if !errors.Is(err, chain.ErrBadProofOfPossession) || attempt == maxPossessionAttempts {
				break
			}
			now, serr := c.System(ctx)
			if serr != nil || now.Epoch == sys.Epoch {
				break // not an epoch change: the key or proof is bad
			}
			sys = now
		}
		switch {
		case err == nil:
			res.NodeID, res.Registered = tx.Created[0], true
		case errors.Is(err, chain.ErrDuplicateKey):
			// Registered concurrently since the lookup.
			if found, ferr := findKey(); ferr != nil || !found {
				if ferr != nil {
					return res, ferr
				}
				return res, err
			}
		default:
			return res, fmt.Errorf("daemon: registering the node: %w", err)
		}
	}
	if r.Stake > 0 {
		tx, err := c.Submit(ctx, wallet, &chain.Stake{Node: res.NodeID, Amount: r.Stake})
		if err != nil {
			return res, fmt.Errorf("daemon: staking with node %s: %w", res.NodeID, err)
		}
		res.StakedWal = tx.Created[0]
	}
	return res, nil
}
