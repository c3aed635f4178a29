package chainclient

import (
	"bytes"
	"context"
	"fmt"

	"github.com/walrus-go/walrus/internal/chain/abciapp"
)

// VerifyAppHashes re-executes the node's chain from its genesis on a fresh in-memory
// application, block by block up to height upTo (0 means the committed height), and checks
// that every app hash equals the one the node's block headers record (the header of block
// h+1 carries the app hash after block h) and, for the last block, the one the application
// reports if it is at that height. It returns the number of blocks re-executed. It reads the
// whole chain, so it is a tool for tests and audits, not for every call.
func (c *Client) VerifyAppHashes(ctx context.Context, upTo int64) (int64, error) {
	info, err := c.rpc.ABCIInfo(ctx)
	if err != nil {
		return 0, fmt.Errorf("chainclient: verify: %w", err)
	}
	top := info.Response.LastBlockHeight
	if upTo == 0 || upTo > top {
		upTo = top
	}
	gen, err := c.rpc.Genesis(ctx)
	if err != nil {
		return 0, fmt.Errorf("chainclient: verify: genesis: %w", err)
	}
	doc := gen.Genesis
	// headerHash returns the app hash recorded after block h: the header of block h+1, or
	// the application's own report when h is its last commit.
	headerHash := func(h int64) ([]byte, error) {
		if h == top {
			return info.Response.LastBlockAppHash, nil
		}
		next := h + 1
		b, err := c.rpc.Block(ctx, &next)
		if err != nil {
			return nil, fmt.Errorf("chainclient: verify: block %d: %w", next, err)
		}
		return b.Block.Header.AppHash, nil
	}
	h := int64(0)
	next := func() (abciapp.Block, bool, error) {
		if h >= upTo {
			return abciapp.Block{}, false, nil
		}
		h++
		b, err := c.rpc.Block(ctx, &h)
		if err != nil {
			return abciapp.Block{}, false, fmt.Errorf("chainclient: verify: block %d: %w", h, err)
		}
		txs := make([][]byte, len(b.Block.Data.Txs))
		for i, tx := range b.Block.Data.Txs {
			txs[i] = tx
		}
		return abciapp.Block{Height: h, Time: b.Block.Header.Time, Txs: txs}, true, nil
	}
	check := func(height int64, got [32]byte) error {
		want, err := headerHash(height)
		if err != nil {
			return err
		}
		if !bytes.Equal(want, got[:]) {
			return fmt.Errorf("chainclient: verify: app hash after block %d is %X on re-execution, %X on the node", height, got, want)
		}
		return nil
	}
	if err := abciapp.Replay(doc.ChainID, doc.GenesisTime, doc.AppState, next, check); err != nil {
		return h, err
	}
	return h, nil
}
