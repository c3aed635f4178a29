package chainindex_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/crypto/blake2b"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/chain/chainnode"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/s3"
	"github.com/walrus-go/walrus/internal/s3/chainindex"
	"github.com/walrus-go/walrus/internal/testvec"
)

// startChain runs a single in-process validator (real CometBFT, real ABCI app) with a
// funded gateway account and returns a client and the account's signer.
func startChain(t *testing.T) (*chainclient.Client, *chainclient.Signer) {
	t.Helper()
	seed := blake2b.Sum256([]byte("chainindex-test:gateway"))
	gw := chainclient.NewSigner(ed25519.NewKeyFromSeed(seed[:]))
	var rs [32]byte
	rs[0] = 19
	g, _, err := chainnode.DevnetGenesis(chainnode.DevnetOptions{
		ChainID: "chainindex-test", GenesisTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), EpochDuration: 10 * 365 * 24 * time.Hour,
		Accounts: []chain.GenesisAccount{{Address: gw.Address(), Balance: 1000 * chain.FrostPerWAL}},
		Rand:     rand.NewChaCha8(rs),
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := chainnode.Config{Home: t.TempDir(), P2PListen: "127.0.0.1:0", RPCListen: chainnode.RPCOff, Heartbeat: -1, Logger: testvec.Logger()}
	if cfg, err = chainnode.GenerateSingle(cfg, g); err != nil {
		t.Fatal(err)
	}
	node, err := chainnode.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := chainclient.New(node.Client(), chainclient.Options{Logger: testvec.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		if err := node.Close(); err != nil {
			t.Errorf("close node: %v", err)
		}
	})
	testvec.WaitFor(t, 2*time.Minute, "first block", func() (bool, error) {
		cm, _ := node.App().LastCommit()
		return cm.Height >= 1, nil
	})
	return c, gw
}

// ignoreTimes ignores the times, which the chain takes from its blocks and MemIndex from
// the caller.
var ignoreTimes = cmp.Options{
	cmpopts.IgnoreFields(s3.Entry{}, "ModTime"), cmpopts.IgnoreFields(s3.Part{}, "ModTime"),
	cmpopts.IgnoreFields(s3.Upload{}, "Initiated"), cmpopts.IgnoreFields(s3.Bucket{}, "Created"),
	cmpopts.EquateEmpty(),
}

// errKind names the s3 sentinel an error wraps, so that the two indexes' errors compare.
func errKind(err error) string {
	for _, s := range []error{s3.ErrNoSuchBucket, s3.ErrBucketExists, s3.ErrBucketNotEmpty, s3.ErrNoSuchKey, s3.ErrNoSuchUpload} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	if err != nil {
		return "other: " + err.Error()
	}
	return "ok"
}

// pair runs every operation against the chain index and MemIndex, the gateway's reference,
// and requires the same results (times aside).
type pair struct {
	t     *testing.T
	ctx   context.Context
	chain *chainindex.Index
	mem   *s3.MemIndex
}

func (p *pair) same(what string, do func(ix s3.Index) (any, error)) any {
	p.t.Helper()
	got, gotErr := do(p.chain)
	want, wantErr := do(p.mem)
	if errKind(gotErr) != errKind(wantErr) {
		p.t.Fatalf("%s: chain index error %v, MemIndex error %v", what, gotErr, wantErr)
	}
	if diff := cmp.Diff(want, got, ignoreTimes); diff != "" {
		p.t.Fatalf("%s (-MemIndex +chain index):\n%s", what, diff)
	}
	return got
}

func entry(key string, n byte) s3.Entry {
	return s3.Entry{Key: key, Blob: s3.Blob{ID: redstuff.BlobID{n, 1}, Object: chain.ObjectID{}}, Size: int64(n) * 10,
		ETag: fmt.Sprintf("%032x", n), ContentType: "text/plain", Metadata: []s3.Meta{{Name: "n", Value: fmt.Sprint(n)}}}
}

// TestMatchesMemIndex drives the chain index and MemIndex through buckets, batches,
// overwrites, listings (prefix, delimiter, paging through common prefixes), deletes split
// over several transactions, and multipart uploads, and compares every answer.
func TestMatchesMemIndex(t *testing.T) {
	c, gw := startChain(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	p := &pair{t: t, ctx: ctx, chain: chainindex.New(c, gw), mem: s3.NewMemIndex()}

	p.same("create", func(ix s3.Index) (any, error) { return nil, ix.CreateBucket(ctx, s3.Bucket{Name: "backups"}) })
	p.same("create again", func(ix s3.Index) (any, error) { return nil, ix.CreateBucket(ctx, s3.Bucket{Name: "backups"}) })
	p.same("create second", func(ix s3.Index) (any, error) { return nil, ix.CreateBucket(ctx, s3.Bucket{Name: "archive"}) })
	p.same("list buckets", func(ix s3.Index) (any, error) { return ix.ListBuckets(ctx) })
	p.same("head missing", func(ix s3.Index) (any, error) { return ix.HeadBucket(ctx, "nope") })
	p.same("put to missing", func(ix s3.Index) (any, error) {
		return ix.PutEntries(ctx, "nope", []s3.Entry{entry("k", 1)})
	})

	var batch []s3.Entry
	for i, k := range []string{"a/1", "a/2", "a/b/3", "b/1", "c", "cat.jpg", "d/x/y", "d/z", "e"} {
		batch = append(batch, entry(k, byte(i+1)))
	}
	p.same("put batch", func(ix s3.Index) (any, error) { return ix.PutEntries(ctx, "backups", batch) })
	p.same("overwrite", func(ix s3.Index) (any, error) {
		return ix.PutEntries(ctx, "backups", []s3.Entry{entry("c", 40), entry("new", 41)})
	})
	p.same("get", func(ix s3.Index) (any, error) { return ix.GetEntry(ctx, "backups", "c") })
	p.same("get missing", func(ix s3.Index) (any, error) { return ix.GetEntry(ctx, "backups", "zz") })

	for _, q := range []s3.ListQuery{
		{}, {Delimiter: "/"}, {Delimiter: "/", Max: 2}, {Prefix: "a/", Delimiter: "/"}, {Prefix: "d/", Max: 1},
		{After: "a/1", Delimiter: "/"}, {After: "a/", Delimiter: "/"}, {After: "b", Max: 3}, {Prefix: "zzz"},
	} {
		// Page through to the end, comparing every page.
		for pages := 0; ; pages++ {
			page := p.same(fmt.Sprintf("list %+v", q), func(ix s3.Index) (any, error) { return ix.List(ctx, "backups", q) }).(s3.ListPage)
			if page.Next == "" {
				break
			}
			if pages > 20 {
				t.Fatalf("list %+v does not end", q)
			}
			q.After = page.Next
		}
	}

	p.same("delete non-empty bucket", func(ix s3.Index) (any, error) { return nil, ix.DeleteBucket(ctx, "backups") })
	p.same("delete keys", func(ix s3.Index) (any, error) {
		return ix.DeleteKeys(ctx, "backups", []string{"a/2", "missing", "cat.jpg"})
	})

	// Keys whose deletion does not fit one transaction are deleted by several.
	var long []s3.Entry
	var longKeys []string
	for i := range 120 {
		k := fmt.Sprintf("long/%03d/%s", i, strings.Repeat("x", 900))
		long = append(long, entry(k, byte(i)))
		longKeys = append(longKeys, k)
	}
	for i := 0; i < len(long); i += 40 {
		p.same("put long keys", func(ix s3.Index) (any, error) { return ix.PutEntries(ctx, "archive", long[i:i+40]) })
	}
	p.same("delete long keys", func(ix s3.Index) (any, error) {
		return ix.DeleteKeys(ctx, "archive", append(longKeys, "absent"))
	})
	p.same("list emptied", func(ix s3.Index) (any, error) { return ix.List(ctx, "archive", s3.ListQuery{}) })

	// Multipart uploads.
	up := func(id, key string) s3.Upload {
		return s3.Upload{ID: id, Key: key, ContentType: "application/x-tar", Metadata: []s3.Meta{{Name: "owner", Value: "ops"}}}
	}
	part := func(n int, b byte) s3.Part {
		return s3.Part{Number: n, Blob: s3.Blob{ID: redstuff.BlobID{b, 2}}, Size: int64(n) << 20, ETag: fmt.Sprintf("%032x", b)}
	}
	for _, u := range []s3.Upload{up("0a0a", "big.tar"), up("0b0b", "big.tar"), up("0c0c", "c"), up("0d0d", "other")} {
		p.same("create upload "+u.ID, func(ix s3.Index) (any, error) { return nil, ix.CreateUpload(ctx, "backups", u) })
	}
	p.same("upload to missing bucket", func(ix s3.Index) (any, error) { return nil, ix.CreateUpload(ctx, "nope", up("x", "k")) })
	p.same("get upload", func(ix s3.Index) (any, error) { return ix.GetUpload(ctx, "backups", "0a0a") })
	p.same("get missing upload", func(ix s3.Index) (any, error) { return ix.GetUpload(ctx, "backups", "ffff") })
	for _, pt := range []s3.Part{part(1, 1), part(2, 2), part(3, 3), part(2, 4)} {
		p.same(fmt.Sprintf("record part %d", pt.Number), func(ix s3.Index) (any, error) { return ix.RecordPart(ctx, "backups", "0a0a", pt) })
	}
	p.same("part of missing upload", func(ix s3.Index) (any, error) { return ix.RecordPart(ctx, "backups", "ffff", part(1, 1)) })
	p.same("list parts", func(ix s3.Index) (any, error) {
		ps, more, err := ix.ListParts(ctx, "backups", "0a0a", 0, 1000)
		return []any{ps, more}, err
	})
	p.same("list parts paged", func(ix s3.Index) (any, error) {
		ps, more, err := ix.ListParts(ctx, "backups", "0a0a", 1, 1)
		return []any{ps, more}, err
	})
	for _, q := range []s3.UploadQuery{{Max: 1000}, {Prefix: "big", Max: 1000}, {Max: 1}, {AfterKey: "big.tar", AfterID: "0a0a", Max: 1000}, {AfterKey: "big.tar", Max: 1000}, {AfterKey: "c", Max: 1}} {
		p.same(fmt.Sprintf("list uploads %+v", q), func(ix s3.Index) (any, error) {
			us, more, err := ix.ListUploads(ctx, "backups", q)
			return []any{us, more}, err
		})
	}
	done := entry("big.tar", 50)
	done.Blob.Manifest = true
	done.ContentType, done.Metadata = "application/x-tar", []s3.Meta{{Name: "owner", Value: "ops"}}
	p.same("complete", func(ix s3.Index) (any, error) {
		old, parts, err := ix.CompleteUpload(ctx, "backups", "0a0a", done)
		return []any{old, parts}, err
	})
	p.same("complete again", func(ix s3.Index) (any, error) {
		old, parts, err := ix.CompleteUpload(ctx, "backups", "0a0a", done)
		return []any{old, parts}, err
	})
	p.same("completed entry", func(ix s3.Index) (any, error) { return ix.GetEntry(ctx, "backups", "big.tar") })
	c2 := entry("c", 60)
	c2.ContentType, c2.Metadata = "application/x-tar", []s3.Meta{{Name: "owner", Value: "ops"}}
	p.same("complete over an entry", func(ix s3.Index) (any, error) {
		old, parts, err := ix.CompleteUpload(ctx, "backups", "0c0c", c2)
		return []any{old, parts}, err
	})
	p.same("abort", func(ix s3.Index) (any, error) { return ix.AbortUpload(ctx, "backups", "0b0b") })
	p.same("abort missing", func(ix s3.Index) (any, error) { return ix.AbortUpload(ctx, "backups", "0b0b") })
	p.same("uploads left", func(ix s3.Index) (any, error) {
		us, more, err := ix.ListUploads(ctx, "backups", s3.UploadQuery{Max: 1000})
		return []any{us, more}, err
	})

	// Emptied, the buckets can be deleted.
	p.same("abort last", func(ix s3.Index) (any, error) { return ix.AbortUpload(ctx, "backups", "0d0d") })
	all := p.same("list all", func(ix s3.Index) (any, error) { return ix.List(ctx, "backups", s3.ListQuery{}) }).(s3.ListPage)
	var keys []string
	for _, e := range all.Entries {
		keys = append(keys, e.Key)
	}
	p.same("delete all", func(ix s3.Index) (any, error) { return ix.DeleteKeys(ctx, "backups", keys) })
	p.same("delete bucket", func(ix s3.Index) (any, error) { return nil, ix.DeleteBucket(ctx, "backups") })
	p.same("list buckets at the end", func(ix s3.Index) (any, error) { return ix.ListBuckets(ctx) })

	// The chain's times are block times: after the genesis, not zero.
	b, err := p.chain.HeadBucket(ctx, "archive")
	if err != nil || b.Created.Year() < 2026 {
		t.Fatalf("bucket %+v, %v", b, err)
	}
}
