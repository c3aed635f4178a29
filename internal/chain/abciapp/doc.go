// Package abciapp is the ABCI 2.0 adapter of the Walrus system state machine
// (internal/chain) and its persistence. It is the only package of walrus-go that imports
// CometBFT's ABCI types.
//
// # Protocol
//
//   - Info reports the height and app hash of the last commit, read from the database, so
//     that after a restart CometBFT's handshake replays the blocks the application is
//     missing.
//   - InitChain decodes the genesis from AppStateBytes (the JSON documented in appstate.go,
//     see EncodeAppState), checks that its chain ID and genesis time equal CometBFT's, runs
//     chain.App.InitChain and commits the genesis state at height 0 with app hash
//     WriteSet.Hash(zero) of the genesis writes.
//   - CheckTx is chain.App.CheckTx.
//   - FinalizeBlock runs chain.App.FinalizeBlock with the block's height and BFT time and
//     returns the transaction results (codes, logs, created object IDs, events; see
//     events.go) and the app hash: the chained hash of the block's sorted writes
//     (WriteSet.Hash of the previous app hash), except that an idle block keeps the
//     previous hash (see App.FinalizeBlock).
//   - Commit applies the block's writes and the (height, app hash) record to pebble in one
//     atomic batch, not synced: CometBFT has synced the block to its block store before,
//     and its handshake replays the blocks the application lost to a crash.
//   - Query answers chain queries (path and BCS data as in chain.View.Query) from the
//     committed state and reports the committed height.
//
// # Persistence
//
// Store is a chain.Store over pebble v2 that reads the committed state and buffers writes
// in a batch until CommitBlock. The database therefore always holds the state of exactly one
// commit record. The genesis commit is synced, block commits are not: a crash (of the
// process or the machine) may take the last blocks from the database (whole batches, in
// order), and Info then reports the earlier height, from which CometBFT's handshake replays
// the blocks from its synced block store (TestCrashRecovery, chainnode's
// TestAppLostBlocksReplayed).
//
// # Determinism
//
// Consensus paths use no clock (block time comes from the request), no floats and no map
// iteration; the state machine is the only source of results.
package abciapp
