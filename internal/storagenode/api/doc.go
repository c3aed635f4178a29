// Package api serves a storage node's REST API over net/http, with Walrus's paths and
// response shapes (walrus-spec §4.1), plus a batched upload endpoint of this project.
//
// # Endpoints
//
//	GET  /v1/blobs/{blob_id}/metadata                          BCS BlobMetadataWithId (assembled from
//	                                                           peers if the node keeps a partial copy)
//	PUT  /v1/blobs/{blob_id}/metadata[?pending=true]           BCS BlobMetadata; 201 stored, 200 already stored,
//	                                                           202 buffered pending registration
//	GET  /v1/blobs/{blob_id}/metadata/status                   "stored" | "nonexistent"
//	GET  /v1/blobs/{blob_id}/metadata/pairs[?pairs=i,j,..]     BCS redstuff.PartialMetadata of the node's
//	                                                           own copy (our extension)
//	PUT  /v1/blobs/{blob_id}/slivers[?pending=true]            batched upload (see EncodeBatch); 201 | 200 | 202
//	GET  /v1/blobs/{blob_id}/slivers/{pair}/{primary|secondary}[?pair_proof=true]
//	                                                           BCS SliverData; with pair_proof, header
//	                                                           X-Walrus-Pair-Proof (PairProofHeader)
//	PUT  /v1/blobs/{blob_id}/slivers/{pair}/{primary|secondary}[?pending=true]  BCS SliverData; 201 | 200 | 202
//	GET  /v1/blobs/{blob_id}/slivers/{pair}/{primary|secondary}/status  "stored" | "nonexistent"
//	GET  /v1/blobs/{blob_id}/confirmation/permanent            {"signed": SignedMessage}
//	GET  /v1/blobs/{blob_id}/confirmation/deletable/{object_id}
//	     [?wait_for_registration=true[&wait_millis=N]]         (both confirmation routes)
//	GET  /v1/blobs/{blob_id}/recoverySymbols?id=P-S[&id=..][&proofAxis=..]
//	GET  /v1/blobs/{blob_id}/recoverySymbols?targetSliver=I&targetType=primary|secondary
//	                                                           BCS vector<GeneralRecoverySymbol>
//	GET  /v1/blobs/{blob_id}/decodingSymbols?targetSlivers=I[&targetSlivers=..]&targetType=primary|secondary
//	                                                           BCS map<u16, vector<ByAxis<DecodingSymbol>>>
//	                                                           (storagenode.EncodeDecodingSymbols), no proofs
//	POST /v1/blobs/{blob_id}/inconsistencyProof/{primary|secondary}
//	                                                           BCS InconsistencyProof; SignedMessage
//	GET  /v1/blobs/{blob_id}/status                            BlobStatus
//	GET  /v1/health[?detailed=true]                            HealthInfo
//	GET  /v1/api                                               this API's OpenAPI document (JSON)
//	POST /v1/migrate/sync_shard                                BCS SignedMessage<SyncShardMsg>;
//	                                                           BCS SyncShardResponse; only from the
//	                                                           shard's owner (Options.ShardOwners), for
//	                                                           the node's current or previous epoch
//	POST /v1/challenges/answers                                BCS SignedMessage<ChallengeAnswersMsg>;
//	                                                           BCS vector<Option<GeneralRecoverySymbol>>;
//	                                                           only from a committee member
//	                                                           (Options.ChallengeMembers)
//	GET  /v1/challenges/{epoch}/attestations/{node_id}         SignedMessage: this node's attestation that
//	                                                           node_id passed its challenge of epoch
//
// JSON answers use Walrus's success envelope {"success": {"code", "data"}}; failures the
// Google-style envelope {"error": {"code", "status", "message", "details": [{"@type":
// "ErrorInfo", "reason", "domain", "metadata"}]}}, with the status, reason and domain
// ("storage.walrus.space", or "global" for internal errors and unavailability, as Walrus
// has them) of one table mapping errors (see SpecOf and ErrorFor). Every (code, status)
// pair is one of Walrus's (WalrusStatus), so Walrus's clients parse the body: a body over
// its limit is 403 SIZE_EXCEEDED, a body too slow 504 DEADLINE_EXCEEDED; the one
// exception is the 405 of a wrong method, which Walrus sends without a body. Binary answers are
// application/octet-stream. A known path requested with a method it does not serve gets
// 405 (METHOD_NOT_ALLOWED) with an Allow header; OPTIONS on a known path gets 204 with
// Allow; an unknown path gets 404. CORS is open on every answer (any origin, the methods
// above, any header), as on Walrus's nodes: the node spends nothing on a caller's behalf.
//
// # Pending uploads
//
// As on Walrus's nodes, an upload with ?pending=true may come before the node has seen
// the blob's registration: it is verified as any upload, buffered in memory (bounded; see
// storagenode.PendingConfig) and answered 202 ("metadata buffered pending registration",
// "sliver buffered pending registration"), and stored when the registration event is
// applied. A pending upload of a blob already registered is stored at once, still
// answered 202 when it stored something. A full buffer answers 400 CACHE_SATURATED. A
// pending sliver needs the blob's metadata first (stored or buffered). A confirmation
// request with wait_for_registration=true whose blob is not registered waits for the
// registration, for wait_millis milliseconds or Options.ConfirmationLongPollMax (5 s),
// whichever is less, but only if the node buffers pending data of the blob and a slot of
// Options.MaxConcurrentLongPolls is free; otherwise it is answered at once.
//
// # Limits
//
// Every body is read with a limit derived from the shard count and the blob: metadata
// exactly its size for n shards; a sliver exactly the size its stored metadata implies; a
// batched upload at most the metadata and one maximal pair per owned shard (and exactly its
// Content-Length); an inconsistency proof the size of the required number of symbols; a
// shard sync request the size of a signed request (its answer is capped by
// MaxSyncShardSlivers and MaxSyncShardBytes). Larger bodies get 403 (SIZE_EXCEEDED, BODY_TOO_LARGE).
//
// A body must arrive at Options.MinBodyRate after Options.BodyGrace (504 BODY_TOO_SLOW otherwise), and
// the bytes received are counted against the upload memory budget (Options.MaxUploadBytes)
// as they arrive, so a client that sends headers and stalls holds neither memory nor a
// slot, and one that sends slowly is cut off. The cheap checks come before the body: the
// blob is registered, the declared length is within the endpoint's limit and fits in the
// free budget. Uploads take one of Options.MaxConcurrentUploads slots only once their body
// has arrived (a batched upload, verified by the node's workers as it streams, before it
// commits), waiting for one at most Options.UploadSlotWait. Shard syncs have slots of
// their own, taken after the request has been read and parsed and its epoch (the node's
// current or previous one) checked. Requests without a body in flight
// (Options.MaxConcurrentRequests; PUT and POST are not counted, so stalled bodies cannot
// use it up) and recovery symbol requests are bounded too. Beyond a limit the node
// answers 429 rather than queueing.
//
// # Safety
//
// Handlers parse strictly, verify everything before storing and store each request in
// one batch or not at all, so a rejected request leaves the store unchanged. They do not
// panic on any input; a panic would still be answered with a 500 error, not a crash.
package api
