// Package daemon runs a Walrus storage node: the node core (package storagenode) over its
// pebble store, the node REST API (package api) and a Prometheus endpoint, and the drivers
// that make the node follow the chain:
//
//   - the event follower pages through the chain's event log from the node's cursor,
//     translates each page into the node's events (computing, at an epoch change, the
//     shards this node owns from the chain's committee) and applies it with the cursor in
//     one synced batch, so a crash never half-applies a page; it outlives restarts of the
//     chain (the chain client retries) and of the node (it resumes at the stored cursor);
//   - blob sync recovers the metadata and slivers of certified blobs the node lacks, from
//     recovery symbols of the other nodes, asking for exactly the symbols it needs so that
//     it downloads about what it rebuilds (plus Merkle proofs), with bounded concurrency
//     and exponential backoff; an inconsistent encoding leads to an invalid-blob
//     certificate (signatures of f+1 shards' worth of nodes on the inconsistency proof),
//     which the node submits to the chain;
//   - shard sync takes over the shards the node gains at an epoch change from their
//     previous owners with signed, paged sync requests, falls back to RedStuff recovery
//     when an owner does not answer, submits EpochSyncDone and, once the change is done
//     and the new owners have signalled theirs, drops the shards the node handed over;
//   - garbage collection runs once per epoch after a delay derived from the node's key.
//
// Start runs a node in-process (tests and `walrus devnet` use it); `walrus node --config
// FILE` runs one from a configuration file.
//
// # Configuration file
//
// `walrus node --config FILE` reads FILE as YAML into Config, strictly: an unknown key is
// an error naming its line. Relative paths are relative to the directory of FILE.
// Durations are Go durations ("500ms", "30s", "10m"). Only the first five keys are needed;
// the others show their defaults:
//
//	# Storage node configuration (walrus node --config node.yaml).
//	data_dir: db-node-0               # the node's database (DATA_DIR/db); required
//	chain_rpc: http://127.0.0.1:26657 # CometBFT JSON-RPC of a chain validator, trusted (see package storagenode); required
//	bls_key_file: bls.key             # BLS protocol key: 64 hex digits, mode 0600; required
//	network_key_file: network.key     # TLS key: ed25519, PKCS#8 PEM, mode 0600; required
//	wallet_key_file: operator.json    # operator account key file (mode 0600); required
//	chain_rpcs: []                    # more validators of the chain, tried in order when one stops answering
//	listen: 127.0.0.1:9185            # node REST API (HTTPS); port 0 picks a free port
//	plain_http: false                 # serve plain HTTP behind a TLS-terminating proxy
//	public_url: https://127.0.0.1:9185 # how peers and clients reach the API; default https://LISTEN
//	metrics_listen: 127.0.0.1:9184    # Prometheus /metrics, or "off"
//	pprof: false                      # also serve /debug/pprof/ on metrics_listen (keep it private)
//	name: storage-node                # name announced by 'walrus node register'
//	log_level: info                   # debug, info, warn or error
//	cache_bytes: 67108864             # cache of metadata and expanded slivers; negative: none
//	memtable_bytes: 67108864          # storage-engine memtable; each WAL file preallocates ~1.1x on disk
//	max_upload_bytes: 1073741824      # upload bodies held in memory at once
//	min_body_rate: 65536              # request bodies slower than this (bytes/s) ...
//	body_grace: 10s                   # ... after this grace period get 408
//	event_page_size: 1000             # chain events applied per batch (1..1000)
//	blob_sync_concurrency: 10         # blobs recovered at once
//	peer_request_concurrency: 32      # requests to other nodes in flight
//	peer_timeout: 30s                 # one request to another node
//	full_metadata: false              # keep every blob's full metadata (default: only as a holder)
//	retry_min: 1s                     # backoff of failed blob and shard syncs ...
//	retry_max: 1m                     # ... doubling up to this; idle shard syncer pass
//	ingest_quiet: 1s                  # recovery waits this long after a client's upload of the blob ends ...
//	ingest_wait_max: 30s              # ... and no longer than this in all
//	shard_sync_page_size: 1000        # slivers per shard sync request
//	shard_sync_concurrency: 10        # shards synced at once
//	shard_sync_fallback_after: 10m    # previous owner silent this long: recover the shard
//	gc_max_delay: 0s                  # GC delay bound; 0: half an epoch; negative: none
//
// The network address a node announces on chain is the host:port of its https public URL
// (NetworkAddress); clients and peers reach it at https://host:port. The chain accepts
// nothing but host:port (chain.CheckNetworkAddress).
//
// # Keys
//
// The BLS key signs storage confirmations, invalid-blob attestations and shard sync
// requests; its public key identifies the node in the chain's committees.
//
// The network key (ed25519, as Walrus) authenticates the node's connections: the API is
// served over TLS 1.3 with a self-signed certificate over it, built at start, and its
// public key is registered on chain with the node's address. Clients and peers accept the
// connection only if the certificate's key is the registered one (package nodetls): there
// is no certificate authority and no certificate file to renew. 'walrus chain init' writes
// network.key for genesis nodes; 'walrus node register' creates network_key_file if it is
// missing and registers its public key.
//
// # Behind a TLS-terminating proxy
//
// With plain_http: true the node serves plain HTTP on listen, for an operator who puts a
// TLS-terminating proxy in front of it (keep listen on a private address). Clients still
// pin the registered network key, so the proxy must present a certificate over that key.
// network_key_file is a PKCS#8 PEM private key that proxies read as it is; a self-signed
// certificate for it can be made with
//
//	openssl req -new -x509 -key network.key -subj /CN=walrus-node -days 3650 -out network.crt
//
// and the proxy configured with network.key and network.crt (TLS 1.3, HTTP/1.1). The wallet is the
// node's operator account: it signs EpochSyncDone and invalid-blob transactions (and pays
// their fees) and is the account 'walrus node register' registers the node with.
//
// # Metrics
//
// The metrics endpoint serves walrus_node_* series: ingest and served bytes by endpoint,
// recovery bytes downloaded (metadata, symbols, proofs) and rebuilt, shard sync bytes,
// shards by status, event cursor and lag, epoch, pending blob syncs, bad peer responses
// by kind, invalid-blob certificates, EpochSyncDone transactions and garbage collections.
// Daemon.Stats returns the same counters.
package daemon
