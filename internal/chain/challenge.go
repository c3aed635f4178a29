package chain

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"

	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/redstuff"
	"golang.org/x/crypto/blake2b"
)

// Storage challenges (docs/challenges.md). On a chain whose genesis enabled them:
//
//   - The challenge index counts the certified Blob objects that are live in the current
//     epoch. It changes only at epoch starts: a blob certified during epoch E is counted from
//     E+1, a blob deleted during E stops being counted at E+1, and a blob whose storage ends
//     at E stops being counted at E. During an epoch the index is therefore exactly the
//     blobs certified and live at the epoch's start (the challenge start).
//   - Every certified Blob object gets a position (in certification order, never reused).
//     The counted positions are kept as a dense array of ranks 0 to N-1 in chain state: the
//     blob of rank k is one read, counting a position appends it, and uncounting one moves
//     the last rank into its place (swap-remove), so a draw costs one read and a change a
//     few writes, whatever the number of blobs.
//   - At the start of epoch E the members of E's committee reveal their BLS signatures over
//     ChallengeRevealMessage(chain ID, E) until the reveal deadline (a quarter of an epoch
//     after the start). When all have revealed, or at the first block at or after the
//     deadline, the seed is fixed: Blake2b-256 over the chain ID, E and, in node ID order,
//     each member's reveal or a marker that it has none.
//   - From the seed, [ChallengeItems] picks SampleSize items per member: a blob of the
//     index, one of the member's shards, an axis and a symbol position in that sliver.
//   - Other members verify the answers and sign ChallengePassedMessage(E, node); anyone
//     submits their aggregate as a ChallengeCertificate (2f+1 shards).
//   - At the end of E, rewards go only to members with a certificate; the parts of the
//     others are burned, and a member failing K epochs in a row is slashed.
//
// An epoch whose index is empty (epoch 0, or no live certified blob) is unchallenged: its
// seed is fixed at once, no reveal or certificate is needed, and rewards are paid as on a
// chain without challenges.

var errAxis = fmt.Errorf("%w: axis above 1", bcs.ErrInvalidVariant)

// ChallengeItem is one challenged symbol: symbol Symbol (0-based, below the sliver's symbol
// count) of the Axis sliver (0 primary, 1 secondary; redstuff.Axis) that shard Shard holds
// of blob Blob. The challenged node answers with the symbol and its Merkle proof against
// that sliver's hash in the blob's metadata.
type ChallengeItem struct {
	Blob   redstuff.BlobID
	Shard  uint16
	Axis   uint8
	Symbol uint32
}

func (it *ChallengeItem) encode(e *bcs.Encoder) {
	e.Fixed(it.Blob[:])
	e.U16(it.Shard)
	e.U8(it.Axis)
	e.U32(it.Symbol)
}

func (it *ChallengeItem) decode(d *bcs.Decoder) {
	it.Blob = fixed32(d)
	it.Shard = d.U16()
	it.Axis = d.U8()
	if it.Axis > 1 {
		d.Fail(errAxis)
	}
	it.Symbol = d.U32()
}

// ChallengeRecord is the challenge of one epoch as the chain keeps it.
type ChallengeRecord struct {
	Epoch uint32
	// Start is the block time at which the epoch's change started: the challenge start.
	Start int64
	// RevealDeadline is the block time until which reveals are accepted (Start plus a
	// quarter of the epoch duration).
	RevealDeadline int64
	// Blobs is the number of blobs in the index during the epoch (0: unchallenged).
	Blobs uint64
	// SampleSize is the s in force for the epoch.
	SampleSize uint32
	// SeedFinal says whether Seed is fixed; Revealed counts the members that revealed.
	SeedFinal bool
	Seed      [32]byte
	Revealed  uint32
	// NextPosition is the next free position of the index (state of the whole chain, kept
	// here to save a record).
	NextPosition uint64
}

func (r *ChallengeRecord) encode(e *bcs.Encoder) {
	e.U32(r.Epoch)
	e.U64(uint64(r.Start))
	e.U64(uint64(r.RevealDeadline))
	e.U64(r.Blobs)
	e.U32(r.SampleSize)
	e.Bool(r.SeedFinal)
	e.Fixed(r.Seed[:])
	e.U32(r.Revealed)
	e.U64(r.NextPosition)
}

func (r *ChallengeRecord) decode(d *bcs.Decoder) {
	r.Epoch = d.U32()
	r.Start = int64(d.U64())
	r.RevealDeadline = int64(d.U64())
	r.Blobs = d.U64()
	r.SampleSize = d.U32()
	r.SeedFinal = d.Bool()
	r.Seed = fixed32(d)
	r.Revealed = d.U32()
	r.NextPosition = d.U64()
}

// NodeChallenge is a member's challenge in one epoch: its reveal and whether a certificate
// proved that it passed.
type NodeChallenge struct {
	Revealed bool
	Reveal   [96]byte
	Passed   bool
}

func (n *NodeChallenge) encode(e *bcs.Encoder) {
	e.Bool(n.Revealed)
	e.Fixed(n.Reveal[:])
	e.Bool(n.Passed)
}

func (n *NodeChallenge) decode(d *bcs.Decoder) {
	n.Revealed = d.Bool()
	n.Reveal = fixed96(d)
	n.Passed = d.Bool()
}

// IndexedBlob is a Blob object of the challenge index.
type IndexedBlob struct {
	Object   ObjectID
	BlobID   redstuff.BlobID
	EndEpoch uint32
}

func (b *IndexedBlob) encode(e *bcs.Encoder) {
	e.Fixed(b.Object[:])
	e.Fixed(b.BlobID[:])
	e.U32(b.EndEpoch)
}

func (b *IndexedBlob) decode(d *bcs.Decoder) {
	b.Object = fixed32(d)
	b.BlobID = fixed32(d)
	b.EndEpoch = d.U32()
}

type u64Value struct{ v uint64 }

func (x *u64Value) encode(e *bcs.Encoder) { e.U64(x.v) }
func (x *u64Value) decode(d *bcs.Decoder) { x.v = d.U64() }

type u32Value struct{ v uint32 }

func (x *u32Value) encode(e *bcs.Encoder) { e.U32(x.v) }
func (x *u32Value) decode(d *bcs.Decoder) { x.v = d.U32() }

// --- the index -----------------------------------------------------------------------------

// RankedBlob is a rank of the challenge index: the counted position there and its blob.
type RankedBlob struct {
	Position uint64
	BlobID   redstuff.BlobID
}

// rankedBlobSize is the encoded size of a RankedBlob.
const rankedBlobSize = 8 + 32

func (r *RankedBlob) encode(e *bcs.Encoder) {
	e.U64(r.Position)
	e.Fixed(r.BlobID[:])
}

func (r *RankedBlob) decode(d *bcs.Decoder) {
	r.Position = d.U64()
	r.BlobID = fixed32(d)
}

// indexTotal returns the number of counted positions.
func indexTotal(kv Store) uint64 {
	x, _ := get[u64Value](kv, []byte(keyRankCount))
	return x.v
}

func setIndexTotal(kv Store, n uint64) {
	if n == 0 {
		kv.Delete([]byte(keyRankCount))
		return
	}
	kv.Set([]byte(keyRankCount), encodeBCS(&u64Value{n}))
}

// indexCount counts position pos (of blob id) with the next rank.
func indexCount(kv Store, pos uint64, id redstuff.BlobID) {
	n := indexTotal(kv)
	kv.Set(keyRank(n), encodeBCS(&RankedBlob{Position: pos, BlobID: id}))
	kv.Set(keyRankOf(pos), encodeBCS(&u64Value{n}))
	setIndexTotal(kv, n+1)
}

// indexUncount stops counting position pos, if it is counted: the last rank moves into
// its rank.
func indexUncount(kv Store, pos uint64) {
	r, ok := get[u64Value](kv, keyRankOf(pos))
	if !ok {
		return
	}
	last := indexTotal(kv) - 1
	if r.v != last {
		moved, ok := get[RankedBlob](kv, keyRank(last))
		if !ok {
			panic("chain: challenge index: rank without a blob")
		}
		kv.Set(keyRank(r.v), encodeBCS(&moved))
		kv.Set(keyRankOf(moved.Position), encodeBCS(&r))
	}
	kv.Delete(keyRank(last))
	kv.Delete(keyRankOf(pos))
	setIndexTotal(kv, last)
}

// indexBlobAt returns the blob of rank k (below indexTotal) with one read.
func indexBlobAt(kv Store, k uint64) redstuff.BlobID {
	var key [len(prefixRank) + 8]byte
	copy(key[:], prefixRank)
	binary.BigEndian.PutUint64(key[len(prefixRank):], k)
	b, _ := kv.Get(key[:])
	return rankedBlob(b)
}

// rankedBlob returns the blob of the stored RankedBlob record b of a rank; nil b (no
// record) breaks the index's invariant and panics.
func rankedBlob(b []byte) redstuff.BlobID {
	if len(b) != rankedBlobSize {
		panic("chain: challenge index: rank without a blob")
	}
	return redstuff.BlobID(b[8:])
}

// indexCertified records a certified Blob object: it gets the next position and is
// counted from the next epoch on. A no-op on chains without challenges.
func (c *ctx) indexCertified(b *Blob) {
	if !c.params.Challenge.Enabled() {
		return
	}
	rec := c.challenge(c.sys.Epoch)
	pos := rec.NextPosition
	rec.NextPosition++
	c.putChallenge(&rec)
	ib := IndexedBlob{Object: b.ID, BlobID: b.BlobID, EndEpoch: b.EndEpoch()}
	c.kv.Set(keyIndexed(pos), encodeBCS(&ib))
	c.kv.Set(keyIndexPos(b.ID), encodeBCS(&u64Value{pos}))
	c.kv.Set(keyIndexEnd(ib.EndEpoch, pos), nil)
	c.kv.Set(keyIndexNew(pos), nil)
}

// indexExtended moves a certified Blob object's expiry to its new end epoch.
func (c *ctx) indexExtended(b *Blob) {
	pos, ib, ok := c.indexedObject(b.ID)
	if !ok {
		return
	}
	c.kv.Delete(keyIndexEnd(ib.EndEpoch, pos))
	ib.EndEpoch = b.EndEpoch()
	c.kv.Set(keyIndexEnd(ib.EndEpoch, pos), nil)
	c.kv.Set(keyIndexed(pos), encodeBCS(&ib))
}

// indexDeleted stops counting a deleted Blob object from the next epoch on (at once if it
// was certified in this epoch and not counted yet).
func (c *ctx) indexDeleted(id ObjectID) {
	pos, ib, ok := c.indexedObject(id)
	if !ok {
		return
	}
	if _, pending := c.kv.Get(keyIndexNew(pos)); pending {
		c.unindex(pos, &ib)
		return
	}
	c.kv.Set(keyIndexDel(pos), nil)
}

func (c *ctx) indexedObject(id ObjectID) (uint64, IndexedBlob, bool) {
	if !c.params.Challenge.Enabled() {
		return 0, IndexedBlob{}, false
	}
	p, ok := get[u64Value](c.kv, keyIndexPos(id))
	if !ok {
		return 0, IndexedBlob{}, false
	}
	ib, ok := get[IndexedBlob](c.kv, keyIndexed(p.v))
	return p.v, ib, ok
}

// unindex removes every record of a position (the caller has uncounted it if it was).
func (c *ctx) unindex(pos uint64, ib *IndexedBlob) {
	c.kv.Delete(keyIndexed(pos))
	c.kv.Delete(keyIndexPos(ib.Object))
	c.kv.Delete(keyIndexEnd(ib.EndEpoch, pos))
	c.kv.Delete(keyIndexNew(pos))
	c.kv.Delete(keyIndexDel(pos))
}

// updateIndex applies at the start of epoch the changes of the epoch before: deletions,
// expiries (end epoch <= epoch) and new certifications. Its work is proportional to the
// number of changes, never to the size of the index.
func (c *ctx) updateIndex(epoch uint32) {
	remove := func(pos uint64) {
		ib, ok := get[IndexedBlob](c.kv, keyIndexed(pos))
		if !ok {
			return
		}
		indexUncount(c.kv, pos)
		c.unindex(pos, &ib)
	}
	for _, pos := range positionsUnder(c.kv, []byte(prefixIndexDel), nil) {
		remove(pos)
	}
	for _, pos := range positionsUnder(c.kv, []byte(prefixIndexEnd), key(prefixIndexEnd, be32(epoch+1))) {
		remove(pos)
	}
	for _, pos := range positionsUnder(c.kv, []byte(prefixIndexNew), nil) {
		ib, ok := get[IndexedBlob](c.kv, keyIndexed(pos))
		if !ok {
			panic("chain: challenge index: new position without a blob")
		}
		indexCount(c.kv, pos, ib.BlobID)
		c.kv.Delete(keyIndexNew(pos))
	}
}

// positionsUnder returns the positions in the last 8 bytes of the keys in [prefix, end)
// (end nil: the whole prefix).
func positionsUnder(kv Store, prefix, end []byte) []uint64 {
	if end == nil {
		end = prefixEnd(prefix)
	}
	var out []uint64
	kv.Iterate(prefix, end, func(k, _ []byte) bool {
		out = append(out, binary.BigEndian.Uint64(k[len(k)-8:]))
		return true
	})
	return out
}

// --- records -------------------------------------------------------------------------------

func (c *ctx) challenge(epoch uint32) ChallengeRecord {
	r, _ := get[ChallengeRecord](c.kv, keyChalRecord(epoch))
	return r
}

func (c *ctx) putChallenge(r *ChallengeRecord) { c.kv.Set(keyChalRecord(r.Epoch), encodeBCS(r)) }

func getNodeChallenge(kv Store, epoch uint32, node ObjectID) NodeChallenge {
	n, _ := get[NodeChallenge](kv, keyChalNode(epoch, node))
	return n
}

func getStreak(kv Store, node ObjectID) uint32 {
	x, _ := get[u32Value](kv, keyChalStreak(node))
	return x.v
}

// --- seed and sampling ---------------------------------------------------------------------

// challengeSeed computes the seed of epoch from the committee members' reveals, in member
// (node ID) order; a member without a reveal contributes a zero marker byte.
func challengeSeed(chainID string, epoch uint32, reveals []*[96]byte) [32]byte {
	h, _ := blake2b.New256(nil)
	e := bcs.NewEncoder(nil)
	e.Bytes([]byte("walrus-go/challenge-seed/v1"))
	e.Bytes([]byte(chainID))
	e.U32(epoch)
	e.Len(len(reveals))
	for _, r := range reveals {
		e.Option(r != nil)
		if r != nil {
			e.Fixed(r[:])
		}
	}
	h.Write(e.Out())
	var out [32]byte
	h.Sum(out[:0])
	return out
}

const challengeItemDomain = "walrus-go/challenge-item/v1"

// scaled maps a uniform 64-bit value to [0, n) (the high word of x·n: bias below n/2^64).
func scaled(x, n uint64) uint64 {
	hi, _ := bits.Mul64(x, n)
	return hi
}

// ChallengeItems picks the items of node for a challenge: sampleSize items with distinct
// (blob, shard, axis), drawn with a pseudo-random function of (seed, node, counter) among
// nBlobs blobs (blobAt returns the blob of a rank in [0, nBlobs)), the node's shards and
// the two axes, the symbol uniform in the sliver (symbols[axis] symbols). If fewer distinct
// slivers exist than sampleSize, or 4·sampleSize draws do not find them, it returns fewer.
// It is pure: every node and the chain compute the same items. A node with no shards or an
// empty index has no items.
func ChallengeItems(seed [32]byte, node ObjectID, shards []uint16, nBlobs uint64, sampleSize int,
	symbols [2]int, blobAt func(rank uint64) redstuff.BlobID) []ChallengeItem {
	draws := challengeDraws(seed, node, shards, nBlobs, sampleSize, symbols)
	items := make([]ChallengeItem, len(draws))
	for i, d := range draws {
		items[i] = d.item
		items[i].Blob = blobAt(d.rank)
	}
	return items
}

// challengeDraw is an item of ChallengeItems before the lookup of its blob: the blob's rank.
type challengeDraw struct {
	rank uint64
	item ChallengeItem // without Blob
}

// challengeDraws returns the items of ChallengeItems, in order, with their blobs' ranks in
// place of the blobs.
func challengeDraws(seed [32]byte, node ObjectID, shards []uint16, nBlobs uint64, sampleSize int, symbols [2]int) []challengeDraw {
	if nBlobs == 0 || len(shards) == 0 || sampleSize <= 0 {
		return nil
	}
	type key struct {
		rank  uint64
		shard uint16
		axis  uint8
	}
	seen := make([]key, 0, sampleSize)
	draws := make([]challengeDraw, 0, sampleSize)
	for ctr := uint32(0); len(draws) < sampleSize && ctr < 4*uint32(sampleSize); ctr++ {
		h, _ := blake2b.New256(nil)
		h.Write([]byte(challengeItemDomain))
		h.Write(seed[:])
		h.Write(node[:])
		h.Write(binary.LittleEndian.AppendUint32(nil, ctr))
		var out [32]byte
		h.Sum(out[:0])
		w := func(i int) uint64 { return binary.LittleEndian.Uint64(out[8*i:]) }
		k := key{rank: scaled(w(0), nBlobs), shard: shards[scaled(w(1), uint64(len(shards)))], axis: uint8(w(2) & 1)}
		dup := false
		for _, s := range seen {
			if s == k {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		seen = append(seen, k)
		draws = append(draws, challengeDraw{rank: k.rank, item: ChallengeItem{
			Shard: k.shard, Axis: k.axis, Symbol: uint32(scaled(w(3), uint64(symbols[k.axis]))),
		}})
	}
	return draws
}

// indexChallengeItems returns ChallengeItems with the blobs of the challenge index in kv. It
// reads the drawn ranks' records in ascending order in one pass (getSorted), so that a
// store on disk reads each table block once and does not set up a lookup per item.
func indexChallengeItems(kv Store, seed [32]byte, node ObjectID, shards []uint16, nBlobs uint64, sampleSize int, symbols [2]int) []ChallengeItem {
	draws := challengeDraws(seed, node, shards, nBlobs, sampleSize, symbols)
	ranks := make([]uint64, len(draws))
	for i, d := range draws {
		ranks[i] = d.rank
	}
	slices.Sort(ranks)
	ranks = slices.Compact(ranks)
	keys := make([][]byte, len(ranks))
	for i, r := range ranks {
		keys[i] = keyRank(r)
	}
	values := getSorted(kv, keys)
	items := make([]ChallengeItem, len(draws))
	for i, d := range draws {
		j, _ := slices.BinarySearch(ranks, d.rank)
		items[i] = d.item
		items[i].Blob = rankedBlob(values[j])
	}
	return items
}
