// Package nodetest builds storage nodes over in-memory stores for the tests of the
// storage node packages: a node with chosen shards, blob encodings, chain events and a
// fingerprint of everything the store holds. It is imported only by tests.
package nodetest

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/store"
)

// Env is one node over an in-memory store, at epoch 1 after an initial EpochChangeStart.
type Env struct {
	T     testing.TB
	N     int
	Enc   *redstuff.Config
	FS    vfs.FS
	Store *store.Store
	Node  *sn.Node
	Key   *bls.SecretKey
	Seq   uint64 // sequence number of the next event Apply sends
}

// Options tweaks New.
type Options struct {
	// Config edits the node configuration before New; a Store it sets replaces the
	// in-memory one (and Env.FS is then nil).
	Config func(*sn.Config)
}

// Encoding returns a RedStuff configuration for n shards.
func Encoding(t testing.TB, n int) *redstuff.Config {
	c, err := redstuff.NewConfig(n)
	if err != nil {
		t.Fatalf("redstuff.NewConfig(%d): %v", n, err)
	}
	return c
}

// Key returns a deterministic BLS key.
func Key(t testing.TB, seed uint64) *bls.SecretKey {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	k, err := bls.GenerateKey(rand.NewChaCha8(s))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// New returns a node of a system of n shards that owns shards, at epoch 1.
func New(t testing.TB, n int, shards []uint16, opts ...Options) *Env {
	t.Helper()
	e := &Env{T: t, N: n, Enc: Encoding(t, n), FS: vfs.NewMem(), Key: Key(t, 1)}
	var err error
	if e.Store, err = store.Open("node", store.Options{FS: e.FS}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Store.Close() })
	cfg := sn.Config{NShards: n, Key: e.Key, Store: e.Store, Encoding: e.Enc}
	for _, o := range opts {
		if o.Config != nil {
			o.Config(&cfg)
		}
	}
	if cfg.Store != e.Store {
		e.Store.Close()
		e.Store, e.FS = cfg.Store, nil
	}
	if e.Node, err = sn.New(cfg); err != nil {
		t.Fatal(err)
	}
	e.Apply(sn.EpochChangeStart{Epoch: 1, Shards: shards, Initial: true})
	return e
}

// Apply applies events with consecutive sequence numbers.
func (e *Env) Apply(evs ...sn.Event) {
	e.T.Helper()
	batch := make([]sn.SequencedEvent, len(evs))
	for i, ev := range evs {
		batch[i] = sn.SequencedEvent{ID: sn.EventID{TxDigest: [32]byte{byte(e.Seq)}, Seq: e.Seq}, Event: ev}
		e.Seq++
	}
	if err := e.Node.ApplyEvents(batch); err != nil {
		e.T.Fatalf("ApplyEvents: %v", err)
	}
}

// ObjectID returns a deterministic object ID.
func ObjectID(i int) sn.ObjectID {
	var o sn.ObjectID
	binary.BigEndian.PutUint64(o[24:], uint64(i)+1)
	o[0] = 0x0b
	return o
}

// Register registers blob b as object obj until endEpoch.
func (e *Env) Register(b *redstuff.EncodedBlob, obj sn.ObjectID, endEpoch uint32, deletable bool) {
	e.T.Helper()
	e.Apply(sn.BlobRegistered{
		Epoch: e.Node.Epoch(), BlobID: b.Metadata.BlobID, ObjectID: obj, Size: b.Metadata.UnencodedLength,
		EncodingType: redstuff.EncodingRS2, EndEpoch: endEpoch, Deletable: deletable,
	})
}

// Blob returns the encoding of a pseudo-random blob of size bytes.
func (e *Env) Blob(size int, seed uint64) *redstuff.EncodedBlob {
	e.T.Helper()
	return EncodeBlob(e.T, e.Enc, size, seed)
}

// EncodeBlob returns the encoding of a pseudo-random blob of size bytes.
func EncodeBlob(t testing.TB, enc *redstuff.Config, size int, seed uint64) *redstuff.EncodedBlob {
	t.Helper()
	data := make([]byte, size)
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	rand.NewChaCha8(s).Read(data)
	b, err := enc.Encode(data)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// OwnedPairs returns the sliver pairs of b that the node's owned shards store.
func (e *Env) OwnedPairs(b *redstuff.EncodedBlob) []*redstuff.SliverPair {
	var out []*redstuff.SliverPair
	for _, sh := range e.Node.OwnedShards() {
		out = append(out, &b.Pairs[b.Metadata.BlobID.ShardPair(int(sh), e.N)])
	}
	slices.SortFunc(out, func(a, b *redstuff.SliverPair) int { return a.Index - b.Index })
	return out
}

// UnownedPair returns a sliver pair of b whose shard the node does not hold.
func (e *Env) UnownedPair(b *redstuff.EncodedBlob) int {
	held := map[uint16]bool{}
	for _, s := range e.Node.Shards() {
		held[s.Shard] = true
	}
	for p := 0; p < e.N; p++ {
		if !held[uint16(b.Metadata.BlobID.PairShard(p, e.N))] {
			return p
		}
	}
	e.T.Fatal("the node holds every shard")
	return -1
}

// PairOf returns the sliver pair of b that shard stores.
func (e *Env) PairOf(b *redstuff.EncodedBlob, shard uint16) int {
	return b.Metadata.BlobID.ShardPair(int(shard), e.N)
}

// Fingerprint hashes everything the store holds that the node API can change: metadata,
// blob and object information, slivers of every shard, shard statuses, cursor and node
// state.
func (e *Env) Fingerprint(t testing.TB) [32]byte {
	t.Helper()
	h := sha256.New()
	put := func(parts ...any) { fmt.Fprintln(h, parts...) }
	must := func(err error) {
		if err != nil {
			t.Fatalf("fingerprint: %v", err)
		}
	}
	var ids []redstuff.BlobID
	must(e.Store.Blobs(redstuff.BlobID{}, func(id redstuff.BlobID) (bool, error) {
		ids = append(ids, id)
		return true, nil
	}))
	for _, id := range ids {
		m, err := e.Store.Metadata(id)
		must(err)
		put("metadata", id, m)
	}
	must(e.Store.BlobInfos(redstuff.BlobID{}, func(id redstuff.BlobID, info store.BlobInfo) (bool, error) {
		put("info", id, info)
		return true, nil
	}))
	must(e.Store.ObjectInfos([32]byte{}, func(o [32]byte, info store.ObjectInfo) (bool, error) {
		put("object", o, info)
		return true, nil
	}))
	shards, err := e.Store.Shards()
	must(err)
	put("shards", shards)
	for sh := 0; sh < e.N; sh++ {
		for _, a := range []redstuff.Axis{redstuff.Primary, redstuff.Secondary} {
			must(e.Store.ShardSlivers(uint16(sh), a, redstuff.BlobID{}, func(id redstuff.BlobID, v []byte) (bool, error) {
				put("sliver", sh, a, id, v)
				return true, nil
			}))
		}
	}
	c, err := e.Store.Cursor()
	must(err)
	ns, err := e.Store.NodeState()
	must(err)
	put("cursor", c, ns)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// Inconsistent returns an encoding of a blob whose metadata commits to a garbage repair
// primary sliver: every sliver verifies on its own, but recovering that primary sliver from
// secondary slivers gives data that does not match, so an inconsistency proof exists. It
// returns the blob (with the garbage sliver in its pair) and the index of the bad sliver.
func Inconsistent(t testing.TB, enc *redstuff.Config, size int, seed uint64) (*redstuff.EncodedBlob, int) {
	t.Helper()
	b := EncodeBlob(t, enc, size, seed)
	n := enc.NShards()
	p := n - 1 // a repair primary sliver (systematic ones are rows 0..n-2f-1)
	bad := b.Pairs[p].Primary
	bad.Data = slices.Clone(bad.Data)
	for i := range bad.Data {
		bad.Data[i] ^= byte(0x5a + i)
	}
	x, err := enc.Expand(b.Metadata, &bad)
	if err != nil {
		t.Fatal(err)
	}
	m := *b.Metadata
	m.Hashes = slices.Clone(m.Hashes)
	m.Hashes[p].Primary = x.Root()
	m.BlobID = m.ComputeBlobID()
	if err := enc.VerifyMetadata(&m); err != nil {
		t.Fatal(err)
	}
	out := &redstuff.EncodedBlob{Metadata: &m, Pairs: slices.Clone(b.Pairs)}
	out.Pairs[p].Primary = bad
	return out, p
}

// InconsistencyProof builds the proof for an Inconsistent blob from its slivers.
func InconsistencyProof(t testing.TB, enc *redstuff.Config, b *redstuff.EncodedBlob, bad int) *redstuff.InconsistencyProof {
	t.Helper()
	need := enc.RecoverySymbolsNeeded(redstuff.Primary)
	n := enc.NShards()
	var syms []redstuff.RecoverySymbol
	for j := 0; j < need; j++ {
		s := b.Pairs[n-1-j].Secondary
		x, err := enc.Expand(b.Metadata, &s)
		if err != nil {
			t.Fatal(err)
		}
		sym, err := x.RecoverySymbol(bad)
		if err != nil {
			t.Fatal(err)
		}
		syms = append(syms, sym)
	}
	_, err := enc.RecoverSliver(b.Metadata, redstuff.Primary, bad, syms)
	var ie *redstuff.InconsistencyError
	if !errors.As(err, &ie) {
		t.Fatalf("recovering the bad sliver: %v, want an inconsistency", err)
	}
	return ie.Proof
}
