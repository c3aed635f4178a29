package chain

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestQuery(t *testing.T) {
	env := rejectionFixture(t)
	app := env.app
	alice := testAddress("alice")

	// Typed helpers and the BCS entry point agree.
	out, err := app.Query(QueryAccount, alice[:])
	if err != nil {
		t.Fatal(err)
	}
	acct, err := DecodeAccount(out)
	if err != nil || acct != app.View().Account(alice) || acct.Balance == 0 {
		t.Fatalf("account %+v, %v", acct, err)
	}
	out, err = app.Query(QuerySystem, nil)
	if err != nil {
		t.Fatal(err)
	}
	sys, err := DecodeSystemState(out)
	if err != nil || sys.Epoch != 1 || sys.EpochState != StateEpochChangeDone {
		t.Fatalf("system %+v, %v", sys, err)
	}
	out, err = app.Query(QueryParams, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := DecodeParams(out); err != nil || p.ChainID != "walrus-test" || p.NShards != 10 {
		t.Fatalf("params %+v, %v", p, err)
	}
	bPerm := env.object("bPerm")
	out, err = app.Query(QueryObject, bPerm[:])
	if err != nil {
		t.Fatal(err)
	}
	o, err := DecodeObject(out)
	if err != nil || o.(*Blob).BlobID != env.blob("perm", 0).id {
		t.Fatalf("object %+v, %v", o, err)
	}
	id := env.blob("cert", 0).id
	out, err = app.Query(QueryBlobStatus, id[:])
	if err != nil {
		t.Fatal(err)
	}
	if st, err := DecodeBlobStatus(out); err != nil || st.PermanentCertified != 1 {
		t.Fatalf("status %+v, %v", st, err)
	}
	// The current committee and a past one.
	for _, data := range [][]byte{nil, {0, 0, 0, 0}} {
		out, err = app.Query(QueryCommittee, data)
		if err != nil {
			t.Fatal(err)
		}
		info, err := DecodeCommitteeInfo(out)
		if err != nil || len(info.Members) != 4 || info.Members[0].Name == "" {
			t.Fatalf("committee %+v, %v", info, err)
		}
	}
	out, err = app.Query(QueryPools, PoolsRequest{}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	pools, err := DecodePoolPage(out)
	if err != nil || len(pools.Pools) != 5 || pools.HasNext {
		t.Fatalf("pools %d, %v", len(pools.Pools), err)
	}
	n5 := env.object("n5")
	out, err = app.Query(QueryPool, n5[:])
	if err != nil {
		t.Fatal(err)
	}
	if p, err := DecodePool(out); err != nil || p.Name != "n5" {
		t.Fatalf("pool %+v, %v", p, err)
	}

	// Paging through owned objects.
	var all []ObjectID
	req := OwnedRequest{Owner: alice, Kind: KindStorage, Limit: 1}
	for {
		out, err := app.Query(QueryOwned, req.Encode())
		if err != nil {
			t.Fatal(err)
		}
		page, err := DecodeObjectPage(out)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Objects {
			all = append(all, o.ObjectID())
		}
		if !page.HasNext {
			break
		}
		req.HasAfter, req.After = true, page.Next
	}
	whole := app.View().Owned(OwnedRequest{Owner: alice, Kind: KindStorage})
	var want []ObjectID
	for _, o := range whole.Objects {
		want = append(want, o.ObjectID())
	}
	if len(want) != 3 || !cmp.Equal(all, want) { // sOld, sFree, sTiny
		t.Fatalf("paged %v, whole %v", all, want)
	}

	// Paging through events: pages of 7 give the same events as one page.
	var evs []Event
	cursor := uint64(0)
	for {
		out, err := app.Query(QueryEvents, EventsRequest{Cursor: cursor, Limit: 7}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		page, err := DecodeEventPage(out)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) == 0 {
			if page.Next != cursor {
				t.Fatalf("empty page moved the cursor")
			}
			break
		}
		evs = append(evs, page.Events...)
		cursor = page.Next
	}
	allEvents := app.View().Events(0, 0).Events
	if !cmp.Equal(evs, allEvents) || uint64(len(evs)) != sys.NextEventSeq {
		t.Fatalf("paged %d events, one page %d, next seq %d", len(evs), len(allEvents), sys.NextEventSeq)
	}
	for i, ev := range evs {
		if ev.Seq != uint64(i) {
			t.Fatalf("event %d has seq %d", i, ev.Seq)
		}
	}

	// Errors carry codes.
	for _, c := range []struct {
		path string
		data []byte
		want Code
	}{
		{"/nope", nil, CodeUnknownQuery},
		{QueryAccount, []byte{1}, CodeMalformed},
		{QueryObject, make([]byte, 32), CodeNotFound},
		{QueryPool, make([]byte, 32), CodeNotFound},
		{QueryCommittee, []byte{9, 0, 0, 0}, CodeNotFound},
		{QueryCommittee, []byte{9}, CodeMalformed},
		{QueryEvents, []byte{1}, CodeMalformed},
		{QueryOwned, append(make([]byte, 32), 7, 0, 0, 0, 0, 0), CodeMalformed},
		{QueryParams, []byte{1}, CodeMalformed},
	} {
		_, err := app.Query(c.path, c.data)
		if CodeOf(err) != c.want {
			t.Errorf("%s %x: %v, want code %s", c.path, c.data, err, CodeName(c.want))
		}
	}
}

func TestGenesisValidate(t *testing.T) {
	sk := testBLSKey(t, "g")
	op := testAddress("op")
	good := func() *Genesis {
		return &Genesis{
			Params: Params{ChainID: "c", NShards: 10, EpochDuration: int64(time.Hour), MaxEpochsAhead: 2, MaxCommitteeSize: 5},
			Nodes: []GenesisNode{{Name: "g", NetworkAddress: "g:1", Operator: op, PublicKey: sk.PublicKey().Bytes(),
				NetworkPublicKey: testNetKey("g"), ProofOfPossession: sk.ProvePossession(0, op).Bytes(), Stake: 1}},
		}
	}
	if err := good().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		field  string
		mutate func(g *Genesis)
	}{
		{"Params.ChainID", func(g *Genesis) { g.Params.ChainID = "" }},
		{"Params.NShards", func(g *Genesis) { g.Params.NShards = 3 }},
		{"Params.EpochDuration", func(g *Genesis) { g.Params.EpochDuration = 1 }},
		{"Params.MaxEpochsAhead", func(g *Genesis) { g.Params.MaxEpochsAhead = 0 }},
		{"Params.MaxCommitteeSize", func(g *Genesis) { g.Params.MaxCommitteeSize = 0 }},
		{"Params.BurnBasisPoints", func(g *Genesis) { g.Params.BurnBasisPoints = 10001 }},
		{"Params.EpochSyncTimeout", func(g *Genesis) { g.Params.EpochSyncTimeout = -1 }},
		{"Params.EpochSyncTimeout", func(g *Genesis) { g.Params.EpochSyncTimeout = 1<<60 + 1 }},
		{"Nodes", func(g *Genesis) { g.Nodes = nil }},
		{"Nodes[0].Stake", func(g *Genesis) { g.Nodes[0].Stake = 0 }},
		{"Nodes[0].ProofOfPossession", func(g *Genesis) { g.Nodes[0].Operator = testAddress("other") }},
		{"Nodes[0].NetworkPublicKey", func(g *Genesis) { g.Nodes[0].NetworkPublicKey = [NetworkKeySize]byte{} }},
		{"Nodes[1].PublicKey", func(g *Genesis) { g.Nodes = append(g.Nodes, g.Nodes[0]) }},
		{"Nodes[1].Shards", func(g *Genesis) { g.Nodes = append(g.Nodes, g.Nodes[0]); g.Nodes[0].Shards = []uint16{1} }},
	} {
		g := good()
		c.mutate(g)
		err := g.Validate()
		if err == nil || !strings.Contains(err.Error(), c.field+":") {
			t.Errorf("%s: got %v", c.field, err)
		}
	}
	// Round trip.
	g, err := DecodeGenesis(good().Encode())
	if err != nil || !cmp.Equal(g, good()) {
		t.Fatalf("genesis round trip: %v", err)
	}
}

// TestGenesisExplicitShards starts from a genesis that fixes the shard assignment.
func TestGenesisExplicitShards(t *testing.T) {
	p := Params{ChainID: "c", NShards: 4, EpochDuration: int64(time.Hour), MaxEpochsAhead: 2, MaxCommitteeSize: 5}
	g := &Genesis{Params: p}
	for i, shards := range [][]uint16{{3, 0}, {1, 2}} {
		name := string(rune('a' + i))
		sk, op := testBLSKey(t, name), testAddress(name)
		g.Nodes = append(g.Nodes, GenesisNode{Name: name, NetworkAddress: name + ":1", Operator: op,
			PublicKey: sk.PublicKey().Bytes(), NetworkPublicKey: testNetKey(name), ProofOfPossession: sk.ProvePossession(0, op).Bytes(), Shards: shards})
	}
	app, err := New(NewMemStore())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := app.InitChain(g); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	info, err := app.View().Committee(0)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]uint16{}
	for _, m := range info.Members {
		got[m.Name] = m.Shards
	}
	if !cmp.Equal(got, map[string][]uint16{"a": {0, 3}, "b": {1, 2}}) {
		t.Fatalf("shards %v", got)
	}
	// Overlapping shards are rejected, and a failed InitChain leaves the App uninitialized.
	g.Nodes[1].Shards = []uint16{1, 3}
	app2, _ := New(NewMemStore())
	if _, _, err := app2.InitChain(g); err == nil || app2.Initialized() {
		t.Fatalf("overlapping shards accepted: %v", err)
	}
	// A second InitChain is refused.
	if _, _, err := app.InitChain(g); !errors.Is(err, ErrCallOrder) {
		t.Fatalf("second InitChain: %v", err)
	}
}

// TestLifecycleOrder checks that lifecycle calls out of order are refused.
func TestLifecycleOrder(t *testing.T) {
	app, _ := New(NewMemStore())
	if _, err := app.BeginBlock(BlockHeader{Height: 1}); !errors.Is(err, ErrNotInitialized) {
		t.Fatalf("BeginBlock before genesis: %v", err)
	}
	env := rejectionFixture(t)
	app = env.app
	if _, err := app.EndBlock(); !errors.Is(err, ErrCallOrder) {
		t.Fatalf("EndBlock outside a block: %v", err)
	}
	if r := app.DeliverTx(nil); r.Code == CodeOK {
		t.Fatal("DeliverTx outside a block accepted")
	}
	if _, err := app.BeginBlock(BlockHeader{Height: env.height + 1, Time: env.now + 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.BeginBlock(BlockHeader{Height: env.height + 2}); !errors.Is(err, ErrCallOrder) {
		t.Fatalf("nested BeginBlock: %v", err)
	}
	if _, err := app.Commit(); !errors.Is(err, ErrCallOrder) {
		t.Fatalf("Commit inside a block: %v", err)
	}
}
