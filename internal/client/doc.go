// Package client is the Walrus client SDK: it stores blobs on and reads them from a
// committee of storage nodes, with the chain as the control plane. The CLI, the publisher
// and the aggregator are built on it.
//
// # Store
//
// Client.Store encodes a blob with RedStuff and, unless forced, first checks whether it is
// already certified for long enough (the result is then AlreadyCertified and nothing is
// uploaded). Otherwise it reuses an owned uncertified registration of the same blob, or
// an owned Storage resource that covers the size and lifetime, or reserves space and
// registers the blob in one transaction. The chain reads that do not depend on the blob
// (system state, the wallet's balance and Storage objects) run concurrently. While the
// registration is in flight it uploads (as pending uploads, unless
// Config.DisablePendingUploads) the metadata and every
// sliver pair a node holds to each committee member in one batched request per node,
// concurrently (Config.MaxConcurrentUploads) and with retries and backoff (a node that
// has not seen the registration yet is retried quickly; before a body of more than 4 MiB
// the client waits for the registration with small status requests), collects
// BLS-signed storage confirmations (asked for once the registration transaction was
// admitted; each node answers once it has seen the registration land and stored its
// slivers) until the signers hold a quorum of the shards
// (3w >= 2n+1), aggregates them into the chain certificate and certifies the blob.
// Uploads to the remaining nodes go on in the background for a bounded time (the tail,
// Config.TailFactor and Config.TailBase); Client.Close waits for them. If the epoch
// changes during a store, the confirmations are collected again from the new committee.
//
// # Read
//
// Client.Read checks the blob's status on the chain (not found, invalid), fetches verified
// metadata from any node, then primary slivers from the nodes, systematic ones first,
// verifying each against the metadata, until n-2f are verified, decodes and runs the
// consistency check. During an epoch change, blobs certified before the current epoch are
// read from the previous committee, which still holds them, with the other committee as a
// fallback.
//
// # Errors
//
// Errors wrap the sentinels of errors.go (ErrNotFound, ErrInvalidBlob, ErrUnavailable,
// ErrInvalidEpochs, ...) and, for chain failures, the chain's own sentinels (such as
// chain.ErrInsufficientFunds); compare with errors.Is.
//
// # Memory
//
// A store's encoding (its sliver pairs, about 3.5 times the blob at 100 shards besides the
// systematic slivers, which alias the blob) is recycled: once the store and every upload
// of its slivers have ended (the tail after Store returned included, the same count as
// WithUploadGroup), its buffers go to the Client's idle redstuff.Encoder of that shard
// count, and the next store encodes into them instead of fresh memory. No buffer is
// handed to an encode while an upload may still read it. A Client keeps at most one
// Encoder and one recycled buffer set per shard count (the most recent); an encode drops
// a set too small or more than twice the size it needs; everything kept is dropped once
// no store has used it for 30 seconds, and by Close. So an idle Client holds no sliver
// buffers, and a busy one at most one set beyond the stores running. KeptBytes reports
// what is kept, and OnKeptChange announces its changes, for a caller that accounts its
// process's memory (the gateway sets the process's memory limit from it); the buffers
// are kept before a WithUploadGroup's group sees the store's last upload end.
//
// # Concurrency
//
// A Client is safe for concurrent use. It starts goroutines only inside calls, for the
// tail uploads of a store, which Close waits for, and a timer that drops the kept
// encoding buffers once idle.
package client
