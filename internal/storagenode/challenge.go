package storagenode

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/merkle"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/storagenode/store"
)

// ChallengeItem names one challenged symbol: the symbol at position Symbol (0..n-1) of
// the expanded sliver of axis Axis that shard Shard stores for blob Blob. The chain's
// sampler draws a node's items from the challenge seed; the node answers each with the
// symbol and its Merkle proof against the sliver's hash in the blob's metadata.
type ChallengeItem struct {
	Blob   redstuff.BlobID
	Shard  uint16
	Axis   redstuff.Axis
	Symbol uint16
}

// sliverIndex returns the index of the item's sliver (pair for a primary sliver,
// n-1-pair for a secondary one) in a system of n shards.
func (it ChallengeItem) sliverIndex(n int) int {
	pair := it.Blob.ShardPair(int(it.Shard), n)
	if it.Axis == redstuff.Secondary {
		return n - 1 - pair
	}
	return pair
}

// Challenge is what the node knows of the challenge of one epoch, set by its daemon
// from the chain (SetChallenge):
//
//   - Items are this node's own challenged items, in the chain's order; the node
//     answers them (ChallengeAnswers) to the other committee members.
//   - Blocked are the challenged blobs of every challenged node of the epoch that has
//     no certificate yet: during the challenge window the node serves no data of them
//     (slivers, recovery symbols, decoding symbols, shard sync) to anyone, so that a node
//     that dropped data cannot rebuild it from its peers or by a client read. Metadata
//     stays readable.
//   - BlockCertifiedBefore, if not zero, also blocks every blob first certified in an
//     epoch before it: the whole challenge index. The daemon sets it (to the epoch) from
//     the epoch's start until the seed is fixed, when nobody knows yet which blobs will
//     be challenged, so that no node can rebuild them in advance of the window.
//   - SyncOpen are the shards whose owner changed at the start of Epoch. Their new
//     owner may sync their slivers from this node (ShardSlivers for Epoch) whatever the
//     window blocks: it never held them, so it has nothing it could have dropped and
//     rebuild, and it is challenged on them in this epoch. Blocking them would leave it
//     unable to answer, and, since a member without a certificate keeps its blobs
//     blocked all epoch, unable to fetch them in later epochs either.
type Challenge struct {
	Epoch                uint32
	Items                []ChallengeItem
	Blocked              []redstuff.BlobID
	BlockCertifiedBefore uint32
	SyncOpen             []uint16
}

// challengeState is the installed Challenge, immutable.
type challengeState struct {
	epoch   uint32
	before  uint32 // Challenge.BlockCertifiedBefore
	items   []ChallengeItem
	blocked map[redstuff.BlobID]struct{}
	open    map[uint16]struct{} // Challenge.SyncOpen
}

// MaxChallengeItems bounds the items of one node in one epoch that a node accepts from
// its daemon and answers.
const MaxChallengeItems = 4096

// SetChallenge installs the challenge of an epoch, replacing the previous one: the
// blocked blobs are refused from now on, those no longer blocked are served again. A
// zero Challenge ends the window. It returns ErrMalformed for more than
// MaxChallengeItems items.
func (n *Node) SetChallenge(c Challenge) error {
	if len(c.Items) > MaxChallengeItems {
		return fmt.Errorf("%w: %d challenge items, at most %d", ErrMalformed, len(c.Items), MaxChallengeItems)
	}
	for _, it := range c.Items {
		if int(it.Shard) >= n.n || int(it.Symbol) >= n.n || it.Axis != redstuff.Primary && it.Axis != redstuff.Secondary {
			return fmt.Errorf("%w: challenge item %s shard %d axis %d symbol %d, %d shards", ErrIndexOutOfRange, it.Blob, it.Shard, it.Axis, it.Symbol, n.n)
		}
	}
	s := &challengeState{epoch: c.Epoch, before: c.BlockCertifiedBefore, items: slices.Clone(c.Items), blocked: make(map[redstuff.BlobID]struct{}, len(c.Blocked)), open: make(map[uint16]struct{}, len(c.SyncOpen))}
	for _, id := range c.Blocked {
		s.blocked[id] = struct{}{}
	}
	for _, sh := range c.SyncOpen {
		if int(sh) >= n.n {
			return fmt.Errorf("%w: sync-open shard %d, %d shards", ErrIndexOutOfRange, sh, n.n)
		}
		s.open[sh] = struct{}{}
	}
	n.chal.Store(s)
	return nil
}

// Challenge returns the installed challenge (a copy).
func (n *Node) Challenge() Challenge {
	s := n.chal.Load()
	if s == nil {
		return Challenge{}
	}
	c := Challenge{Epoch: s.epoch, Items: slices.Clone(s.items), BlockCertifiedBefore: s.before}
	for id := range s.blocked {
		c.Blocked = append(c.Blocked, id)
	}
	slices.SortFunc(c.Blocked, func(a, b redstuff.BlobID) int { return slices.Compare(a[:], b[:]) })
	for sh := range s.open {
		c.SyncOpen = append(c.SyncOpen, sh)
	}
	slices.Sort(c.SyncOpen)
	return c
}

// syncOpen reports whether the window lets the owner of shard in epoch sync its slivers
// (Challenge.SyncOpen).
func (n *Node) syncOpen(shard uint16, epoch uint32) bool {
	s := n.chal.Load()
	if s == nil || s.epoch != epoch {
		return false
	}
	_, ok := s.open[shard]
	return ok
}

// checkChallenged returns ErrChallenged if blob id is in the challenge window.
func (n *Node) checkChallenged(id redstuff.BlobID) error {
	s := n.chal.Load()
	if s == nil {
		return nil
	}
	if _, ok := s.blocked[id]; ok {
		return fmt.Errorf("%w: %s in epoch %d", ErrChallenged, id, s.epoch)
	}
	if s.before == 0 {
		return nil
	}
	info, found, err := n.blobInfo(id)
	if err != nil {
		return err
	}
	if found && info.Certified && info.InitialCertifiedEpoch < s.before {
		return fmt.Errorf("%w: %s until the challenge seed of epoch %d is fixed", ErrChallenged, id, s.epoch)
	}
	return nil
}

// ChallengeAnswer is the answer to one challenge item: the symbol with its proof (in the
// form of a recovery symbol from the item's sliver, whose Target is the item's Symbol),
// or nil if the node cannot serve it.
type ChallengeAnswer struct {
	Symbol *redstuff.RecoverySymbol
}

// ChallengeAnswers answers the node's own items [start, start+count) of the challenge
// of epoch (count is clipped to the items there are): each from the stored sliver,
// bypassing the challenge window, with a nil Symbol for an item whose sliver the node
// does not hold. It returns ErrInvalidEpoch if the installed challenge is of another
// epoch (or none is), ErrIndexOutOfRange if start is beyond the items.
func (n *Node) ChallengeAnswers(epoch uint32, start, count int) ([]ChallengeAnswer, error) {
	s := n.chal.Load()
	if s == nil || s.epoch != epoch {
		server := uint32(0)
		if s != nil {
			server = s.epoch
		}
		return nil, &EpochError{Request: epoch, Server: server, Detail: "the node has no challenge for this epoch"}
	}
	if start < 0 || start > len(s.items) || count < 0 {
		return nil, fmt.Errorf("%w: challenge items from %d, %d items", ErrIndexOutOfRange, start, len(s.items))
	}
	items := s.items[start:min(len(s.items), start+count)]
	out := make([]ChallengeAnswer, len(items))
	for i, it := range items {
		sym, err := n.answerItem(it)
		switch {
		case errors.Is(err, ErrSliverNotFound) || errors.Is(err, ErrMetadataNotFound) || errors.Is(err, ErrShardNotAssigned):
			continue
		case err != nil:
			return nil, err
		}
		if n.forge {
			forgeSymbol(&sym)
		}
		out[i].Symbol = &sym
	}
	return out, nil
}

// answerItem reads, expands and proves one challenged symbol from the store, without
// the cache (answers are read once per epoch) and without the challenge window.
func (n *Node) answerItem(it ChallengeItem) (redstuff.RecoverySymbol, error) {
	if !n.st.Load().shards[it.Shard].Readable() {
		return redstuff.RecoverySymbol{}, fmt.Errorf("%w: shard %d", ErrShardNotAssigned, it.Shard)
	}
	m, err := n.metadataForRead(it.Blob)
	if err != nil {
		return redstuff.RecoverySymbol{}, err
	}
	b, err := n.store.Sliver(it.Shard, it.Axis, it.Blob)
	if errors.Is(err, store.ErrNotFound) {
		return redstuff.RecoverySymbol{}, fmt.Errorf("%w: %s sliver of %s in shard %d", ErrSliverNotFound, it.Axis, it.Blob, it.Shard)
	}
	if err != nil {
		return redstuff.RecoverySymbol{}, n.internal("read sliver", err)
	}
	s, err := redstuff.DecodeSliver(b, it.Axis, len(b))
	if err != nil {
		return redstuff.RecoverySymbol{}, n.internal("decode stored sliver", err)
	}
	x, err := n.enc.Expand(m, s)
	if err != nil {
		return redstuff.RecoverySymbol{}, n.internal("expand stored sliver", err)
	}
	sym, err := x.RecoverySymbol(int(it.Symbol))
	if err != nil {
		return redstuff.RecoverySymbol{}, fmt.Errorf("%w: %v", ErrIndexOutOfRange, err)
	}
	return sym, nil
}

// forgeSymbol turns an answer into a forgery (the test fault mode Config.ForgeChallenge
// Answers): the data is replaced by a hash of itself, the proof kept.
func forgeSymbol(s *redstuff.RecoverySymbol) {
	data := make([]byte, len(s.Data))
	h := sha256.Sum256(s.Data)
	for i := range data {
		data[i] = h[i%len(h)] ^ byte(i)
	}
	s.Data = data
}

// VerifyChallengeAnswer checks the answer to item against the blob's metadata stored
// at this node: the symbol must come from the item's sliver, sit at the item's
// position and prove against the sliver's hash. It returns nil for a valid answer,
// ErrChallengeFailed for a missing or wrong one, and ErrMissingMetadata if this node
// does not hold the metadata yet (the caller retries later; the answer is not judged).
// A node that keeps partial metadata without the challenged sliver's pair checks against
// the full metadata assembled from peers (cached); if that fails, ErrMissingMetadata.
func (n *Node) VerifyChallengeAnswer(it ChallengeItem, a ChallengeAnswer) error {
	ctx, cancel := context.WithTimeout(context.Background(), assembleTimeout)
	defer cancel()
	m, err := n.sliverHashView(ctx, it.Blob, it.Axis, it.sliverIndex(n.n))
	if err != nil {
		return err
	}
	return VerifyChallengeAnswer(n.enc, m, it, a)
}

// VerifyChallengeAnswer checks the answer to item against verified metadata m of the
// item's blob (see Node.VerifyChallengeAnswer). Errors wrap ErrChallengeFailed.
func VerifyChallengeAnswer(enc *redstuff.Config, m *redstuff.Metadata, it ChallengeItem, a ChallengeAnswer) error {
	n := enc.NShards()
	s := a.Symbol
	switch {
	case s == nil:
		return fmt.Errorf("%w: no answer for %s shard %d", ErrChallengeFailed, it.Blob, it.Shard)
	case s.Axis != it.Axis.Orthogonal() || s.Index != it.sliverIndex(n) || s.Target != int(it.Symbol):
		return fmt.Errorf("%w: answer for %s shard %d is symbol %s of another sliver or position", ErrChallengeFailed, it.Blob, it.Shard, s.ID())
	}
	if err := enc.VerifyRecoverySymbol(m, s); err != nil {
		return fmt.Errorf("%w: %s shard %d: %v", ErrChallengeFailed, it.Blob, it.Shard, err)
	}
	return nil
}

// EncodeChallengeAnswers returns the BCS of a list of answers, the body of a challenge
// answers response: a vector of Option<GeneralRecoverySymbol>.
func EncodeChallengeAnswers(answers []ChallengeAnswer) []byte {
	var e bcs.Encoder
	e.Len(len(answers))
	for _, a := range answers {
		if a.Symbol == nil {
			e.U8(0)
			continue
		}
		e.U8(1)
		a.Symbol.MarshalBCS(&e)
	}
	return e.Out()
}

// DecodeChallengeAnswers parses a challenge answers response of at most maxCount
// answers with symbols of at most maxData bytes. Errors wrap ErrMalformed. Symbols alias
// b.
func DecodeChallengeAnswers(b []byte, maxCount, maxData int) ([]ChallengeAnswer, error) {
	d := bcs.NewDecoder(b)
	count := d.Len(maxCount)
	if d.Err() != nil {
		return nil, fmt.Errorf("%w: challenge answers: %v", ErrMalformed, d.Err())
	}
	out := make([]ChallengeAnswer, 0, min(count, d.Remaining()+1))
	for range count {
		switch d.U8() {
		case 0:
			out = append(out, ChallengeAnswer{})
		case 1:
			s, err := redstuff.DecodeRecoverySymbol(d, maxData)
			if err != nil {
				return nil, fmt.Errorf("%w: challenge answers: %v", ErrMalformed, err)
			}
			out = append(out, ChallengeAnswer{Symbol: &s})
		default:
			if d.Err() == nil {
				return nil, fmt.Errorf("%w: challenge answers: bad option tag", ErrMalformed)
			}
		}
		if d.Err() != nil {
			break
		}
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("%w: challenge answers: %v", ErrMalformed, err)
	}
	return out, nil
}

// MaxChallengeAnswerBytes returns the largest encoding of count answers with symbols of
// at most maxData bytes in a system of n shards.
func MaxChallengeAnswerBytes(count, maxData, n int) int {
	depth := merkle.Depth(n)
	per := 1 + 1 + 2 + bcs.ULEB128Len(maxData) + maxData + 2 + bcs.ULEB128Len(depth) + depth*(1+merkle.Size)
	return bcs.ULEB128Len(count) + count*per
}

// IntentChallengeAnswers is the intent type of a challenge answers request. It is
// outside Walrus's range of intents and distinct from the chain's challenge reveal (64)
// and attestation (65) intents, so that no signed request can be read as another
// protocol message.
const IntentChallengeAnswers = 66

// ChallengeAnswersRequest asks a challenged node for its answers to items [Start,
// Start+Count) of the challenge of Epoch. Requester is the BLS public key of the
// committee member asking, which signs the request (SignChallengeAnswers).
type ChallengeAnswersRequest struct {
	Epoch     uint32
	Requester bls.PublicKey
	Start     uint32
	Count     uint32
}

// challengeRequestSize is the size of a challenge answers request message.
const challengeRequestSize = 3 + 4 + bls.PublicKeySize + 4 + 4

// ChallengeAnswersMessage returns the message a requester signs: intent
// (IntentChallengeAnswers, 0, 3) ‖ epoch u32 ‖ requester public key ‖ start u32 ‖
// count u32.
func ChallengeAnswersMessage(r ChallengeAnswersRequest) []byte {
	e := bcs.NewEncoder(make([]byte, 0, challengeRequestSize))
	protocolHeader(e, IntentChallengeAnswers, r.Epoch)
	pk := r.Requester.Bytes()
	e.Fixed(pk[:])
	e.U32(r.Start)
	e.U32(r.Count)
	return e.Out()
}

// SignChallengeAnswers returns the signed request of the node with key k.
func SignChallengeAnswers(k *bls.SecretKey, epoch, start, count uint32) SignedMessage {
	msg := ChallengeAnswersMessage(ChallengeAnswersRequest{Epoch: epoch, Requester: k.PublicKey(), Start: start, Count: count})
	return SignedMessage{Message: msg, Signature: k.Sign(msg)}
}

// VerifyChallengeAnswersRequest parses a signed challenge answers request strictly and
// checks its signature against the requester's key in it. Errors wrap ErrMalformed or
// ErrUnauthorized. Whether the requester may ask (a committee member of the epoch) is
// the caller's decision.
func VerifyChallengeAnswersRequest(m SignedMessage) (ChallengeAnswersRequest, error) {
	var r ChallengeAnswersRequest
	d := bcs.NewDecoder(m.Message)
	intent, version, app := d.U8(), d.U8(), d.U8()
	r.Epoch = d.U32()
	raw := d.Fixed(bls.PublicKeySize)
	r.Start = d.U32()
	r.Count = d.U32()
	if err := d.Finish(); err != nil {
		return r, fmt.Errorf("%w: challenge answers request: %v", ErrMalformed, err)
	}
	if intent != IntentChallengeAnswers || version != intentVersion || app != appIDStorage {
		return r, fmt.Errorf("%w: challenge answers request with intent (%d, %d, %d)", ErrMalformed, intent, version, app)
	}
	pk, err := bls.PublicKeyFromBytes(raw)
	if err != nil {
		return r, fmt.Errorf("%w: challenge answers request: requester key: %v", ErrMalformed, err)
	}
	r.Requester = pk
	if err := m.Verify(pk); err != nil {
		return r, fmt.Errorf("%w: challenge answers request not signed by its requester: %v", ErrUnauthorized, err)
	}
	return r, nil
}

// LazyDrop reports whether the lazy test fault (DropSlivers) drops the slivers of blob
// id in shard: a fixed pseudo-random choice of a fraction q of (blob, shard) pairs.
func LazyDrop(id redstuff.BlobID, shard uint16, q float64) bool {
	var b [34]byte
	copy(b[:], id[:])
	binary.LittleEndian.PutUint16(b[32:], shard)
	h := sha256.Sum256(b[:])
	return float64(binary.LittleEndian.Uint64(h[:8])>>11)/float64(1<<53) < q
}

// DropSlivers is a test fault ("lazy node"): it deletes both slivers of blob id in
// each owned shard that LazyDrop picks for fraction q, keeping the metadata and every
// other sliver, and returns how many slivers it deleted. Never called by a node outside
// tests.
func (n *Node) DropSlivers(id redstuff.BlobID, q float64) (int, error) {
	n.commit.Lock()
	defer n.commit.Unlock()
	st := n.st.Load()
	b := n.store.NewBatch()
	defer b.Close()
	dropped := 0
	for _, shard := range st.owned {
		if !LazyDrop(id, shard, q) {
			continue
		}
		for _, a := range []redstuff.Axis{redstuff.Primary, redstuff.Secondary} {
			ok, err := b.HasSliver(shard, a, id)
			if err != nil {
				return 0, n.internal("read sliver", err)
			}
			if ok {
				b.DeleteSliver(shard, a, id)
				dropped++
			}
		}
	}
	if dropped == 0 {
		return 0, nil
	}
	if err := b.Commit(); err != nil {
		return 0, n.internal("drop slivers", err)
	}
	n.cache.removeBlob(id)
	return dropped, nil
}

// attestations holds the node's attestations of the current challenge epoch.
type attestations struct {
	mu    sync.Mutex // guards the fields below
	epoch uint32
	byID  map[[32]byte]SignedMessage
}

// SetAttestation records the node's signed attestation that the committee member with
// chain node ID node passed its challenge of epoch, for the member to fetch
// (Attestation). Attestations of other epochs are dropped; at most MaxChallengeItems are
// kept (ErrOverloaded beyond).
func (n *Node) SetAttestation(epoch uint32, node [32]byte, m SignedMessage) error {
	a := &n.attest
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.byID == nil || a.epoch != epoch {
		a.epoch, a.byID = epoch, map[[32]byte]SignedMessage{}
	}
	if _, ok := a.byID[node]; !ok && len(a.byID) >= MaxChallengeItems {
		return fmt.Errorf("%w: %d attestations", ErrOverloaded, len(a.byID))
	}
	a.byID[node] = m
	return nil
}

// Attestation returns the node's attestation that node passed its challenge of epoch,
// or ErrNotAttested if the node has not verified that member's answers (yet).
func (n *Node) Attestation(epoch uint32, node [32]byte) (SignedMessage, error) {
	a := &n.attest
	a.mu.Lock()
	defer a.mu.Unlock()
	if m, ok := a.byID[node]; ok && a.epoch == epoch {
		return m, nil
	}
	return SignedMessage{}, fmt.Errorf("%w: node %x in epoch %d", ErrNotAttested, node, epoch)
}

// ChallengeResult is what a node knows of its storage challenge in one epoch, as its
// daemon reports it in /v1/health and `walrus node challenges`.
type ChallengeResult struct {
	Epoch uint32 `json:"epoch"`
	// Phase is the chain's phase of the epoch's challenge as last seen: reveal, answer,
	// unchallenged or settled.
	Phase string `json:"phase"`
	// Items is the number of this node's challenged items.
	Items int `json:"items"`
	// Revealed and Passed say whether the chain has the node's reveal and a certificate
	// that it passed.
	Revealed bool `json:"revealed"`
	Passed   bool `json:"passed"`
	// Attestations is the number of members whose attestation of this node it holds,
	// AttestedShards their shards.
	Attestations   int `json:"attestations"`
	AttestedShards int `json:"attestedShards"`
	// Verified and Failed count the other members whose answers this node verified (and
	// attested) and whose answers failed verification at least once.
	Verified int `json:"verified"`
	Failed   int `json:"failed"`
	// Blocked is the number of blobs in the challenge window now.
	Blocked int `json:"blocked"`
}

// MaxChallengeResults is the number of epochs of results a node keeps.
const MaxChallengeResults = 64

// SetChallengeResults records the daemon's challenge results (the last
// MaxChallengeResults are kept), shown in the health report.
func (n *Node) SetChallengeResults(r []ChallengeResult) {
	if len(r) > MaxChallengeResults {
		r = r[len(r)-MaxChallengeResults:]
	}
	r = slices.Clone(r)
	n.results.Store(&r)
}

// ChallengeResults returns the recorded challenge results, oldest first.
func (n *Node) ChallengeResults() []ChallengeResult {
	if p := n.results.Load(); p != nil {
		return slices.Clone(*p)
	}
	return nil
}
