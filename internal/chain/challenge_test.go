package chain

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/walrus-go/walrus/internal/redstuff"
	"golang.org/x/crypto/blake2b"
	"pgregory.net/rapid"
)

// challengeFixture is a chain with challenges in epoch 1, its seed fixed, two blobs in the
// index.
func challengeFixture(t testing.TB) *scriptEnv {
	env := newScriptEnv(t)
	script := `
genesis challenges samples=8
account alice 1000WAL
account n1-op 10WAL
account n2-op 10WAL
account n3-op 10WAL
account n4-op 10WAL
node n1 stake=100WAL shards=0-2
node n2 stake=100WAL shards=3-5
node n3 stake=100WAL shards=6-7
node n4 stake=100WAL shards=8-9
----

block
alice reserve 1MiB 4 as=s1
alice reserve 1MiB 4 as=s2
alice register s1 b1 1000
alice register s2 b2 2000 deletable
alice certify b1
alice certify b2
----

advance 1h step=30m
----

sync-all
----

reveal-all
----
`
	for _, c := range parseScript(t, script) {
		var b strings.Builder
		env.out = &b
		env.run(c)
	}
	return env
}

// TestChallengeSamplerPassProbability: a node that holds each of its slivers with
// probability p passes a challenge of s items with probability p^s (the items are distinct
// slivers). The frequency over many seeds matches p^s within five standard deviations.
func TestChallengeSamplerPassProbability(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		nBlobs := rapid.Uint64Range(50, 1_000_000).Draw(t, "blobs")
		s := rapid.IntRange(1, 8).Draw(t, "samples")
		permille := rapid.IntRange(500, 990).Draw(t, "p‰")
		nShards := rapid.IntRange(1, 5).Draw(t, "shards")
		shards := make([]uint16, nShards)
		for i := range shards {
			shards[i] = uint16(3 * i)
		}
		p := float64(permille) / 1000
		const trials = 2000
		node := ObjectID{byte(nShards), byte(s)}
		blobAt := func(rank uint64) redstuff.BlobID {
			var b redstuff.BlobID
			binary.LittleEndian.PutUint64(b[:], rank)
			return b
		}
		passed := 0
		for trial := range trials {
			var seed [32]byte
			binary.LittleEndian.PutUint64(seed[:], uint64(trial))
			seed[8] = byte(permille)
			seed[9] = byte(s)
			items := ChallengeItems(seed, node, shards, nBlobs, s, [2]int{7, 4}, blobAt)
			if len(items) != s {
				t.Fatalf("%d items, want %d", len(items), s)
			}
			ok := true
			for _, it := range items {
				// The node's loss pattern is random per trial: sliver (blob, shard, axis) is
				// held with probability p.
				h := blake2b.Sum256(slices.Concat([]byte("held"), seed[:], it.Blob[:], []byte{byte(it.Shard), byte(it.Shard >> 8), it.Axis}))
				if float64(binary.LittleEndian.Uint64(h[:]))/math.Exp2(64) >= p {
					ok = false
				}
			}
			if ok {
				passed++
			}
		}
		want := math.Pow(p, float64(s))
		got := float64(passed) / trials
		sigma := math.Sqrt(want * (1 - want) / trials)
		if math.Abs(got-want) > 5*sigma+1.0/trials {
			t.Fatalf("pass frequency %.4f, want p^s = %.4f (σ %.4f)", got, want, sigma)
		}
	})
}

// TestDefaultSampleSize: with the default s, a node holding 90% of its slivers passes with
// probability below 1e-12, and s is the smallest such.
func TestDefaultSampleSize(t *testing.T) {
	s := DefaultChallengeParams().SampleSize
	if p := math.Pow(0.9, float64(s)); p >= 1e-12 {
		t.Errorf("0.9^%d = %g, not below 1e-12", s, p)
	}
	if p := math.Pow(0.9, float64(s-1)); p < 1e-12 {
		t.Errorf("0.9^%d = %g is already below 1e-12: %d is not the smallest", s-1, p, s)
	}
}

// TestChallengeItemsDistinct: items are distinct slivers, within the node's shards, axes
// and symbol ranges, and depend on the seed and the node.
func TestChallengeItemsDistinct(t *testing.T) {
	blobAt := func(rank uint64) redstuff.BlobID { return redstuff.BlobID{byte(rank), byte(rank >> 8)} }
	shards := []uint16{4, 9}
	items := ChallengeItems([32]byte{1}, ObjectID{2}, shards, 3, 12, [2]int{7, 4}, blobAt)
	if len(items) != 12 { // 3 blobs × 2 shards × 2 axes: exactly 12 slivers
		t.Fatalf("%d items, want all 12 slivers", len(items))
	}
	type sliver struct {
		b     redstuff.BlobID
		shard uint16
		axis  uint8
	}
	seen := map[sliver]bool{}
	for _, it := range items {
		k := sliver{it.Blob, it.Shard, it.Axis}
		if seen[k] {
			t.Fatalf("sliver %v drawn twice", k)
		}
		seen[k] = true
		if !slices.Contains(shards, it.Shard) || it.Axis > 1 || int(it.Symbol) >= [2]int{7, 4}[it.Axis] {
			t.Fatalf("item out of range: %+v", it)
		}
	}
	// More samples than slivers: every sliver once, and no more.
	if n := len(ChallengeItems([32]byte{1}, ObjectID{2}, shards, 3, 100, [2]int{7, 4}, blobAt)); n != 12 {
		t.Errorf("%d items from 12 slivers", n)
	}
	a := ChallengeItems([32]byte{1}, ObjectID{2}, shards, 1000, 5, [2]int{7, 4}, blobAt)
	b := ChallengeItems([32]byte{2}, ObjectID{2}, shards, 1000, 5, [2]int{7, 4}, blobAt)
	c := ChallengeItems([32]byte{1}, ObjectID{3}, shards, 1000, 5, [2]int{7, 4}, blobAt)
	if slices.Equal(a, b) || slices.Equal(a, c) {
		t.Errorf("items do not depend on the seed and the node")
	}
}

// TestRankIndexModel: the index's rank array against a set of positions: after random
// counts and uncounts the total is the set's size, the ranks hold exactly the set's
// positions (each once, with its blob), and each position's recorded rank points back at
// it; uncounting a position that is not counted changes nothing.
func TestRankIndexModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		kv := NewMemStore()
		model := map[uint64]bool{}
		var order []uint64 // the model's positions in insertion order (rapid draws need determinism)
		blob := func(pos uint64) redstuff.BlobID {
			var id redstuff.BlobID
			binary.LittleEndian.PutUint64(id[:], pos^0x5a5a)
			return id
		}
		ops := rapid.IntRange(1, 200).Draw(t, "ops")
		for range ops {
			pos := rapid.Uint64Range(0, 1<<40).Draw(t, "pos")
			if rapid.IntRange(0, 3).Draw(t, "op") == 0 && len(order) > 0 {
				i := rapid.IntRange(0, len(order)-1).Draw(t, "victim")
				indexUncount(kv, order[i])
				delete(model, order[i])
				order = slices.Delete(order, i, i+1)
				continue
			}
			if rapid.IntRange(0, 9).Draw(t, "stray") == 0 && !model[pos] {
				before := StateHash(kv)
				indexUncount(kv, pos)
				if StateHash(kv) != before {
					t.Fatalf("uncounting position %d, not counted, changed the state", pos)
				}
				continue
			}
			if model[pos] {
				continue
			}
			indexCount(kv, pos, blob(pos))
			model[pos] = true
			order = append(order, pos)
		}
		n := indexTotal(kv)
		if n != uint64(len(model)) {
			t.Fatalf("total %d, want %d", n, len(model))
		}
		seen := map[uint64]bool{}
		for k := range n {
			rb, ok := get[RankedBlob](kv, keyRank(k))
			if !ok || !model[rb.Position] || seen[rb.Position] || rb.BlobID != blob(rb.Position) || indexBlobAt(kv, k) != rb.BlobID {
				t.Fatalf("rank %d: %+v (present %v, in the model %v, seen %v)", k, rb, ok, model[rb.Position], seen[rb.Position])
			}
			seen[rb.Position] = true
			if r, ok := get[u64Value](kv, keyRankOf(rb.Position)); !ok || r.v != k {
				t.Fatalf("position %d at rank %d records rank %d (%v)", rb.Position, k, r.v, ok)
			}
		}
		if _, ok := kv.Get(keyRank(n)); ok {
			t.Fatalf("a rank beyond the total %d", n)
		}
	})
}

// seedIndex counts positions 0..n-1 directly (ranks equal positions), with blob IDs blob(pos).
func seedIndex(kv Store, n uint64, blob func(pos uint64) redstuff.BlobID) {
	for p := range n {
		kv.Set(keyRank(p), encodeBCS(&RankedBlob{Position: p, BlobID: blob(p)}))
		kv.Set(keyRankOf(p), encodeBCS(&u64Value{p}))
	}
	setIndexTotal(kv, n)
}

// TestChallengeQuery: the items of a member come once the seed is fixed, for the current
// epoch only, and equal what ChallengeItems computes from the index.
func TestChallengeQuery(t *testing.T) {
	env := challengeFixture(t)
	n1 := env.object("n1")
	st, err := env.app.View().Challenge(ChallengeRequest{Epoch: 1, HasNode: true, Node: n1})
	if err != nil {
		t.Fatal(err)
	}
	if st.Phase != PhaseAnswer || st.Blobs != 2 || st.Revealed != 4 || len(st.Items) != 8 {
		t.Fatalf("state %+v", st)
	}
	ids := []redstuff.BlobID{env.blob("b1", 0).id, env.blob("b2", 0).id}
	for _, it := range st.Items {
		if !slices.Contains(ids, it.Blob) {
			t.Fatalf("item of an unknown blob %s", it.Blob)
		}
	}
	if _, err := env.app.View().Challenge(ChallengeRequest{Epoch: 7}); CodeOf(err) != CodeNotFound {
		t.Errorf("future epoch: %v", err)
	}
	raw, err := env.app.Query(QueryChallenge, ChallengeRequest{Epoch: 1, HasNode: true, Node: n1}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := DecodeChallengeState(raw); err != nil || !slices.Equal(got.Items, st.Items) {
		t.Errorf("query answer %v, %v", got.Items, err)
	}
}

// TestChallengesDisabled: on a chain without challenges every challenge payload and query is
// refused, and governance of a challenge parameter too.
func TestChallengesDisabled(t *testing.T) {
	env := newScriptEnv(t)
	script := `
genesis
account alice 1000WAL
account n1-op 10WAL
node n1 stake=100WAL shards=0-9
----

block
n1-op reveal n1
alice attest n1
n1-op propose n1 challenge-samples=5
n1-op propose n1 stake-penalty-bps=100 stake-min-epochs=2
----
`
	cases := parseScript(t, script)
	var b strings.Builder
	for _, c := range cases {
		b.Reset()
		env.out = &b
		env.run(c)
	}
	out := b.String()
	for _, want := range []string{"reveal: error ChallengesDisabled", "attest: error ChallengesDisabled",
		"propose: error ChallengesDisabled", "propose: ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if _, err := env.app.Query(QueryChallenge, ChallengeRequest{}.Encode()); CodeOf(err) != CodeChallengesDisabled {
		t.Errorf("query: %v", err)
	}
}

// TestParamsEncodingCompatible: parameters without challenges encode as before (the
// genesis digests of existing chains do not change), and with challenges round-trip.
func TestParamsEncodingCompatible(t *testing.T) {
	p := Params{ChainID: "c", NShards: 10, EpochDuration: 1}
	base := p.Encode()
	p.IndexByteFee = 5
	withFee := p.Encode()
	if len(withFee) != len(base)+8 {
		t.Errorf("index fee adds %d bytes", len(withFee)-len(base))
	}
	p.IndexByteFee = 0
	p.Challenge = DefaultChallengeParams()
	enc := p.Encode()
	got, err := DecodeParams(enc)
	if err != nil || got != p {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	// Non-canonical: a zero index fee with nothing after it, disabled challenge params.
	if _, err := DecodeParams(append(bytes.Clone(base), make([]byte, 8)...)); err == nil {
		t.Errorf("zero index fee alone decodes")
	}
	if _, err := DecodeParams(append(bytes.Clone(base), make([]byte, 8+18)...)); err == nil {
		t.Errorf("disabled challenge parameters decode")
	}
}

// FuzzChallengeQueries: the challenge and governance queries never panic on any request,
// answer only with chain codes, and what they answer decodes and re-encodes identically.
func FuzzChallengeQueries(f *testing.F) {
	env := challengeFixture(f)
	paths := []string{QueryChallenge, QuerySettings, QueryProposals}
	n1 := env.object("n1")
	f.Add(uint8(0), ChallengeRequest{Epoch: 1, HasNode: true, Node: n1}.Encode())
	f.Add(uint8(0), ChallengeRequest{Epoch: 0}.Encode())
	f.Add(uint8(1), []byte{})
	f.Add(uint8(2), []byte{1, 0, 0, 0})
	f.Fuzz(func(t *testing.T, which uint8, req []byte) {
		path := paths[int(which)%len(paths)]
		out, err := env.app.Query(path, req)
		if err != nil {
			if _, ok := codeTable[CodeOf(err)]; !ok {
				t.Fatalf("%s: error without a chain code: %v", path, err)
			}
			return
		}
		var re []byte
		switch path {
		case QueryChallenge:
			v, err := DecodeChallengeState(out)
			if err != nil {
				t.Fatal(err)
			}
			re = encodeBCS(&v)
		case QuerySettings:
			v, err := DecodeSettings(out)
			if err != nil {
				t.Fatal(err)
			}
			re = encodeBCS(&v)
		case QueryProposals:
			v, err := DecodeProposalList(out)
			if err != nil {
				t.Fatal(err)
			}
			re = encodeBCS(&v)
		}
		if !bytes.Equal(re, out) {
			t.Fatalf("%s: answer re-encodes differently", path)
		}
	})
}

// FuzzChallengeDecoders: the decoders of challenge records and answers never panic, and
// what decodes re-encodes to the same bytes.
func FuzzChallengeDecoders(f *testing.F) {
	st := ChallengeState{Epoch: 1, Phase: PhaseAnswer, Members: []MemberChallenge{{Node: ObjectID{1}, Shards: 3}},
		Items: []ChallengeItem{{Blob: redstuff.BlobID{2}, Shard: 3, Axis: 1, Symbol: 4}}}
	f.Add(uint8(0), encodeBCS(&st))
	f.Add(uint8(1), encodeBCS(&Settings{ProtocolVersion: 1, EpochDuration: 5, Challenge: DefaultChallengeParams()}))
	f.Add(uint8(2), encodeBCS(&ProposalList{Proposals: []Proposal{{Changes: []ParamChange{{"a", 1}}}}}))
	f.Add(uint8(3), encodeBCS(&ChallengeRecord{Epoch: 1, Blobs: 2}))
	f.Add(uint8(4), encodeBCS(&NodeChallenge{Revealed: true}))
	f.Add(uint8(5), ChallengeRequest{HasNode: true}.Encode())
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		var re []byte
		var err error
		roundTrip := func(v bcsValue, e error) {
			if err = e; e == nil {
				re = encodeBCS(v)
			}
		}
		switch which % 6 {
		case 0:
			v, e := DecodeChallengeState(b)
			roundTrip(&v, e)
		case 1:
			v, e := DecodeSettings(b)
			roundTrip(&v, e)
		case 2:
			v, e := DecodeProposalList(b)
			roundTrip(&v, e)
		case 3:
			v, e := decodeBCS[ChallengeRecord](b)
			roundTrip(&v, e)
		case 4:
			v, e := decodeBCS[NodeChallenge](b)
			roundTrip(&v, e)
		case 5:
			v, e := decodeBCS[ChallengeRequest](b)
			roundTrip(&v, e)
		}
		if err == nil && !bytes.Equal(re, b) {
			t.Fatalf("re-encoding differs:\n in %x\nout %x", b, re)
		}
	})
}
