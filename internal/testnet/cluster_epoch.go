package testnet

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/chain/chainnode"
	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/internal/storagenode/daemon"
)

// Join prepares the i-th candidate node (AddCandidate) and registers it on chain with as
// much stake as a genesis node, so that it enters the committee at the next selection.
// The caller starts it.
func (n *Cluster) Join(ctx context.Context, i int) (*ClusterNode, error) {
	nd, op := n.AddCandidate(i)
	_, err := daemon.Register(ctx, n.Chain, op, nd.Keys.BLS, daemon.Registration{
		Name: nd.Name, NetworkAddress: nd.Addr, NetworkKey: nodetls.PublicKey(nd.Keys.Network), CommissionRate: 100, StoragePrice: 1000, WritePrice: 2000,
		Capacity: 1 << 40, Stake: chainnode.DefaultNodeStake,
	})
	return nd, err
}

// Leave makes the node's operator withdraw its stake: at the next committee selection the
// node leaves the committee.
//
// The running node signs its own transactions (EpochSyncDone at every epoch change) with
// the same operator key through another client, so the withdrawal may meet a nonce the
// node's transaction took while that one is still in the mempool; it is sent again, with
// the nonce read again, until the node's transaction has committed.
func (n *Cluster) Leave(ctx context.Context, nd *ClusterNode) error {
	staked, err := n.Chain.AllOwned(ctx, chain.AddressOf(nd.Keys.Operator.Public().(ed25519.PublicKey)), chain.KindStakedWal)
	if err != nil {
		return err
	}
	if len(staked) != 1 {
		return fmt.Errorf("testnet: %s has %d stakes, want 1", nd.Name, len(staked))
	}
	signer := chainclient.NewSigner(nd.Keys.Operator)
	deadline := time.Now().Add(time.Minute)
	for {
		_, err = n.Chain.Submit(ctx, signer, &chain.RequestWithdrawStake{StakedWal: staked[0].ObjectID()})
		if !errors.Is(err, chain.ErrNonce) || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(50 * time.Millisecond) // polling interval: the node's transaction commits with the next block
	}
}

// WaitCommittee waits for the first committee (selected, not necessarily started) with
// joining and without leaving, and returns it.
func (n *Cluster) WaitCommittee(ctx context.Context, joining, leaving *ClusterNode, timeout time.Duration) chain.CommitteeInfo {
	n.T.Helper()
	var target chain.CommitteeInfo
	WaitFor(n.T, timeout, "a committee with the joining node instead of the leaving one", func() (bool, error) {
		sys, err := n.Chain.System(ctx)
		if err != nil {
			return false, err
		}
		for e := uint32(1); e <= sys.Epoch+1; e++ {
			c, err := n.Chain.CommitteeAt(ctx, e)
			if err != nil {
				continue
			}
			has := func(addr string) bool {
				return slices.ContainsFunc(c.Members, func(m chain.MemberInfo) bool { return m.NetworkAddress == addr })
			}
			if has(joining.Addr) && !has(leaving.Addr) {
				target = c
				return true, nil
			}
		}
		return false, nil
	})
	return target
}
