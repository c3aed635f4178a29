// Package nodetls secures the connections between clients and storage nodes as Walrus
// does: every node has a network key (ed25519), registered on chain with its node info,
// and serves its API over TLS with a self-signed certificate over that key. A client
// accepts a node's connection only if the certificate's key is the one registered on chain
// for that node: there is no certificate authority, so a man in the middle, who does not
// hold the node's network key, can neither read nor alter slivers, confirmations or shard
// syncs.
//
// Servers get their TLS configuration from ServerConfig and accept connections with
// NewListener, on which a large answer (a sliver) can be written corked (Cork): gathered
// into socket writes of up to 256 KiB rather than one per 16 KiB TLS record. Clients send
// their requests through a Transport and say which key to expect for each request with
// WithPeerKey; the Transport keeps one connection pool per expected key, so a connection
// made for one key is never reused for a request that expects another, and its connections
// read the socket up to 256 KiB at a time rather than a TLS record at a time. CheckPeer
// verifies a finished connection, for callers that bring their own transport.
//
// Key files (LoadKey, SaveKey) hold the private key as PKCS#8 PEM, which TLS-terminating
// proxies read as they are.
package nodetls
