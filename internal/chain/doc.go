// Package chain is the Walrus system state machine: the control plane that Walrus runs as Move
// contracts on Sui (walrus::system, walrus::staking), written as a pure, deterministic Go
// application for CometBFT.
//
// # Contract
//
// The state lives in an ordered key-value [Store] supplied by the caller. An [App] reads and
// writes nothing else: no clock (time is the block time passed to BeginBlock), no randomness,
// no network or disk, no goroutines, no floats, no map-order iteration, no sorting without a
// total order. Given the same store contents and the same sequence of calls, every App
// produces byte-identical results, events and writes, which is what lets CometBFT validators
// agree on an app hash.
//
// The driver (the ABCI adapter) calls, once, [App.InitChain] and [App.Commit]; then for each
// block [App.BeginBlock], [App.DeliverTx] per transaction and [App.EndBlock] (or
// [App.FinalizeBlock] for all three), hashes the returned [WriteSet] with [WriteSet.Hash] and
// calls [App.Commit], which applies the writes to the store in key order. [App.CheckTx]
// (mempool admission) and [App.Query] (BCS queries over the committed state) may be called
// between blocks. An App is not safe for concurrent use.
//
// # Transactions
//
// A [Tx] is BCS (sender ed25519 key, nonce, fee, payload enum, signature); the signature covers
// a domain-separated message that includes the chain ID. Account addresses are Blake2b-256(0x00
// ‖ public key); balances are in FROST (10^9 per WAL). Every result carries a [Code] from one
// table (codes.go). A transaction rejected before execution (malformed, bad signature, wrong
// nonce, fee too low or unpayable) changes nothing; a transaction whose operation fails pays
// its fee and advances its nonce but changes nothing else and emits no events.
//
// Fees pay for what a transaction costs the validators: the minimum fee of a payload
// ([Params.MinFeeFor]) adds Params.SignatureFee to Params.MinFee when the operation verifies
// a BLS signature (certify, invalidate, register a node) and Params.NodeRegistrationFee to a
// node registration, whose pool every epoch change rewrites. Admission checks the fee before
// any signature of the payload is verified. A faucet request may pay its fee out of its mint
// only if the mint will succeed (within Params.FaucetMax per request, FaucetAccountMax per
// account and FaucetTotalMax in all), so every admitted transaction advances its nonce and
// the same bytes are never executed twice.
//
// The payloads mirror Walrus: storage resources (reserve, split, fuse, transfer, destroy),
// blobs (register, reserve and register in one all-or-nothing transaction as Walrus's
// clients do in one programmable transaction, certify with a BLS quorum certificate of the
// current committee, extend, delete, burn, attributes, invalidate, shared and funded blobs),
// staking (register a node with a proof of possession, stake, withdraw, commission, votes),
// epoch sync and governance slashing. Objects have IDs Blake2b-256(tx digest ‖ creation index).
//
// # Epochs
//
// Epochs follow block time as in Walrus's staking_inner.move: half an epoch after an epoch's
// change completed, the next committee is selected (stake ranking, D'Hondt apportionment with
// a per-node cap, minimal shard movement; EpochParametersSelected); at the end of the epoch the
// reward pool is paid out, the new committee takes over (EpochChangeStart, ShardsReceived) and,
// once nodes holding a quorum of shards send EpochSyncDone, EpochChangeDone follows. If no
// quorum has synced by the sync deadline (Params.EpochSyncTimeout of block time after the
// change started; default half an epoch), the first block at or after it completes the change
// anyway. Only members that sent EpochSyncDone before the deadline are paid for the epoch; the
// parts of the others are burned.
//
// # Staking
//
// Stake is counted by the selection of the committee it activates in, and it stays for the
// epochs it was counted for. New stake activates at the next epoch, or the one after if the
// next committee is already selected. Until a selection can have counted it, it can be
// withdrawn at once (WithdrawStake or RequestWithdrawStake). Once counted it must be
// requested out: stake not active yet stays through its activation epoch and is withdrawable
// from the epoch after; active stake is withdrawable from the next epoch, or the one after if
// its pool is in the selected next committee. A withdrawal pays the stake's pool shares (its
// principal at the activation epoch's exchange rate) at the withdrawal epoch's rate, so it
// includes the rewards of the epochs served. Only pools with stake for an epoch are selected
// into its committee (the genesis committee is fixed by the genesis, and if no pool has any
// stake the committee carries over). A pool without shares earns only its commission; the
// stakers' part is burned.
//
// # Buckets
//
// A Bucket (KindBucket) is an S3-style index kept as chain state, owned by an account (the
// S3 gateway's): its name follows S3's rules and is unique among its owner's buckets; it maps
// object keys (UTF-8, at most 1024 bytes, no NUL) to entries (a blob ID, optionally its Blob
// object, whether it is a chunk manifest, size, ETag, content type, user metadata, block
// time of the write), and holds in-progress multipart uploads and their parts. Payloads
// name a bucket of the sender by name, so only the owner writes; TransferObject moves a
// bucket with its entries to another account. Entries are stored in key order under the
// bucket, so a listing page (prefix, delimiter, cursor, at most 1000 items) is a range scan,
// restarted after each common prefix, never a scan of the bucket. A write that replaces or
// removes an entry or part emits an event carrying it, so that the writer can release its
// blob. Index writes pay Params.IndexByteFee per byte of payload on top of MinFee.
//
// # Sites
//
// A Site (KindSite) is a website owned by an account and transferable by TransferObject: a
// display name, routes (a path or a path prefix ending in "*" mapped to a resource), metadata,
// and resources. A resource is a path of the site mapped to the blob or quilt patch holding its
// content (optionally a byte range of it), the SHA-256 and size of the content and the HTTP
// headers to send with it. Each resource is its own record under the site, so a portal reads
// one resource with one lookup. CreateSite and UpdateSite write up to MaxSiteBatch resources
// per transaction (and MaxTxSize bounds a batch in bytes); both pay Params.IndexByteFee per
// byte of payload. DestroySite deletes a site and its resources. An on-chain site name (a DNS
// label, SetSiteName) is a global record held by the account that set it first, naming one of
// its sites.
//
// # Storage challenges and governance
//
// On a chain whose genesis enables them (Params.Challenge), every epoch challenges each
// committee member on s sampled symbols of the blobs certified and live at the epoch's start
// (docs/challenges.md): members reveal unique BLS signatures that fix the seed
// (ChallengeReveal), QueryChallenge returns each member's items, a certificate of members
// holding 2f+1 shards proves that a member passed (ChallengeCertificate), and at the end of
// the epoch only members with a certificate are paid; the others' parts are burned, and K
// failures in a row burn part of the pool's stake. Withdrawing stake active for fewer than
// m epochs pays a penalty. Committee members vote by shards on proposals to change the
// governed parameters (GovernancePropose, GovernanceVote, [Settings]); an accepted one
// applies at the next epoch start.
//
// # Events and queries
//
// Events are BCS, numbered by a global sequence number and stored in an append-only log that
// clients page through by cursor ([QueryEvents]). Queries ([View]) cover parameters, system
// state, committees per epoch, accounts, objects, objects by owner, pools, aggregated blob
// status, events, and buckets, entries, listings, uploads and parts. Every query that
// returns a list is paged with a cursor and a bounded page size (objects by owner, pools,
// events, buckets, listings, uploads, parts); a committee is returned whole, bounded by the
// shard count.
//
// Storage node network addresses are host:port only ([CheckNetworkAddress]): clients and
// nodes build URLs from them.
//
// The key layout is documented in keys.go.
package chain
