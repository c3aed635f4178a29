// Package chainnode runs a Walrus chain validator in-process: a CometBFT v0.38 node whose
// application is abciapp.App, plus generators for the genesis and the keys of a
// single-validator devnet or of an N-validator network.
//
// A devnet validator, programmatically:
//
//	cfg, err := chainnode.GenerateSingle(chainnode.Config{Home: dir}, genesis)
//	node, err := chainnode.Start(cfg)
//	defer node.Close()
//	client, err := chainclient.New(node.Client(), chainclient.Options{})
//
// Settings (see Config): blocks are made only when transactions arrive, plus a heartbeat
// empty block every few seconds so that BFT time advances for the epochs; a validator moves
// to the next height as soon as it has the precommits (skip_timeout_commit); no transaction
// indexer (clients follow the chain's own event log); short flush and gossip intervals for
// validators on one LAN; large RPC subscription buffers. CometBFT's messages go to slog
// through NewCometLogger.
//
// The home directory holds config/genesis.json (the CometBFT genesis, whose app_state is the
// chain genesis as abciapp.EncodeAppState writes it), config/priv_validator_key.json,
// config/node_key.json, data/ (CometBFT's block store, state, evidence, consensus WAL,
// priv_validator_state.json) and data/app (the application state). No config.toml is read:
// the Config struct is the whole configuration, and the command line persists it in its own
// file.
package chainnode
