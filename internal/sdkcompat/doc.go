// Package sdkcompat tests walrus-go against Mysten's own TypeScript SDK. It has no code of
// its own outside its tests: TestTypeScriptSDK installs the SDK (@mysten/walrus) and its
// WASM encoder (@mysten/walrus-wasm) at the versions pinned by js/package-lock.json
// (`npm ci`), starts a network of real processes (a CometBFT validator and storage nodes,
// each a `walrus` process, over TLS on loopback) and drives it with js/sdkcompat.mjs, a
// Node.js script that does what the SDK does and reports what it saw.
//
// What it shows, with an encoder and a client written independently of ours:
//   - the SDK's StorageNodeClient writes metadata and slivers encoded by walrus-wasm to our
//     nodes and reads statuses, metadata and slivers back, byte for byte;
//   - the nodes' storage confirmations verify with walrus-wasm's BLS against the keys on our
//     chain, and their aggregate, made by walrus-wasm, certifies the blob on our chain;
//   - walrus-wasm decodes the slivers our nodes return, for blobs it encoded and for blobs
//     our Go client stored;
//   - the SDK's UploadRelayClient stores blobs (permanent, deletable, and with a tip paid
//     on our chain with the memo the SDK computes) through our upload relay (`walrus
//     upload-relay` processes, over HTTP on loopback), and the certificate the relay
//     returns certifies them on our chain;
//   - the SDK parses our error answers into its error classes.
//
// Registration on chain is done from Go (the SDK registers through Sui transactions).
// Node and npm must be installed: the test fails, never skips, without them. See
// js/README.md for the pinned versions and how to regenerate the lock file.
package sdkcompat
