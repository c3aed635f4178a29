package abciapp_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/google/go-cmp/cmp"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/abciapp"
	"github.com/walrus-go/walrus/internal/chain/chainnode"
)

var genesisTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func seededRand(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	s[0] = byte(seed)
	return rand.NewChaCha8(s)
}

func testKey(name string) ed25519.PrivateKey {
	var seed [32]byte
	copy(seed[:], name)
	return ed25519.NewKeyFromSeed(seed[:])
}

func addr(k ed25519.PrivateKey) chain.Address { return chain.AddressOf(k.Public().(ed25519.PublicKey)) }

// testGenesis returns a reproducible genesis with four storage nodes and alice funded.
func testGenesis(t *testing.T) *chain.Genesis {
	t.Helper()
	g, _, err := chainnode.DevnetGenesis(chainnode.DevnetOptions{
		ChainID: "abciapp-test", GenesisTime: genesisTime, EpochDuration: 24 * time.Hour,
		Accounts: []chain.GenesisAccount{{Address: addr(testKey("alice")), Balance: 1000 * chain.FrostPerWAL}},
		Rand:     seededRand(1),
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func openApp(t *testing.T, fs vfs.FS) *abciapp.App {
	t.Helper()
	a, err := abciapp.Open(abciapp.Options{Dir: "app", FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func initChain(t *testing.T, a *abciapp.App, g *chain.Genesis) []byte {
	t.Helper()
	st, err := abciapp.EncodeAppState(g)
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.InitChain(context.Background(), &abci.RequestInitChain{
		ChainId: g.Params.ChainID, Time: time.Unix(0, g.Params.GenesisTime), AppStateBytes: st, InitialHeight: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return res.AppHash
}

func transfer(t *testing.T, chainID string, from ed25519.PrivateKey, nonce uint64, to chain.Address, amount uint64) []byte {
	t.Helper()
	tx := &chain.Tx{Nonce: nonce, Fee: chainnode.DefaultMinFee, Payload: &chain.Transfer{To: to, Amount: amount}}
	tx.Sign(chainID, from)
	return tx.Encode()
}

// bufferedStore is the reference persistence: a MemStore whose writes wait for apply or
// discard, as the pebble Store's pending batch does.
type bufferedStore struct {
	*chain.MemStore
	pending []chain.Write
}

func (b *bufferedStore) Set(k, v []byte) {
	b.pending = append(b.pending, chain.Write{Key: k, Value: v})
}
func (b *bufferedStore) Delete(k []byte) {
	b.pending = append(b.pending, chain.Write{Key: k, Deleted: true})
}
func (b *bufferedStore) apply() { chain.Apply(b.MemStore, b.pending); b.pending = nil }

func exportState(t *testing.T, a *abciapp.App) (*chain.MemStore, abciapp.Commit) {
	t.Helper()
	m := chain.NewMemStore()
	c, err := a.ExportState(func(k, v []byte) bool { m.Set(k, v); return true })
	if err != nil {
		t.Fatal(err)
	}
	return m, c
}

type testBlock struct {
	txs  [][]byte
	idle bool // expected to keep the app hash
	// codes are the expected result codes.
	codes []chain.Code
}

func testBlocks(t *testing.T, chainID string) []testBlock {
	alice, bob := testKey("alice"), addr(testKey("bob"))
	badSig := transfer(t, chainID, alice, 2, bob, 1)
	badSig[len(badSig)-1] ^= 1
	return []testBlock{
		{idle: true},
		{txs: [][]byte{transfer(t, chainID, alice, 0, bob, 5)}, codes: []chain.Code{chain.CodeOK}},
		{idle: true},
		// A transaction rejected before execution changes nothing: the block is idle.
		{txs: [][]byte{transfer(t, chainID, alice, 7, bob, 5)}, idle: true, codes: []chain.Code{chain.CodeNonce}},
		{txs: [][]byte{transfer(t, chainID, alice, 1, bob, 6), badSig, transfer(t, chainID, alice, 2, bob, 2000*chain.FrostPerWAL)},
			codes: []chain.Code{chain.CodeOK, chain.CodeBadSignature, chain.CodeInsufficientFunds}},
		{idle: true},
	}
}

// TestAppMatchesStateMachine runs blocks through the ABCI adapter and through the state
// machine over a reference store, and checks the app hashes (chained write-set hashes, kept
// on idle blocks), the results, the events and the persisted state.
func TestAppMatchesStateMachine(t *testing.T) {
	g := testGenesis(t)
	a := openApp(t, vfs.NewMem())
	ctx := context.Background()
	if res, _ := a.Info(ctx, &abci.RequestInfo{}); res.LastBlockHeight != 0 || res.LastBlockAppHash != nil {
		t.Fatalf("fresh Info %+v", res)
	}
	gotHash := initChain(t, a, g)

	ref := &bufferedStore{MemStore: chain.NewMemStore()}
	app, err := chain.New(ref)
	if err != nil {
		t.Fatal(err)
	}
	ws, _, err := app.InitChain(g)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	ref.apply()
	want := ws.Hash([32]byte{})
	if !bytes.Equal(gotHash, want[:]) {
		t.Fatalf("genesis app hash %X, want %X", gotHash, want)
	}

	blockTime := genesisTime
	for i, b := range testBlocks(t, g.Params.ChainID) {
		h := int64(i + 1)
		blockTime = blockTime.Add(time.Second)
		res, err := a.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: h, Time: blockTime, Txs: b.txs})
		if err != nil {
			t.Fatal(err)
		}
		refRes, err := app.FinalizeBlock(chain.BlockHeader{Height: uint64(h), Time: blockTime.UnixNano()}, b.txs)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := app.Commit(); err != nil {
			t.Fatal(err)
		}
		if b.idle {
			ref.pending = nil
		} else {
			ref.apply()
			want = refRes.Writes.Hash(want)
		}
		if !bytes.Equal(res.AppHash, want[:]) {
			t.Fatalf("block %d: app hash %X, want %X (idle %v)", h, res.AppHash, want, b.idle)
		}
		for j, r := range res.TxResults {
			rr := refRes.TxResults[j]
			if chain.Code(r.Code) != b.codes[j] || chain.Code(r.Code) != rr.Code || r.Log != rr.Log || !bytes.Equal(r.Data, rr.Data()) {
				t.Fatalf("block %d tx %d: code %d log %q, want %d (%s)", h, j, r.Code, r.Log, b.codes[j], rr.Log)
			}
			meta, evs, err := abciapp.DecodeEvents(r.Events)
			if err != nil {
				t.Fatal(err)
			}
			if meta.Fee != rr.Fee || meta.Digest != rr.Digest || !cmp.Equal(evs, rr.Events) {
				t.Fatalf("block %d tx %d: meta %+v events %v, want fee %d digest %x events %v", h, j, meta, evs, rr.Fee, rr.Digest, rr.Events)
			}
		}
		if _, err := a.Commit(ctx, &abci.RequestCommit{}); err != nil {
			t.Fatal(err)
		}
		info, _ := a.Info(ctx, &abci.RequestInfo{})
		if info.LastBlockHeight != h || !bytes.Equal(info.LastBlockAppHash, want[:]) {
			t.Fatalf("block %d: Info %+v", h, info)
		}
		st, c := exportState(t, a)
		if chain.StateHash(st) != chain.StateHash(ref.MemStore) || c.Height != h {
			t.Fatalf("block %d: persisted state differs from the reference", h)
		}
	}

	// Queries answer from the committed state and carry its height.
	bob := addr(testKey("bob"))
	q, err := a.Query(ctx, &abci.RequestQuery{Path: chain.QueryAccount, Data: bob[:]})
	if err != nil || q.Code != 0 || q.Height != 6 {
		t.Fatalf("query: %+v, %v", q, err)
	}
	acct, err := chain.DecodeAccount(q.Value)
	if err != nil || acct.Balance != 11 {
		t.Fatalf("bob %+v, %v", acct, err)
	}
	sys, err := chain.DecodeSystemState(mustQuery(t, a, chain.QuerySystem, nil))
	if err != nil || sys.Height != 5 {
		t.Fatalf("system state %+v, %v; want the height of the last non-idle block", sys, err)
	}
}

func mustQuery(t *testing.T, a *abciapp.App, path string, data []byte) []byte {
	t.Helper()
	q, err := a.Query(context.Background(), &abci.RequestQuery{Path: path, Data: data})
	if err != nil || q.Code != 0 {
		t.Fatalf("query %s: %+v, %v", path, q, err)
	}
	return q.Value
}

func TestQueryErrors(t *testing.T) {
	a := openApp(t, vfs.NewMem())
	initChain(t, a, testGenesis(t))
	ctx := context.Background()
	for _, tc := range []struct {
		req  abci.RequestQuery
		code chain.Code
	}{
		{abci.RequestQuery{Path: "/nope"}, chain.CodeUnknownQuery},
		{abci.RequestQuery{Path: chain.QueryAccount, Data: []byte{1}}, chain.CodeMalformed},
		{abci.RequestQuery{Path: chain.QueryObject, Data: make([]byte, 32)}, chain.CodeNotFound},
		{abci.RequestQuery{Path: chain.QueryParams, Height: 7}, chain.CodeNotFound},
		{abci.RequestQuery{Path: chain.QueryParams, Prove: true}, chain.CodeUnknownQuery},
	} {
		res, err := a.Query(ctx, &tc.req)
		if err != nil || chain.Code(res.Code) != tc.code || res.Codespace != abciapp.Codespace || res.Log == "" {
			t.Errorf("%s: %+v, %v; want code %d", tc.req.Path, res, err, tc.code)
		}
	}
}

func TestInitChain(t *testing.T) {
	g := testGenesis(t)
	fs := vfs.NewMem()
	a := openApp(t, fs)
	h1 := initChain(t, a, g)
	// Again with the same genesis (CometBFT does this when the node stopped before block
	// 1): the stored hash.
	if h2 := initChain(t, a, g); !bytes.Equal(h1, h2) {
		t.Fatalf("second InitChain gave %X, want %X", h2, h1)
	}
	ctx := context.Background()
	st, _ := abciapp.EncodeAppState(g)
	other := *g
	other.Params.MinFee++
	ost, _ := abciapp.EncodeAppState(&other)
	for _, tc := range []struct {
		name string
		req  abci.RequestInitChain
		msg  string
	}{
		{"other genesis", abci.RequestInitChain{ChainId: g.Params.ChainID, Time: genesisTime, AppStateBytes: ost}, "genesis digest"},
		{"chain ID", abci.RequestInitChain{ChainId: "x", Time: genesisTime, AppStateBytes: st}, "chain ID"},
		{"time", abci.RequestInitChain{ChainId: g.Params.ChainID, Time: genesisTime.Add(1), AppStateBytes: st}, "genesis time"},
		{"app state", abci.RequestInitChain{ChainId: g.Params.ChainID, Time: genesisTime, AppStateBytes: []byte("{}x")}, "app state"},
	} {
		if _, err := a.InitChain(ctx, &tc.req); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want an error about %q", tc.name, err, tc.msg)
		}
	}
	// Out-of-order lifecycle calls fail.
	if _, err := a.Commit(ctx, &abci.RequestCommit{}); err == nil {
		t.Error("Commit without FinalizeBlock succeeded")
	}
	if _, err := a.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: 2, Time: genesisTime}); err == nil {
		t.Error("FinalizeBlock of height 2 after genesis succeeded")
	}
	a.Close()
	if _, err := a.Query(ctx, &abci.RequestQuery{Path: chain.QueryParams}); !errors.Is(err, abciapp.ErrClosed) {
		t.Errorf("query after Close: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestCrashRecovery crashes the database at every step of a block (only synced data
// survives, and a random part of the rest) and checks that the reopened App reports a
// commit no later than the last one and not before the genesis, holds exactly that
// commit's state, and continues to the same app hashes when the lost blocks are replayed
// (as CometBFT's handshake does). Block commits are not synced, so a crash that keeps no
// unsynced data leaves the genesis state.
func TestCrashRecovery(t *testing.T) {
	g := testGenesis(t)
	ctx := context.Background()
	blocks := testBlocks(t, g.Params.ChainID)
	blockReq := func(i int) *abci.RequestFinalizeBlock {
		return &abci.RequestFinalizeBlock{Height: int64(i + 1), Time: genesisTime.Add(time.Duration(i+1) * time.Second), Txs: blocks[i].txs}
	}

	// The uncrashed run: app hash and state after each height.
	fs := vfs.NewMem()
	a := openApp(t, fs)
	hashes := [][]byte{initChain(t, a, g)}
	states := []*chain.MemStore{}
	st, _ := exportState(t, a)
	states = append(states, st)
	for i := range blocks {
		res, err := a.FinalizeBlock(ctx, blockReq(i))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Commit(ctx, &abci.RequestCommit{}); err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, res.AppHash)
		st, _ := exportState(t, a)
		states = append(states, st)
	}
	a.Close()

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	seed := rng.Uint64()
	t.Logf("seed %d", seed)
	crashRNG := rand.New(rand.NewPCG(seed, 2))
	for crashAt := 0; crashAt <= len(blocks); crashAt++ {
		for _, c := range []struct {
			midBlock bool
			unsynced int // percent of unsynced data the crash keeps
		}{{false, 50}, {true, 50}, {false, 0}, {true, 0}} {
			midBlock := c.midBlock
			fs := vfs.NewCrashableMem()
			a, err := abciapp.Open(abciapp.Options{Dir: "app", FS: fs})
			if err != nil {
				t.Fatal(err)
			}
			initChain(t, a, g)
			for i := 0; i < crashAt; i++ {
				a.FinalizeBlock(ctx, blockReq(i))
				a.Commit(ctx, &abci.RequestCommit{})
			}
			if midBlock && crashAt < len(blocks) {
				a.FinalizeBlock(ctx, blockReq(crashAt)) // decided but not committed
			}
			crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: c.unsynced, RNG: crashRNG})
			a.Close()

			b, err := abciapp.Open(abciapp.Options{Dir: "app", FS: crashed})
			if err != nil {
				t.Fatalf("crash at %d: reopen: %v", crashAt, err)
			}
			info, _ := b.Info(ctx, &abci.RequestInfo{})
			h := int(info.LastBlockHeight)
			switch {
			case h < 0 || h > crashAt || !bytes.Equal(info.LastBlockAppHash, hashes[h]):
				t.Fatalf("crash at %d (mid-block %v, %d%% unsynced kept): Info %d %X, want a height up to %d with its hash", crashAt, midBlock, c.unsynced, h, info.LastBlockAppHash, crashAt)
			case c.unsynced == 0 && h != 0:
				t.Fatalf("crash at %d keeping no unsynced data: Info %d, want the (synced) genesis", crashAt, h)
			}
			if st, _ := exportState(t, b); chain.StateHash(st) != chain.StateHash(states[h]) {
				t.Fatalf("crash at %d: state differs from the state of height %d", crashAt, h)
			}
			// CometBFT replays the rest: the same hashes follow.
			for i := h; i < len(blocks); i++ {
				res, err := b.FinalizeBlock(ctx, blockReq(i))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := b.Commit(ctx, &abci.RequestCommit{}); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(res.AppHash, hashes[i+1]) {
					t.Fatalf("crash at %d: replayed block %d gives %X, want %X", crashAt, i+1, res.AppHash, hashes[i+1])
				}
			}
			b.Close()
		}
	}
}

func TestAppStateRoundTrip(t *testing.T) {
	g := testGenesis(t)
	g.Nodes[0].Shards = nil
	g.Params.EpochSyncTimeout = int64(90 * time.Minute)
	raw, err := abciapp.EncodeAppState(g)
	if err != nil {
		t.Fatal(err)
	}
	back, err := abciapp.DecodeAppState(raw)
	if err != nil {
		t.Fatal(err)
	}
	if back.Digest() != g.Digest() {
		t.Fatalf("round trip changed the genesis:\n%s", raw)
	}
	// Amounts are strings, and unknown fields are rejected.
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m["params"].(map[string]any)["epoch_sync_timeout"] != "1h30m0s" {
		t.Errorf("epoch_sync_timeout is not a duration string:\n%s", raw)
	}
	// Without epoch_sync_timeout the chain's default applies (0).
	g.Params.EpochSyncTimeout = 0
	if raw0, _ := abciapp.EncodeAppState(g); strings.Contains(string(raw0), "epoch_sync_timeout") {
		t.Errorf("a zero epoch_sync_timeout is written:\n%s", raw0)
	} else if back0, err := abciapp.DecodeAppState(raw0); err != nil || back0.Params.EpochSyncTimeout != 0 {
		t.Errorf("app state without epoch_sync_timeout: %v", err)
	}
	if _, ok := m["params"].(map[string]any)["min_fee"].(string); !ok {
		t.Errorf("min_fee is not a string:\n%s", raw)
	}
	for _, bad := range []string{
		strings.Replace(string(raw), `"chain_id"`, `"chainid"`, 1),
		string(raw) + "{}",
		strings.Replace(string(raw), `"epoch_duration": "24h0m0s"`, `"epoch_duration": "soon"`, 1),
		strings.Replace(string(raw), `"epoch_sync_timeout": "1h30m0s"`, `"epoch_sync_timeout": "later"`, 1),
		strings.Replace(string(raw), `"operator": "0x`, `"operator": "0xzz`, 1),
	} {
		if _, err := abciapp.DecodeAppState([]byte(bad)); err == nil {
			t.Errorf("decoded a bad app state:\n%s", bad)
		}
	}
	// Storage challenges round-trip; without them there is no challenge object.
	if strings.Contains(string(raw), `"challenge"`) {
		t.Errorf("a chain without challenges has a challenge object:\n%s", raw)
	}
	g.Params.Challenge = chain.DefaultChallengeParams()
	rawc, err := abciapp.EncodeAppState(g)
	if err != nil {
		t.Fatal(err)
	}
	if backc, err := abciapp.DecodeAppState(rawc); err != nil || backc.Digest() != g.Digest() || !strings.Contains(string(rawc), `"sample_size": 263`) {
		t.Errorf("challenges do not round-trip (%v):\n%s", err, rawc)
	}
	if _, err := abciapp.DecodeAppState([]byte(strings.Replace(string(rawc), `"sample_size": 263`, `"sample_size": 0`, 1))); err == nil {
		t.Errorf("decoded a zero sample size")
	}
}

// FuzzDecodeAppState checks that decoding never panics and that what decodes re-encodes
// to an equivalent genesis.
func FuzzDecodeAppState(f *testing.F) {
	g, _, err := chainnode.DevnetGenesis(chainnode.DevnetOptions{GenesisTime: genesisTime, StorageNodes: 1, Rand: seededRand(2)})
	if err != nil {
		f.Fatal(err)
	}
	raw, _ := abciapp.EncodeAppState(g)
	f.Add(raw)
	f.Add([]byte(`{"params":{},"accounts":[],"nodes":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := abciapp.DecodeAppState(b)
		if err != nil {
			return
		}
		raw, err := abciapp.EncodeAppState(g)
		if err != nil {
			t.Fatal(err)
		}
		back, err := abciapp.DecodeAppState(raw)
		if err != nil || back.Digest() != g.Digest() {
			t.Fatalf("re-encoding changed the genesis: %v", err)
		}
	})
}
