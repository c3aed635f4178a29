package client

import (
	"context"
	"fmt"

	"github.com/walrus-go/walrus/internal/chain"
)

// StakedWals returns the StakedWal objects the wallet owns, in object ID order.
func (c *Client) StakedWals(ctx context.Context) ([]*chain.StakedWal, error) {
	if c.cfg.Signer == nil {
		return nil, ErrNoWallet
	}
	objs, err := c.chain.AllOwned(ctx, c.cfg.Signer.Address(), chain.KindStakedWal)
	if err != nil {
		return nil, fmt.Errorf("client: listing owned stakes: %w", err)
	}
	var out []*chain.StakedWal
	for _, o := range objs {
		if sw, ok := o.(*chain.StakedWal); ok {
			out = append(out, sw)
		}
	}
	return out, nil
}

// StakeTx is the outcome of one staking transaction: the StakedWal it was about (as it
// was before the transaction), the chain's transaction digest, and what the transaction
// did: Paid FROST paid out to the wallet (a withdrawal, or a request for stake not active
// yet, which pays back at once), or WithdrawEpoch, the epoch from which the stake can be
// withdrawn (a request, if it paid nothing).
type StakeTx struct {
	StakedWal     *chain.StakedWal
	Digest        [32]byte
	Paid          uint64
	PaidOut       bool
	WithdrawEpoch uint32
	// Penalty is the stake-shift penalty kept back from Paid (chain.StakeShiftPenalized):
	// the stake was active for ActiveEpochs, fewer than the chain's minimum.
	Penalty      uint64
	ActiveEpochs uint32
}

// RequestWithdrawStake starts the withdrawal of owned StakedWal objects, one transaction
// each, in order; stake that is not active yet is paid back at once. It returns the
// transactions done before the first failure. Errors: chain.ErrNotWithdrawable (already
// requested), chain.ErrNotOwner, chain.ErrNotFound, ...
func (c *Client) RequestWithdrawStake(ctx context.Context, stakes []*chain.StakedWal) ([]StakeTx, error) {
	return c.stakeTxs(ctx, stakes, "requesting the withdrawal of", func(id chain.ObjectID) chain.Payload {
		return &chain.RequestWithdrawStake{StakedWal: id}
	})
}

// WithdrawStake pays out owned StakedWal objects whose withdrawal epoch has come, one
// transaction each, in order. It returns the transactions done before the first failure.
// Errors: chain.ErrNotWithdrawable (not requested, or too early), chain.ErrNotOwner, ...
func (c *Client) WithdrawStake(ctx context.Context, stakes []*chain.StakedWal) ([]StakeTx, error) {
	return c.stakeTxs(ctx, stakes, "withdrawing", func(id chain.ObjectID) chain.Payload {
		return &chain.WithdrawStake{StakedWal: id}
	})
}

func (c *Client) stakeTxs(ctx context.Context, stakes []*chain.StakedWal, what string, payload func(chain.ObjectID) chain.Payload) ([]StakeTx, error) {
	if c.cfg.Signer == nil {
		return nil, ErrNoWallet
	}
	var out []StakeTx
	for _, sw := range stakes {
		res, err := c.chain.Submit(ctx, c.cfg.Signer, payload(sw.ID))
		if err != nil {
			return out, fmt.Errorf("client: %s stake %s: %w", what, sw.ID, err)
		}
		tx := StakeTx{StakedWal: sw, Digest: res.Digest}
		for _, ev := range res.Events {
			switch e := ev.Body.(type) {
			case *chain.StakeWithdrawn:
				if e.StakedWal == sw.ID {
					tx.Paid, tx.PaidOut = e.Amount, true
				}
			case *chain.StakeWithdrawRequested:
				if e.StakedWal == sw.ID {
					tx.WithdrawEpoch = e.WithdrawEpoch
				}
			case *chain.StakeShiftPenalized:
				if e.StakedWal == sw.ID {
					tx.Penalty, tx.ActiveEpochs = e.Penalty, e.ActiveEpochs
				}
			}
		}
		out = append(out, tx)
	}
	return out, nil
}

// StakedWal returns a StakedWal object by ID (chain.ErrWrongObjectKind if the object is of
// another kind).
func (c *Client) StakedWal(ctx context.Context, id chain.ObjectID) (*chain.StakedWal, error) {
	o, err := c.chain.Object(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("client: staked WAL %s: %w", id, err)
	}
	sw, ok := o.(*chain.StakedWal)
	if !ok {
		return nil, fmt.Errorf("client: object %s is a %s, not a staked WAL: %w", id, o.Kind(), chain.ErrWrongObjectKind)
	}
	return sw, nil
}
