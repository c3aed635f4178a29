package site

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/redstuff"
)

func file(p, data string) File {
	return File{Path: p, Data: []byte(data), Hash: sha256.Sum256([]byte(data)), Headers: headersFor(p, &Config{})}
}

func resource(f File) chain.Resource {
	return chain.Resource{Path: f.Path, Hash: f.Hash, Size: uint64(len(f.Data)), Headers: f.Headers, BlobID: redstuff.BlobID{1}}
}

func TestMakePlan(t *testing.T) {
	a, b, c := file("/a.html", "a"), file("/b.css", "b"), file("/c.js", "c")
	bNew := file("/b.css", "B")
	cHdr := c
	cHdr.Headers = []chain.Attribute{{Key: "cache-control", Value: "no-cache"}, {Key: "content-type", Value: "text/javascript"}}
	p := MakePlan([]File{a, bNew, cHdr, file("/d.png", "d")}, []chain.Resource{resource(a), resource(b), resource(c), resource(file("/gone", "x"))})
	var got []string
	for _, ch := range p.Changes {
		got = append(got, string(ch.Kind)+" "+ch.Path)
	}
	if s := strings.Join(got, ", "); s != "changed /b.css, headers /c.js, added /d.png, removed /gone" {
		t.Errorf("changes: %s", s)
	}
	if p.Unchanged != 1 || len(p.Upload) != 2 || len(p.Rewrite) != 1 || p.Rewrite[0].BlobID != (redstuff.BlobID{1}) ||
		len(p.Remove) != 1 {
		t.Errorf("plan: %+v", p)
	}
	if p := MakePlan([]File{a}, []chain.Resource{resource(a)}); len(p.Changes) != 0 || p.Unchanged != 1 {
		t.Errorf("no change: %+v", p)
	}
}

func TestPack(t *testing.T) {
	var files []*File
	for i := range 7 {
		f := file(fmt.Sprintf("/f%d", i), strings.Repeat("x", 10))
		files = append(files, &f)
	}
	big := file("/big", strings.Repeat("x", 100))
	files = append(files, &big)
	quilts, blobs := Pack(files, 50, 3, 25)
	if len(blobs) != 1 || blobs[0].Path != "/big" {
		t.Errorf("blobs: %v", blobs)
	}
	var sizes []int
	for _, q := range quilts {
		sizes = append(sizes, len(q))
	}
	if fmt.Sprint(sizes) != "[2 2 2 1]" { // 25 bytes hold two 10-byte files
		t.Errorf("quilt sizes %v", sizes)
	}
	quilts, _ = Pack(files[:7], 50, 3, 1000)
	if len(quilts) != 3 || len(quilts[0]) != 3 {
		t.Errorf("by count: %d quilts", len(quilts))
	}
}

func TestBatches(t *testing.T) {
	var put []chain.Resource
	for i := range 2500 {
		put = append(put, resource(file(fmt.Sprintf("/f%05d", i), "x")))
	}
	bs := Batches(put, []string{"/old"}, 1<<30)
	if len(bs) != 3 || len(bs[0].Put) != chain.MaxSiteBatch || len(bs[2].Put) != 500 || len(bs[2].Remove) != 1 {
		t.Errorf("by count: %d batches", len(bs))
	}
	one := put[0].EncodedSize()
	bs = Batches(put[:10], nil, 3*one)
	if len(bs) != 4 || len(bs[0].Put) != 3 {
		t.Errorf("by bytes: %d batches", len(bs))
	}
	if bs := Batches(nil, nil, 100); len(bs) != 1 || len(bs[0].Put) != 0 {
		t.Errorf("empty: %v", bs)
	}
}

func TestScan(t *testing.T) {
	fsys := fstest.MapFS{
		"index.html":            {Data: []byte("<p>")},
		"ws-resources.json":     {Data: []byte("{}")},
		"img/a.png":             {Data: []byte("png")},
		"private/x":             {Data: []byte("secret")},
		"sub/ws-resources.json": {Data: []byte("deployed: only the top one is the configuration")},
	}
	cfg := &Config{Ignore: []string{"/private/*"}, Headers: map[string]map[string]string{"/index.html": {"cache-control": "no-cache"}}}
	files, err := Scan(fsys, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range files {
		paths = append(paths, f.Path)
	}
	if s := strings.Join(paths, " "); s != "/img/a.png /index.html /sub/ws-resources.json" {
		t.Errorf("paths %s", s)
	}
	if h := files[1].Headers; len(h) != 2 || h[0] != (chain.Attribute{Key: "cache-control", Value: "no-cache"}) ||
		h[1].Value != "text/html; charset=utf-8" {
		t.Errorf("headers %v", h)
	}
	if _, err := Scan(fstest.MapFS{"a b\x01": {Data: nil}}, &Config{}); err == nil {
		t.Error("a path with a control character was accepted")
	}
}

// fakeStorage and fakeChain run Deploy against an in-memory model of the chain: the
// planning and batching are what is tested here; the devnet test runs the real thing.
type fakeStorage struct{ stored int }

func (s *fakeStorage) Encoding(context.Context) (*redstuff.Config, error) {
	return redstuff.NewConfig(10)
}
func (s *fakeStorage) Store(_ context.Context, data []byte) (redstuff.BlobID, error) {
	s.stored++
	return redstuff.BlobID(sha256.Sum256(data)), nil
}

type fakeChain struct {
	sites map[chain.ObjectID]*chain.Site
	res   map[chain.ObjectID]map[string]chain.Resource
	txs   int
}

func (c *fakeChain) Site(_ context.Context, id chain.ObjectID) (chain.Site, error) {
	s, ok := c.sites[id]
	if !ok {
		return chain.Site{}, chain.ErrUnknownObject
	}
	return *s, nil
}

func (c *fakeChain) Resources(_ context.Context, id chain.ObjectID) ([]chain.Resource, error) {
	var out []chain.Resource
	for _, r := range c.res[id] {
		out = append(out, r)
	}
	sortResources(out)
	return out, nil
}

func sortResources(rs []chain.Resource) {
	for i := range rs {
		for j := i + 1; j < len(rs); j++ {
			if rs[j].Path < rs[i].Path {
				rs[i], rs[j] = rs[j], rs[i]
			}
		}
	}
}

func (c *fakeChain) OwnedSites(context.Context) ([]chain.Site, error) {
	var out []chain.Site
	for _, s := range c.sites {
		out = append(out, *s)
	}
	return out, nil
}

func (c *fakeChain) Submit(_ context.Context, p chain.Payload) ([]chain.ObjectID, error) {
	c.txs++
	apply := func(id chain.ObjectID, put []chain.Resource, rm []string) {
		for _, r := range put {
			c.res[id][r.Path] = r
		}
		for _, p := range rm {
			delete(c.res[id], p)
		}
		c.sites[id].Resources = uint64(len(c.res[id]))
	}
	switch p := p.(type) {
	case *chain.CreateSite:
		id := chain.ObjectID{byte(len(c.sites) + 1)}
		c.sites[id] = &chain.Site{ID: id, Name: p.Name, Routes: p.Routes, Metadata: p.Metadata}
		c.res[id] = map[string]chain.Resource{}
		apply(id, p.Resources, nil)
		return []chain.ObjectID{id}, nil
	case *chain.UpdateSite:
		if p.SetInfo {
			c.sites[p.Site].Name = p.Name
		}
		apply(p.Site, p.Put, p.Remove)
	}
	return nil, nil
}

func TestDeployFake(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		if err := writeFile(dir, name, data); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		write(fmt.Sprintf("page%02d.html", i), fmt.Sprintf("page %d", i))
	}
	write("big.bin", strings.Repeat("b", 2<<20))
	st, ch := &fakeStorage{}, &fakeChain{sites: map[chain.ObjectID]*chain.Site{}, res: map[chain.ObjectID]map[string]chain.Resource{}}
	res, err := Deploy(context.Background(), st, ch, dir, Options{SiteName: "s"})
	if err != nil {
		t.Fatal(err)
	}
	// The 20 pages go into quilts (as many as 10 shards' columns need), the 2 MiB file is a
	// blob, and the whole site is one CreateSite.
	if !res.Created || res.Resources != 21 || res.Blobs != 1 || res.Quilts == 0 || res.Transactions != 1 {
		t.Fatalf("first deploy %+v", res)
	}
	for _, r := range ch.res[res.Site] {
		if r.Path != "/big.bin" && len(r.PatchID) != 5 {
			t.Errorf("%s is not a quilt patch", r.Path)
		}
	}
	st.stored, ch.txs = 0, 0
	res, err = Deploy(context.Background(), st, ch, dir, Options{SiteName: "s"})
	if err != nil || res.Created || len(res.Changes) != 0 || st.stored != 0 || ch.txs != 0 {
		t.Fatalf("unchanged redeploy: %+v %v, %d stored, %d txs", res, err, st.stored, ch.txs)
	}
	write("page03.html", "changed")
	res, err = Deploy(context.Background(), st, ch, dir, Options{SiteName: "s", BatchBytes: 1})
	if err != nil || len(res.Changes) != 1 || st.stored != 1 || ch.txs != 1 || res.Unchanged != 20 {
		t.Fatalf("one change: %+v %v, %d stored, %d txs", res, err, st.stored, ch.txs)
	}
}
