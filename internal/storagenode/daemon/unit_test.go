package daemon

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/merkle"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/internal/nodetest"
	"github.com/walrus-go/walrus/internal/storagenode/nodeclient"
)

// TestPlannerAsksExactly checks the recovery planner against the encoding: with every
// holder answering, one round asks for exactly the symbols needed, each from a holder of
// its source sliver, and the symbols rebuild the slivers.
func TestPlannerAsksExactly(t *testing.T) {
	const n = 13
	enc := nodetest.Encoding(t, n)
	blob := nodetest.EncodeBlob(t, enc, 5000, 3)
	id := blob.Metadata.BlobID
	// Holder 0 (this node) holds shards 0 and 1 but lacks their data; holders 1..3 hold the
	// other shards, holder 4 (a previous owner) shards 3 and 4 again.
	holders := [][]uint16{{0, 1}, {2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}, {3, 4}}
	p := newSymbolPlanner(enc, id, holders, []int{0, 1, 2, 3, 4})
	var targets []int
	for _, s := range holders[0] {
		pair := id.ShardPair(int(s), n)
		p.addTarget(redstuff.Primary, pair)
		p.addTarget(redstuff.Secondary, n-1-pair)
		targets = append(targets, pair)
	}
	serve := func(reqs []symbolRequest, failing map[int]bool) {
		for _, r := range reqs {
			if failing[r.holder] {
				continue
			}
			for _, sid := range r.ids {
				// The source sliver of the symbol: primary sid.Primary or secondary sid.Secondary.
				var src redstuff.Sliver
				index := sid.Primary
				if r.proofAxis == redstuff.Primary {
					src = blob.Pairs[sid.Primary].Primary
				} else {
					index = sid.Secondary
					src = blob.Pairs[n-1-sid.Secondary].Secondary
				}
				shard := uint16(id.PairShard(src.Pair(n), n))
				if !containsShard(holders[r.holder], shard) || r.holder == 0 {
					continue // not served: this node has no data
				}
				x, err := enc.Expand(blob.Metadata, &src)
				if err != nil {
					t.Fatal(err)
				}
				target := sid.Secondary
				if r.proofAxis == redstuff.Secondary {
					target = sid.Primary
				}
				sym, err := x.RecoverySymbol(target)
				if err != nil {
					t.Fatal(err)
				}
				if sym.Index != index {
					t.Fatalf("symbol index %d, want %d", sym.Index, index)
				}
				if !p.add(sym, r.holder, true) {
					t.Fatalf("planner refused symbol %s it asked for", sid)
				}
			}
		}
	}
	first := p.next(4)
	asked := 0
	for _, r := range first {
		if len(r.ids) > 4 {
			t.Fatalf("request of %d IDs, limit 4", len(r.ids))
		}
		asked += len(r.ids)
	}
	want := len(targets) * (p.need[redstuff.Primary] + p.need[redstuff.Secondary])
	if asked != want {
		t.Fatalf("first round asks %d symbols, want %d (the symbols needed)", asked, want)
	}
	// Holder 1 fails: later rounds ask the others (holder 4 for shards 3 and 4), never
	// holder 1 again for the same symbols.
	serve(first, map[int]bool{1: true})
	for round := 0; !p.complete(); round++ {
		reqs := p.next(4)
		if len(reqs) == 0 {
			t.Fatal("planner gave up with holders left")
		}
		for _, r := range reqs {
			if r.holder == 1 || r.holder == 0 {
				t.Fatalf("round %d asks holder %d again", round+2, r.holder)
			}
		}
		serve(reqs, map[int]bool{1: true})
		if round > 10 {
			t.Fatal("no progress")
		}
	}
	for i, tg := range p.targets {
		s, err := enc.RecoverSliver(blob.Metadata, tg.axis, tg.index, p.symbols(i))
		if err != nil {
			t.Fatalf("target %d: %v", i, err)
		}
		want := blob.Pairs[tg.index].Primary
		if tg.axis == redstuff.Secondary {
			want = blob.Pairs[n-1-tg.index].Secondary
		}
		if string(s.Data) != string(want.Data) {
			t.Fatalf("target %d rebuilt wrong data", i)
		}
	}
	// An unsolicited symbol is refused.
	x, _ := enc.Expand(blob.Metadata, &blob.Pairs[5].Primary)
	sym, _ := x.RecoverySymbol(0)
	if p.add(sym, 1, true) {
		t.Fatal("planner accepted a symbol it did not ask for")
	}
}

func containsShard(shards []uint16, s uint16) bool {
	for _, x := range shards {
		if x == s {
			return true
		}
	}
	return false
}

// TestPlannerGivesUp checks that a planner whose holders cannot provide enough symbols
// stops asking.
func TestPlannerGivesUp(t *testing.T) {
	enc := nodetest.Encoding(t, 7)
	var id redstuff.BlobID
	p := newSymbolPlanner(enc, id, [][]uint16{{0}, {1, 2}}, []int{0, 1})
	p.addTarget(redstuff.Primary, 0)
	for range 3 {
		if reqs := p.next(100); len(reqs) == 0 {
			return
		}
	}
	t.Fatal("planner keeps asking holders that never answer")
}

func TestTranslate(t *testing.T) {
	digest := [32]byte{9}
	obj := chain.ObjectID{1}
	var id redstuff.BlobID
	id[0] = 7
	shards := func(e uint32) ([]uint16, error) {
		if e == 3 {
			return nil, errors.New("chain down")
		}
		return []uint16{uint16(e), 4}, nil
	}
	page := chain.EventPage{Events: []chain.Event{
		{Seq: 10, TxDigest: digest, Body: &chain.BlobRegistered{Epoch: 1, BlobID: id, Size: 5, EncodingType: 1, EndEpoch: 4, Deletable: true, ObjectID: obj}},
		{Seq: 11, TxDigest: digest, Body: &chain.BlobCertified{Epoch: 1, BlobID: id, EndEpoch: 4, Deletable: true, ObjectID: obj}},
		{Seq: 12, Body: &chain.EpochChangeStart{Epoch: 2}},
		{Seq: 13, Body: &chain.EpochChangeDone{Epoch: 2}},
		{Seq: 14, TxDigest: digest, Body: &chain.BlobDeleted{Epoch: 2, BlobID: id, EndEpoch: 4, ObjectID: obj, WasCertified: true}},
		{Seq: 15, TxDigest: digest, Body: &chain.InvalidBlobID{Epoch: 2, BlobID: id}},
		{Seq: 16, Body: &chain.EpochChangeStart{Epoch: 0}},
		{Seq: 17, TxDigest: digest, Body: &chain.NodeRegistered{NodeID: obj}},
	}, Next: 18}
	got, err := translatePage(page, shards)
	if err != nil {
		t.Fatal(err)
	}
	ev := func(seq uint64, d [32]byte, e sn.Event) sn.SequencedEvent {
		return sn.SequencedEvent{ID: sn.EventID{TxDigest: d, Seq: seq}, Event: e}
	}
	want := []sn.SequencedEvent{
		ev(10, digest, sn.BlobRegistered{Epoch: 1, BlobID: id, ObjectID: sn.ObjectID(obj), Size: 5, EncodingType: 1, EndEpoch: 4, Deletable: true}),
		ev(11, digest, sn.BlobCertified{Epoch: 1, BlobID: id, ObjectID: sn.ObjectID(obj), EndEpoch: 4, Deletable: true}),
		ev(12, [32]byte{}, sn.EpochChangeStart{Epoch: 2, Shards: []uint16{2, 4}}),
		ev(13, [32]byte{}, sn.EpochChangeDone{Epoch: 2}),
		ev(14, digest, sn.BlobDeleted{Epoch: 2, BlobID: id, ObjectID: sn.ObjectID(obj), EndEpoch: 4, WasCertified: true}),
		ev(15, digest, sn.BlobInvalid{Epoch: 2, BlobID: id}),
		ev(16, [32]byte{}, sn.EpochChangeStart{Epoch: 0, Shards: []uint16{0, 4}, Initial: true}),
		ev(17, digest, nil), // ignored, but the cursor moves past it
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("translated page (-want +got):\n%s", diff)
	}
	if _, err := translatePage(chain.EventPage{Events: []chain.Event{{Seq: 1, Body: &chain.EpochChangeStart{Epoch: 3}}}}, shards); err == nil {
		t.Fatal("a committee lookup failure was not reported")
	}
}

func TestConfigValidate(t *testing.T) {
	good := Config{DataDir: "d", ChainRPC: "http://127.0.0.1:26657", BLSKeyFile: "bls.key", NetworkKeyFile: "network.key", WalletKeyFile: "w.json"}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	d := good.withDefaults()
	if d.Listen != DefaultListen || d.PublicURL != "https://"+DefaultListen || d.RetryMin != DefaultRetryMin || d.EventPageSize != 1000 ||
		d.MinBodyRate != DefaultMinBodyRate || d.BodyGrace != DefaultBodyGrace {
		t.Fatalf("defaults: %+v", d)
	}
	for _, c := range []struct {
		field string
		edit  func(*Config)
	}{
		{"data_dir", func(c *Config) { c.DataDir = "" }},
		{"chain_rpc", func(c *Config) { c.ChainRPC = "" }},
		{"bls_key_file", func(c *Config) { c.BLSKeyFile = "" }},
		{"network_key_file", func(c *Config) { c.NetworkKeyFile = "" }},
		{"wallet_key_file", func(c *Config) { c.WalletKeyFile = "" }},
		{"listen", func(c *Config) { c.Listen = "9185" }},
		{"metrics_listen", func(c *Config) { c.MetricsListen = "nowhere" }},
		{"pprof", func(c *Config) { c.MetricsListen, c.Pprof = MetricsOff, true }},
		{"public_url", func(c *Config) { c.PublicURL = "ftp://x:1" }},
		{"public_url", func(c *Config) { c.PublicURL = "https://x:1/path" }},
		{"public_url", func(c *Config) { c.PublicURL = "http://x:1" }},
		{"log_level", func(c *Config) { c.LogLevel = "loud" }},
		{"event_page_size", func(c *Config) { c.EventPageSize = 5000 }},
		{"retry_max", func(c *Config) { c.RetryMin, c.RetryMax = time.Minute, time.Second }},
		{"peer_timeout", func(c *Config) { c.PeerTimeout = -time.Second }},
		{"blob_sync_concurrency", func(c *Config) { c.BlobSyncConcurrency = -1 }},
		{"min_body_rate", func(c *Config) { c.MinBodyRate = -1 }},
		{"body_grace", func(c *Config) { c.BodyGrace = -time.Second }},
		{"memtable_bytes", func(c *Config) { c.MemTableBytes = 1000 }},
		{"memtable_bytes", func(c *Config) { c.MemTableBytes = 4 << 30 }},
	} {
		cfg := good
		c.edit(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.field+":") {
			t.Errorf("%s: %v, want an error naming the field", c.field, err)
		}
	}
	cfg := good
	cfg.MetricsListen = MetricsOff
	cfg.MemTableBytes = DevnetMemTableBytes
	if err := cfg.Validate(); err != nil {
		t.Fatalf("metrics off, devnet memtable: %v", err)
	}
	cfg.ResolvePaths("/etc/walrus")
	if cfg.DataDir != "/etc/walrus/d" || cfg.BLSKeyFile != "/etc/walrus/bls.key" || cfg.NetworkKeyFile != "/etc/walrus/network.key" {
		t.Fatalf("resolved paths: %+v", cfg)
	}
}

func TestNetworkAddress(t *testing.T) {
	for in, want := range map[string]string{
		"https://127.0.0.1:9185":    "127.0.0.1:9185",
		"https://node.example:443/": "node.example:443",
	} {
		got, err := NetworkAddress(in)
		if err != nil || got != want {
			t.Errorf("NetworkAddress(%q) = %q, %v; want %q", in, got, err, want)
		}
		if nodeclient.URL(got) != strings.TrimSuffix(in, "/") || chain.CheckNetworkAddress(got) != nil {
			t.Errorf("nodeclient.URL(%q) = %q, want %q", got, nodeclient.URL(got), in)
		}
	}
	// Anything the chain would refuse, or would turn into another URL, is refused here.
	for _, in := range []string{"tcp://x:1", "http://x:1", "https://u@x:1", "https://x:1/p", "https://x:1?q", "https://x", "https://x:0"} {
		if got, err := NetworkAddress(in); err == nil {
			t.Errorf("NetworkAddress(%q) = %q", in, got)
		}
	}
}

func TestSignerBitmap(t *testing.T) {
	if got := signerBitmap([]int{0, 3, 9}); !cmp.Equal(got, []byte{0b1001, 0b10}) {
		t.Fatalf("bitmap %08b", got)
	}
}

// TestPlannerDistrust checks the bookkeeping of proof-less recovery: symbols from peers are
// unproven, proofs are asked per holder for one target's unproven symbols, and a
// distrusted holder loses its unproven symbols and is asked again with proofs.
func TestPlannerDistrust(t *testing.T) {
	const n = 7
	enc := nodetest.Encoding(t, n)
	blob := nodetest.EncodeBlob(t, enc, 3000, 5)
	id := blob.Metadata.BlobID
	holders := [][]uint16{{0}, {1, 2}, {3, 4}, {5, 6}}
	p := newSymbolPlanner(enc, id, holders, []int{0, 1, 2, 3})
	p.addTarget(redstuff.Secondary, 0)
	p.addTarget(redstuff.Secondary, 1)
	serve := func(reqs []symbolRequest) {
		for _, r := range reqs {
			for _, sid := range r.ids {
				x, err := enc.Expand(blob.Metadata, &blob.Pairs[sid.Primary].Primary)
				if err != nil {
					t.Fatal(err)
				}
				sym, err := x.RecoverySymbol(sid.Secondary)
				if err != nil {
					t.Fatal(err)
				}
				if !r.proofs {
					sym.Proof = merkle.Proof{}
				}
				if !p.add(sym, r.holder, r.proofs || r.holder == 0) { // holder 0 is this node
					t.Fatalf("planner refused %s", sid)
				}
			}
		}
	}
	reqs := p.next(100)
	for _, r := range reqs {
		if r.proofs {
			t.Fatalf("first round asks holder %d for proofs", r.holder)
		}
	}
	serve(reqs)
	if !p.complete() || p.proven(0) {
		t.Fatal("after one round: want complete, unproven")
	}
	// Proofs for target 0 come one request per holder, for exactly its symbols.
	proofReqs := p.unproven(0, 100)
	asked := 0
	seen := map[int]bool{}
	for _, r := range proofReqs {
		if !r.proofs || seen[r.holder] || r.holder == 0 {
			t.Fatalf("proof request %+v", r)
		}
		seen[r.holder] = true
		asked += len(r.ids)
	}
	unproven := 0
	for src, s := range p.targets[0].got {
		if s.Data != nil && !p.targets[0].proof[src] {
			unproven++
		}
	}
	if asked != unproven || unproven == 0 {
		t.Fatalf("asked proofs of %d symbols, target has %d unproven", asked, unproven)
	}
	// Holder 1 is distrusted: its unproven symbols go from both targets, and the next
	// round asks it again with proofs.
	h := proofReqs[0].holder
	dropped := p.distrust(h, make([]bool, 2))
	if dropped == 0 || p.complete() {
		t.Fatalf("distrusting holder %d dropped %d symbols; complete %v", h, dropped, p.complete())
	}
	again := p.next(100)
	withProofs := false
	for _, r := range again {
		if r.holder == h {
			withProofs = r.proofs
			if !r.proofs {
				t.Fatalf("distrusted holder %d asked without proofs", h)
			}
		}
	}
	if !withProofs {
		t.Fatalf("distrusted holder %d not asked again", h)
	}
	serve(again)
	for i, tg := range p.targets {
		s, err := enc.RecoverSliver(blob.Metadata, tg.axis, tg.index, p.symbols(i))
		if err != nil || string(s.Data) != string(blob.Pairs[n-1-tg.index].Secondary.Data) {
			t.Fatalf("target %d: %v", i, err)
		}
	}
}
