package chainclient

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// Query sends a raw chain query (a chain.Query* path and its BCS request) and returns the
// BCS response and the committed height it was answered at. A chain error comes back as an
// *Error.
func (c *Client) Query(ctx context.Context, path string, data []byte) ([]byte, int64, error) {
	res, err := c.rpc.ABCIQuery(ctx, path, data)
	if err != nil {
		return nil, 0, fmt.Errorf("chainclient: query %s: %w", path, err)
	}
	r := res.Response
	if r.Code != 0 {
		return nil, r.Height, &Error{Code: chain.Code(r.Code), Log: r.Log, Query: path, Height: r.Height}
	}
	return r.Value, r.Height, nil
}

// query runs a query and decodes its response.
func query[T any](ctx context.Context, c *Client, path string, data []byte, decode func([]byte) (T, error)) (T, error) {
	raw, _, err := c.Query(ctx, path, data)
	if err != nil {
		var zero T
		return zero, err
	}
	v, err := decode(raw)
	if err != nil {
		var zero T
		return zero, fmt.Errorf("chainclient: query %s: %w", path, err)
	}
	return v, nil
}

// Params returns the system parameters. They are fixed at genesis, so the first answer is
// kept; the one that governance can change (EpochDuration) may therefore be stale in a
// long-lived client: Settings has the current value. With Options.ChainID set, a chain with
// another ID gives ErrChainID.
func (c *Client) Params(ctx context.Context) (chain.Params, error) {
	if p := c.params.Load(); p != nil {
		return *p, nil
	}
	p, err := query(ctx, c, chain.QueryParams, nil, chain.DecodeParams)
	if err != nil {
		return chain.Params{}, err
	}
	if c.opts.ChainID != "" && p.ChainID != c.opts.ChainID {
		return chain.Params{}, fmt.Errorf("%w: its chain ID is %q, the client is configured for %q", ErrChainID, p.ChainID, c.opts.ChainID)
	}
	c.params.Store(&p)
	return p, nil
}

// System returns the system state: epoch, epoch state, prices, capacity, supply.
func (c *Client) System(ctx context.Context) (chain.SystemState, error) {
	return query(ctx, c, chain.QuerySystem, nil, chain.DecodeSystemState)
}

// Committee returns the committee of the current epoch.
func (c *Client) Committee(ctx context.Context) (chain.CommitteeInfo, error) {
	return query(ctx, c, chain.QueryCommittee, nil, chain.DecodeCommitteeInfo)
}

// CommitteeAt returns the committee of an epoch (the next epoch's exists once it was
// selected mid-epoch).
func (c *Client) CommitteeAt(ctx context.Context, epoch uint32) (chain.CommitteeInfo, error) {
	return query(ctx, c, chain.QueryCommittee, binary.LittleEndian.AppendUint32(nil, epoch), chain.DecodeCommitteeInfo)
}

// Account returns an account's balance and next nonce (zero for an unknown address).
func (c *Client) Account(ctx context.Context, addr chain.Address) (chain.Account, error) {
	return query(ctx, c, chain.QueryAccount, addr[:], chain.DecodeAccount)
}

// Object returns an object (a *chain.Storage, *chain.Blob or *chain.StakedWal); an
// unknown ID gives an *Error wrapping chain.ErrNotFound.
func (c *Client) Object(ctx context.Context, id chain.ObjectID) (chain.Object, error) {
	return query(ctx, c, chain.QueryObject, id[:], chain.DecodeObject)
}

// Blob returns a Blob object.
func (c *Client) Blob(ctx context.Context, id chain.ObjectID) (*chain.Blob, error) {
	o, err := c.Object(ctx, id)
	if err != nil {
		return nil, err
	}
	b, ok := o.(*chain.Blob)
	if !ok {
		return nil, fmt.Errorf("chainclient: object %s is a %s, not a blob: %w", id, o.Kind(), chain.ErrWrongObjectKind)
	}
	return b, nil
}

// BlobStatus returns the aggregated status of a blob ID (all counts zero if it was never
// registered).
func (c *Client) BlobStatus(ctx context.Context, id redstuff.BlobID) (chain.BlobStatus, error) {
	return query(ctx, c, chain.QueryBlobStatus, id[:], chain.DecodeBlobStatus)
}

// Owned returns one page of the objects of a kind owned by an address.
func (c *Client) Owned(ctx context.Context, r chain.OwnedRequest) (chain.ObjectPage, error) {
	return query(ctx, c, chain.QueryOwned, r.Encode(), chain.DecodeObjectPage)
}

// AllOwned returns every object of a kind owned by an address, paging through Owned. The
// pages are read at possibly different heights.
func (c *Client) AllOwned(ctx context.Context, owner chain.Address, kind chain.ObjectKind) ([]chain.Object, error) {
	var out []chain.Object
	r := chain.OwnedRequest{Owner: owner, Kind: kind}
	for {
		page, err := c.Owned(ctx, r)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Objects...)
		if !page.HasNext {
			return out, nil
		}
		r.HasAfter, r.After = true, page.Next
	}
}

// PoolPage returns one page of the staking pools, in node ID order.
func (c *Client) PoolPage(ctx context.Context, r chain.PoolsRequest) (chain.PoolPage, error) {
	return query(ctx, c, chain.QueryPools, r.Encode(), chain.DecodePoolPage)
}

// Pools returns every staking pool (storage node), in node ID order, paging through
// PoolPage. The pages are read at possibly different heights.
func (c *Client) Pools(ctx context.Context) ([]chain.Pool, error) {
	var out []chain.Pool
	var r chain.PoolsRequest
	for {
		page, err := c.PoolPage(ctx, r)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Pools...)
		if !page.HasNext {
			return out, nil
		}
		r = chain.PoolsRequest{HasAfter: true, After: page.Next}
	}
}

// Pool returns the staking pool of a node.
func (c *Client) Pool(ctx context.Context, node chain.ObjectID) (chain.Pool, error) {
	return query(ctx, c, chain.QueryPool, node[:], chain.DecodePool)
}

// Events returns the events with sequence numbers from cursor on, at most limit (0 means
// chain.MaxPageSize), and the committed height they were read at. See Follower for
// following the log.
func (c *Client) Events(ctx context.Context, cursor uint64, limit uint32) (chain.EventPage, int64, error) {
	raw, h, err := c.Query(ctx, chain.QueryEvents, chain.EventsRequest{Cursor: cursor, Limit: limit}.Encode())
	if err != nil {
		return chain.EventPage{}, h, err
	}
	page, err := chain.DecodeEventPage(raw)
	if err != nil {
		return chain.EventPage{}, h, fmt.Errorf("chainclient: query %s: %w", chain.QueryEvents, err)
	}
	return page, h, nil
}
