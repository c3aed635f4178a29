// Package uploadrelay is Walrus's upload relay: a server that takes a whole blob from a
// client in one request, encodes it, sends the slivers and metadata to the storage nodes,
// collects their confirmations and answers with the aggregated confirmation certificate,
// which the client then submits on chain to certify the blob. A browser or a phone then
// sends the blob once instead of about 4.5 times, over one connection instead of one per
// node. The client still registers and certifies the blob itself.
//
// The wire format is Walrus's (crates walrus-upload-relay and walrus-sdk's upload_relay
// module, and the TypeScript SDK's UploadRelayClient):
//
//	GET  /v1/tip-config                  → "no_tip" or {"send_tip": {"address", "kind"}}
//	POST /v1/blob-upload-relay?blob_id=… → {"blob_id": [32 numbers], "confirmation_certificate":
//	     [&tx_id=…&nonce=…]                  {"signers": [u16], "serialized_message": [bytes],
//	     [&deletable_blob_object=…]           "signature": base64}}
//	     [&encoding_type=RS2]
//
// Errors are plain-text bodies, with Walrus's status codes: 400 for a bad request, 401 when
// the tip's commitment does not match the blob, 402 when the tip is missing or too small,
// 413 for a body over the limit, 500 when the upload to the nodes failed. See
// docs/upload-relay.md.
//
// A relay may ask for a tip: a chain.TransferWithMemo to the relay's address of at least
// the tip, whose memo is the BCS encoding of a HashedAuthPackage (the blob's SHA-256, the
// SHA-256 of a client-chosen nonce, and the blob's length). The client sends the nonce
// with the upload; the relay checks the memo against the blob it received, so a tip pays
// for one blob only, and accepts each tip transaction once.
//
// Server is the HTTP handler; TipLedger follows the chain's event log for tips; Client is
// the client side, used by internal/client to store through a relay.
package uploadrelay
