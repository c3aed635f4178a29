package explorer

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/redstuff"
)

type testNet struct {
	chain *fakeChain
	nodes map[string]*fakeNode
	x     *Explorer
	srv   *httptest.Server
	owner chain.Address
}

func newTestNet(t testing.TB, nodes, shards int) *testNet {
	t.Helper()
	tn := &testNet{chain: newFakeChain(nodes, shards), nodes: map[string]*fakeNode{}}
	tn.owner[0] = 0xEE
	for _, p := range tn.chain.pools {
		tn.nodes[p.NetworkAddress] = &fakeNode{}
	}
	x, err := New(context.Background(), Config{Chain: tn.chain, PageSize: 2,
		Dial: func(addr string, _ [chain.NetworkKeySize]byte, _ int) (Node, error) { return tn.nodes[addr], nil }})
	if err != nil {
		t.Fatal(err)
	}
	tn.x = x
	tn.srv = httptest.NewServer(x.Handler())
	t.Cleanup(tn.srv.Close)
	return tn
}

func (tn *testNet) get(t testing.TB, path string, want int) string {
	t.Helper()
	resp, err := http.Get(tn.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d:\n%s", path, resp.StatusCode, want, b)
	}
	return string(b)
}

func (tn *testNet) getJSON(t testing.TB, path string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(tn.get(t, path, 200)), v); err != nil {
		t.Fatal(err)
	}
}

// TestStoredTotals: registration, certification, deletion and expiry move the running
// totals as the chain's blobs would count.
func TestStoredTotals(t *testing.T) {
	tn := newTestNet(t, 4, 10)
	f := tn.chain
	a := f.addBlob(1, tn.owner, 1000, 2, true)
	f.addBlob(2, tn.owner, 2000, 5, false)
	f.addBlob(3, tn.owner, 3000, 5, true)
	f.mu.Lock()
	f.emit(&chain.BlobDeleted{BlobID: f.objects[oid(0xB0, 3)].(*chain.Blob).BlobID, ObjectID: oid(0xB0, 3), EndEpoch: 5, WasCertified: true})
	f.mu.Unlock()
	ctx := context.Background()
	tn.x.Collect(ctx)
	enc, _ := tn.x.agg.enc.EncodedLength(1000)
	enc2, _ := tn.x.agg.enc.EncodedLength(2000)
	want := Stored{Blobs: 2, CertifiedBlobs: 1, Bytes: 3000, EncodedBytes: enc + enc2, MetadataBytes: 2 * tn.x.agg.enc.BilledMetadataSize()}
	if got := tn.x.agg.stored; got != want {
		t.Fatalf("stored %+v, want %+v", got, want)
	}
	f.setEpoch(1)
	f.committee[1] = f.committee[0]
	swapped := f.committee[0]
	swapped.Members = slices.Clone(swapped.Members)
	swapped.Members[0].Shards, swapped.Members[1].Shards = swapped.Members[1].Shards, swapped.Members[0].Shards
	f.committee[2] = swapped
	f.setEpoch(2) // blob 1 expires
	tn.x.Collect(ctx)
	want = Stored{Blobs: 1, Bytes: 2000, EncodedBytes: enc2, MetadataBytes: tn.x.agg.enc.BilledMetadataSize()}
	if got := tn.x.agg.stored; got != want {
		t.Fatalf("after expiry: stored %+v, want %+v", got, want)
	}
	var bv BlobView
	tn.getJSON(t, "/v1/network/blobs/"+a.ID.String(), &bv)
	if bv.Status != "expired" {
		t.Fatalf("expired blob: status %q", bv.Status)
	}
	var ev EpochsView
	tn.getJSON(t, "/v1/network/epochs?limit=10", &ev)
	if len(ev.Epochs) != 3 || ev.Epochs[2].BlobsRegistered != 3 || ev.Epochs[2].BlobsCertified != 2 || !ev.Epochs[1].HasCommittee ||
		ev.Epochs[1].ShardsMoved != 0 || ev.Epochs[0].ShardsMoved != 6 {
		t.Fatalf("epochs %+v", ev.Epochs)
	}
}

// TestPages: every page renders, and its numbers are the JSON API's.
func TestPages(t *testing.T) {
	tn := newTestNet(t, 4, 10)
	b := tn.chain.addBlob(7, tn.owner, 5000, 9, true)
	tn.chain.addBlob(8, tn.owner, 10, 9, true)
	tn.chain.addBlob(9, tn.owner, 10, 9, false)
	tn.chain.accounts[tn.owner] = chain.Account{Balance: 123456789}
	tn.x.Collect(context.Background())

	var ov Overview
	tn.getJSON(t, "/v1/network/overview", &ov)
	if ov.Stored.Blobs != 3 || ov.Stored.Bytes != 5020 || len(ov.Committee) != 4 || ov.Shards.Nakamoto != 2 || ov.Stake.Nakamoto != 1 {
		t.Fatalf("overview %+v", ov)
	}
	html := tn.get(t, "/explorer/", 200)
	for _, want := range []string{`id="stored-blobs">3<`, `id="stored-bytes">5020<`, `id="nakamoto-shards">2<`, `id="nakamoto-stake">1<`,
		`id="challenges">not yet`, `class="up">up: Active`} {
		if !strings.Contains(html, want) {
			t.Errorf("overview page lacks %s", want)
		}
	}

	var np NodePage
	tn.getJSON(t, "/v1/network/nodes", &np)
	if len(np.Nodes) != 2 || np.Next == "" || !np.Nodes[0].Up || np.Nodes[0].Uptime != 1 {
		t.Fatalf("nodes page 1 %+v", np)
	}
	var np2 NodePage
	tn.getJSON(t, "/v1/network/nodes?after="+np.Next, &np2)
	if len(np2.Nodes) != 2 || np2.Next != "" || np2.Nodes[0].NodeID == np.Nodes[1].NodeID {
		t.Fatalf("nodes page 2 %+v", np2)
	}
	if html := tn.get(t, "/explorer/nodes", 200); !strings.Contains(html, `href="/explorer/nodes?after=`+np.Next) {
		t.Error("nodes page has no next link")
	}

	// Node 1 goes down: the next sample shows it.
	tn.nodes["127.0.0.1:9001"].setDown(true)
	tn.x.Collect(context.Background())
	tn.getJSON(t, "/v1/network/nodes", &np)
	if np.Nodes[1].Up || np.Nodes[1].Uptime != 0.5 || !strings.Contains(np.Nodes[1].Health, "unreachable") {
		t.Fatalf("down node %+v", np.Nodes[1])
	}
	if html := tn.get(t, "/explorer/nodes", 200); !strings.Contains(html, "down: unreachable") {
		t.Error("nodes page does not show the node down")
	}

	for _, id := range []string{b.BlobID.String(), b.ID.String()} {
		var bv BlobView
		tn.getJSON(t, "/v1/network/blobs/"+id, &bv)
		if bv.Size != 5000 || bv.Status != "certified" || len(bv.Holders) != 4 || bv.Holders[0].Shards[0] != 0 || !bv.Holders[0].Answers ||
			bv.Holders[1].Answers || bv.EndEpoch != 9 || bv.EndDate == "" || bv.Attributes[0].Value != "blob 7" {
			t.Fatalf("blob %s: %+v", id, bv)
		}
		html := tn.get(t, "/explorer/blobs/"+id, 200)
		for _, want := range []string{`id="size">5000<`, `class="shards">0 4 8<`, `yes: stored`, `href="/v1/blobs/` + b.BlobID.String()} {
			if !strings.Contains(html, want) {
				t.Errorf("blob page lacks %s", want)
			}
		}
	}

	var av AccountView
	tn.getJSON(t, "/v1/network/accounts/"+tn.owner.String(), &av)
	if av.Balance != 123456789 || len(av.Blobs) != 2 || av.NextBlobs == "" {
		t.Fatalf("account %+v", av)
	}
	if html := tn.get(t, "/explorer/accounts/"+tn.owner.String(), 200); !strings.Contains(html, `id="balance">123456789<`) || !strings.Contains(html, "more blobs") {
		t.Error("account page")
	}
	if html := tn.get(t, "/explorer/epochs", 200); !strings.Contains(html, "<svg") || !strings.Contains(html, `data-epoch="0"`) {
		t.Error("epochs page has no chart or row")
	}
}

// TestBadRequests: what a visitor types never reaches the chain unparsed, and gets a clear
// status.
func TestBadRequests(t *testing.T) {
	tn := newTestNet(t, 4, 10)
	tn.x.Collect(context.Background())
	var unknown redstuff.BlobID
	unknown[0] = 1
	for path, code := range map[string]int{
		"/v1/network/blobs/notanid":                          400,
		"/v1/network/blobs/0x12":                             400,
		"/v1/network/blobs/" + unknown.String():              404,
		"/v1/network/blobs/" + oid(0xB0, 99).String():        404,
		"/v1/network/accounts/xyz":                           400,
		"/v1/network/nodes?after=zz":                         400,
		"/explorer/blobs/%3Cscript%3E":                       400,
		"/v1/network/epochs?page=99999999999999999&limit=-1": 200,
	} {
		body := tn.get(t, path, code)
		if strings.Contains(body, "<script>") {
			t.Errorf("%s echoes markup unescaped", path)
		}
	}
}

func TestSearch(t *testing.T) {
	tn := newTestNet(t, 4, 10)
	b := tn.chain.addBlob(1, tn.owner, 10, 9, true)
	tn.x.Collect(context.Background())
	ctx := context.Background()
	for q, want := range map[string]string{
		b.ID.String():     "/explorer/blobs/" + b.ID.String(),
		b.BlobID.String(): "/explorer/blobs/" + b.BlobID.String(),
		tn.owner.String(): "/explorer/accounts/" + tn.owner.String(),
	} {
		if got := tn.x.searchTarget(ctx, q); got != want {
			t.Errorf("search %s: %s, want %s", q, got, want)
		}
	}
}
