// Package chainclient is the client of the Walrus chain: it signs and submits
// transactions, waits for their results, answers typed queries and follows the chain's
// event log. It works over CometBFT's RPC client interface, either in-process
// (chainnode.Node.Client) or over HTTP (Dial).
//
// # Transactions
//
// A Signer holds an account's ed25519 key (LoadSigner and Signer.SaveNew read and write key
// files with permissions 0600). Client.Submit signs a payload with the sender's next nonce
// and the chain's minimum fee, sends it with BroadcastTxSync (never BroadcastTxCommit) and
// waits until a committed block holds it, returning a TxResult (code, fee, events, created
// object IDs, height). Results are found by reading the blocks after the transaction's
// submission (Block and BlockResults; the node runs no transaction indexer) once the
// application has committed them, so a query made after Submit returns already sees the
// transaction's effects. SubmitAsync returns after admission, for pipelining several
// transactions; the Client orders each sender's submissions by nonce and reads the nonce
// from the chain again after any outcome that leaves it in doubt. A node's admission does
// not promise a block (the validator may die before gossiping the transaction, peers behind
// may refuse it): a transaction unseen for Options.Resend is sent again, to every endpoint
// of a DialAll client, and its wait ends with ErrTxDropped once another transaction has
// used its nonce.
//
// Chain errors are *Error values carrying the chain code and wrapping the chain's sentinel
// error, so errors.Is(err, chain.ErrInsufficientFunds) holds for a transaction rejected
// for lack of funds, whether at admission (Height 0: nothing changed) or in its block.
//
// # Events
//
// A Follower pages through the event log by cursor (the sequence number of the next
// event), waking on new blocks, and retries through node restarts. It never relies on
// websocket event delivery, which CometBFT drops under load. The caller persists the
// cursor with the effects of the events it applied.
package chainclient
