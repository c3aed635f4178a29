package chain

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// bucketFixture is a chain with four committee nodes and Alice's funds.
func bucketFixture(t testing.TB) *scriptEnv {
	t.Helper()
	env := newScriptEnv(t)
	env.out = &strings.Builder{}
	env.run(scriptCase{cmd: "genesis shards=10 epoch=1h max-ahead=5 index-fee=1", body: []string{
		"account alice 1000WAL", "node n1 stake=100WAL", "node n2 stake=100WAL", "node n3 stake=100WAL", "node n4 stake=100WAL"}})
	if strings.Contains(env.out.String(), "error") {
		t.Fatal(env.out.String())
	}
	return env
}

// send signs payloads from sender and runs them in one block; every one must succeed.
func (e *scriptEnv) send(t testing.TB, sender string, ps ...Payload) []TxResult {
	t.Helper()
	addr := testAddress(sender)
	nonce := getAccount(e.app.base, addr).Nonce
	var raws [][]byte
	for i, p := range ps {
		tx := &Tx{Payload: p, Fee: e.app.params.MinFeeFor(p), Nonce: nonce + uint64(i)}
		tx.Sign(e.app.params.ChainID, testAccountKey(sender))
		raws = append(raws, tx.Encode())
	}
	e.height++
	e.now += 1e9
	res, err := e.app.FinalizeBlock(BlockHeader{Height: e.height, Time: e.now}, raws)
	if err != nil {
		t.Fatal(err)
	}
	e.commit()
	for _, r := range res.TxResults {
		if r.Code != CodeOK {
			t.Fatalf("transaction failed: %s", r.Log)
		}
	}
	return res.TxResults
}

// listModel is the naive reference of a listing page: filter the sorted keys by prefix and
// cursor, roll keys up into common prefixes, cut at limit.
func listModel(keys []string, r ListRequest) EntryPage {
	type item struct{ key, cp string }
	var items []item
	for _, k := range keys {
		if !strings.HasPrefix(k, r.Prefix) || bytes.Compare([]byte(k), r.Start) < 0 {
			continue
		}
		if i := strings.Index(k[len(r.Prefix):], r.Delimiter); r.Delimiter != "" && i >= 0 {
			cp := k[:len(r.Prefix)+i+len(r.Delimiter)]
			if len(items) > 0 && items[len(items)-1].cp == cp {
				continue
			}
			items = append(items, item{k, cp})
			continue
		}
		items = append(items, item{key: k})
	}
	var page EntryPage
	for i, it := range items {
		if i == entryPageLimit(r.Limit) {
			page.Truncated, page.Next = true, []byte(it.key)
			break
		}
		if it.cp != "" {
			page.CommonPrefixes = append(page.CommonPrefixes, it.cp)
		} else {
			page.Entries = append(page.Entries, Entry{EntryData: EntryData{Key: it.key}})
		}
	}
	return page
}

// TestListingModel checks QueryEntries against listModel: random keys over a small
// alphabet (so that prefixes and delimiters collide), random deletes, and random prefixes,
// delimiters, cursors and page sizes; then paging through a whole listing with Next.
func TestListingModel(t *testing.T) {
	env := bucketFixture(t)
	n := 0
	rapid.Check(t, func(rt *rapid.T) {
		n++
		name := fmt.Sprintf("bucket-%d", n)
		keyGen := rapid.StringMatching(`[ab/.]{1,5}`)
		keys := rapid.SliceOfNDistinct(keyGen, 0, 40, rapid.ID[string]).Draw(rt, "keys")
		env.send(t, "alice", &CreateBucket{Name: name})
		var put []EntryData
		for _, k := range keys {
			put = append(put, EntryData{Key: k, ETag: "e"})
		}
		if len(put) > 0 {
			env.send(t, "alice", &PutEntries{Bucket: name, Entries: put})
		}
		if len(keys) > 0 {
			del := rapid.SliceOfNDistinct(rapid.SampledFrom(keys), 0, len(keys), rapid.ID[string]).Draw(rt, "delete")
			if len(del) > 0 {
				env.send(t, "alice", &DeleteEntries{Bucket: name, Keys: del})
				keys = slices.DeleteFunc(keys, func(k string) bool { return slices.Contains(del, k) })
			}
		}
		slices.Sort(keys)
		r := ListRequest{Owner: testAddress("alice"), Bucket: name,
			Prefix:    rapid.StringMatching(`[ab/.]{0,2}`).Draw(rt, "prefix"),
			Delimiter: rapid.SampledFrom([]string{"", "/", ".", "a", "b/"}).Draw(rt, "delimiter"),
			Limit:     uint32(rapid.IntRange(0, 6).Draw(rt, "limit")),
		}
		if rapid.Bool().Draw(rt, "start") {
			r.Start = []byte(rapid.StringMatching(`[ab/.]{0,4}\x00?`).Draw(rt, "cursor"))
		}
		view := env.app.View()
		strip := func(p EntryPage) EntryPage {
			for i := range p.Entries {
				p.Entries[i] = Entry{EntryData: EntryData{Key: p.Entries[i].Key}}
			}
			return p
		}
		got, err := view.Entries(r)
		if err != nil {
			rt.Fatal(err)
		}
		if diff := cmp.Diff(listModel(keys, r), strip(got), cmp.Comparer(bytes.Equal)); diff != "" {
			rt.Fatalf("page (-model +chain):\n%s", diff)
		}
		// Paging through with Next yields the whole listing once.
		all := listModel(keys, ListRequest{Prefix: r.Prefix, Delimiter: r.Delimiter, Start: r.Start, Limit: MaxEntryPageSize})
		var gotAll EntryPage
		for pages := 0; ; pages++ {
			if pages > len(keys)+1 {
				rt.Fatal("paging does not end")
			}
			p, err := view.Entries(r)
			if err != nil {
				rt.Fatal(err)
			}
			p = strip(p)
			gotAll.Entries = append(gotAll.Entries, p.Entries...)
			gotAll.CommonPrefixes = append(gotAll.CommonPrefixes, p.CommonPrefixes...)
			if !p.Truncated {
				break
			}
			r.Start = p.Next
		}
		if diff := cmp.Diff(all, gotAll, cmp.Comparer(bytes.Equal)); diff != "" {
			rt.Fatalf("paged listing (-model +chain):\n%s", diff)
		}
		// The bucket's entry count is the number of keys.
		b, err := view.Bucket(testAddress("alice"), name)
		if err != nil || b.Entries != uint64(len(keys)) {
			rt.Fatalf("bucket %+v, %v; want %d entries", b, err, len(keys))
		}
	})
}

// TestListingIsARangeScan: a page reads about as many records as it returns, however many
// keys the bucket holds (keys under a common prefix are skipped by restarting the scan after
// it, not read).
func TestListingIsARangeScan(t *testing.T) {
	env := bucketFixture(t)
	env.send(t, "alice", &CreateBucket{Name: "big"})
	for batch := range 5 {
		var put []EntryData
		for i := range 200 {
			put = append(put, EntryData{Key: fmt.Sprintf("dir%d/file%04d", batch, i), ETag: "e"})
		}
		env.send(t, "alice", &PutEntries{Bucket: "big", Entries: put})
	}
	counter := &countingStore{Store: env.app.base}
	view := NewView(counter)
	page, err := view.Entries(ListRequest{Owner: testAddress("alice"), Bucket: "big", Delimiter: "/"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.CommonPrefixes) != 5 || page.Truncated {
		t.Fatalf("page %+v", page)
	}
	if counter.visited > 20 {
		t.Errorf("listing 5 common prefixes of 1000 keys visited %d records", counter.visited)
	}
	counter.visited = 0
	page, err = view.Entries(ListRequest{Owner: testAddress("alice"), Bucket: "big", Prefix: "dir3/", Start: StartAfter("dir3/file0100"), Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 10 || page.Entries[0].Key != "dir3/file0101" || !page.Truncated {
		t.Fatalf("page %+v", page)
	}
	if counter.visited > 11 {
		t.Errorf("a page of 10 visited %d records", counter.visited)
	}
}

type countingStore struct {
	Store
	visited int
}

func (c *countingStore) Iterate(start, end []byte, fn func(k, v []byte) bool) {
	c.Store.Iterate(start, end, func(k, v []byte) bool {
		c.visited++
		return fn(k, v)
	})
}

func TestCheckBucketName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"abc", true}, {"my-bucket.2024", true}, {strings.Repeat("a", 63), true}, {"1.2.3", true},
		{"ab", false}, {strings.Repeat("a", 64), false}, {"Abc", false}, {"a_b", false}, {"a..b", false},
		{".ab", false}, {"ab-", false}, {"10.0.0.1", false}, {"xn--abc", false}, {"sthree-x", false},
		{"abc-s3alias", false}, {"abc--ol-s3", false}, {"ab c", false}, {"abç", false},
	} {
		if err := CheckBucketName(tc.name); (err == nil) != tc.ok {
			t.Errorf("CheckBucketName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
	for _, tc := range []struct {
		key string
		ok  bool
	}{
		{"a", true}, {"dir/ü/✓ x", true}, {strings.Repeat("k", 1024), true},
		{"", false}, {strings.Repeat("k", 1025), false}, {"a\x00b", false}, {"\xff", false},
	} {
		if err := CheckObjectKey(tc.key); (err == nil) != tc.ok {
			t.Errorf("CheckObjectKey(%q) = %v, want ok=%v", tc.key, err, tc.ok)
		}
	}
}

// TestIndexFee: the minimum fee of an index write is MinFee + IndexByteFee × payload bytes;
// deletes pay MinFee.
func TestIndexFee(t *testing.T) {
	p := Params{MinFee: 1000, IndexByteFee: 10}
	put := &PutEntries{Bucket: "abc", Entries: []EntryData{{Key: "k", ETag: "e"}}}
	size := uint64(len(encodeBCS(put)))
	if got, want := p.MinFeeFor(put), 1000+10*size; got != want {
		t.Errorf("put fee %d, want %d", got, want)
	}
	if got := p.MinFeeFor(&DeleteEntries{Bucket: "abc", Keys: []string{"k"}}); got != 1000 {
		t.Errorf("delete fee %d, want 1000", got)
	}
	p.IndexByteFee = 1 << 62
	if got := p.MinFeeFor(put); got != ^uint64(0) {
		t.Errorf("overflowing fee %d, want saturation", got)
	}
}

// FuzzBucketQueries: the bucket query decoders never panic on any input, answer only with
// chain codes, and what they answer decodes.
func FuzzBucketQueries(f *testing.F) {
	env := bucketFixture(f)
	env.send(f, "alice", &CreateBucket{Name: "fuzz"})
	env.send(f, "alice", &PutEntries{Bucket: "fuzz", Entries: []EntryData{{Key: "a/b", ETag: "e"}, {Key: "c", ETag: "e"}}},
		&CreateUpload{Bucket: "fuzz", ID: "u1", Key: "a/b"})
	alice := testAddress("alice")
	paths := []string{QueryBucket, QueryBuckets, QueryEntry, QueryEntries, QueryUploads, QueryUpload, QueryParts}
	decoders := map[string]func([]byte) error{
		QueryBucket:  func(b []byte) error { _, err := DecodeBucket(b); return err },
		QueryBuckets: func(b []byte) error { _, err := DecodeBucketPage(b); return err },
		QueryEntry:   func(b []byte) error { _, err := DecodeEntry(b); return err },
		QueryEntries: func(b []byte) error { _, err := DecodeEntryPage(b); return err },
		QueryUploads: func(b []byte) error { _, err := DecodeUploadPage(b); return err },
		QueryUpload:  func(b []byte) error { _, err := DecodeUpload(b); return err },
		QueryParts:   func(b []byte) error { _, err := DecodePartPage(b); return err },
	}
	for i, req := range [][]byte{
		BucketRequest{Owner: alice, Name: "fuzz"}.Encode(),
		BucketsRequest{Owner: alice}.Encode(),
		EntryRequest{Owner: alice, Bucket: "fuzz", Key: "c"}.Encode(),
		ListRequest{Owner: alice, Bucket: "fuzz", Delimiter: "/", Start: StartAfter("a")}.Encode(),
		UploadsRequest{Owner: alice, Bucket: "fuzz", Start: UploadCursor("a", "")}.Encode(),
		UploadRequest{Owner: alice, Bucket: "fuzz", Upload: "u1"}.Encode(),
		PartsRequest{Owner: alice, Bucket: "fuzz", Upload: "u1"}.Encode(),
	} {
		f.Add(uint8(i), req)
	}
	f.Fuzz(func(t *testing.T, which uint8, req []byte) {
		path := paths[int(which)%len(paths)]
		out, err := env.app.Query(path, req)
		if err != nil {
			if _, ok := codeTable[CodeOf(err)]; !ok || CodeOf(err) == CodeUnknownQuery {
				t.Fatalf("%s: error without a chain code: %v", path, err)
			}
			return
		}
		if err := decoders[path](out); err != nil {
			t.Fatalf("%s: answer does not decode: %v", path, err)
		}
	})
}
