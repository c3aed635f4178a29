package abciapp

import (
	"context"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	abci "github.com/cometbft/cometbft/abci/types"
)

// Block is a decided block as the application sees it.
type Block struct {
	Height int64
	Time   time.Time
	Txs    [][]byte
}

// Replay executes a chain from scratch on a fresh in-memory App: InitChain with the genesis
// (chain ID, genesis time and JSON app state as in the CometBFT genesis), then each block
// that next returns, in order, until next returns ok == false. It calls check with the app
// hash after each block (height 0 is the genesis state); a non-nil error from check stops
// the replay. Tools use it to verify a node: the same blocks must give the same app hashes.
func Replay(chainID string, genesisTime time.Time, appState []byte, next func() (Block, bool, error), check func(height int64, appHash [32]byte) error) error {
	a, err := Open(Options{Dir: "replay", FS: vfs.NewMem()})
	if err != nil {
		return err
	}
	defer a.Close()
	ctx := context.Background()
	res, err := a.InitChain(ctx, &abci.RequestInitChain{ChainId: chainID, Time: genesisTime, AppStateBytes: appState, InitialHeight: 1})
	if err != nil {
		return err
	}
	var hash [32]byte
	copy(hash[:], res.AppHash)
	if err := check(0, hash); err != nil {
		return err
	}
	for {
		b, ok, err := next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		fin, err := a.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: b.Height, Time: b.Time, Txs: b.Txs})
		if err != nil {
			return err
		}
		if _, err := a.Commit(ctx, &abci.RequestCommit{}); err != nil {
			return err
		}
		if len(fin.AppHash) != 32 {
			return fmt.Errorf("abciapp: replay: app hash of %d bytes", len(fin.AppHash))
		}
		copy(hash[:], fin.AppHash)
		if err := check(b.Height, hash); err != nil {
			return err
		}
	}
}
