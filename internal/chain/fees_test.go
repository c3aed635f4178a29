package chain

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// feeFixture is a chain in epoch 0 with four committee nodes, a signature fee of 1 WAL and a
// node registration fee of 10 WAL, a faucet (10 WAL a request, 25 WAL an account, 40 WAL in
// all), and Alice's certified-to-be blob "b" registered in storage.
func feeFixture(t *testing.T, extra string) *scriptEnv {
	t.Helper()
	env := newScriptEnv(t)
	env.out = &strings.Builder{}
	env.mustRun(t, "genesis shards=10 epoch=1h max-ahead=5 sig-fee=1WAL node-fee=10WAL faucet=10WAL faucet-account=25WAL faucet-total=40WAL "+extra,
		"account alice 1000WAL", "account mallory 35WAL",
		"account n1-op 1WAL", "account n2-op 1WAL", "account n3-op 1WAL", "account n4-op 1WAL",
		"node n1 stake=100WAL", "node n2 stake=100WAL", "node n3 stake=100WAL", "node n4 stake=100WAL")
	env.mustRun(t, "block", "alice reserve 1MiB 3 as=s", "alice register s b 100 as=bObj")
	return env
}

func (e *scriptEnv) mustRun(t *testing.T, cmd string, body ...string) {
	t.Helper()
	e.run(scriptCase{cmd: cmd, body: body})
	if strings.Contains(e.out.String(), "error") {
		t.Fatalf("%s: %s", cmd, e.out.String())
	}
	e.out.Reset()
}

// deliverBlock runs one block, a second after the previous one, with raw transactions and
// commits it.
func (e *scriptEnv) deliverBlock(t *testing.T, txs ...[]byte) []TxResult {
	t.Helper()
	e.height++
	e.now += int64(time.Second)
	res, err := e.app.FinalizeBlock(BlockHeader{Height: e.height, Time: e.now}, txs)
	if err != nil {
		t.Fatal(err)
	}
	e.commit()
	return res.TxResults
}

func (e *scriptEnv) tx(line string) []byte {
	raw, _ := e.buildTx(strings.Fields(line))
	return raw
}

// Registering storage nodes used to cost the minimum fee, 1000 FROST: 20,000 pools for
// 0.02 WAL, each then read and rewritten at every epoch change for ever. Now a registration
// costs MinFee + SignatureFee + NodeRegistrationFee, and a spammer's balance runs out.
func TestNodeRegistrationSpamPaysForState(t *testing.T) {
	env := feeFixture(t, "")
	p := env.app.params
	want := p.MinFee + p.SignatureFee + p.NodeRegistrationFee
	if got := p.MinFeeFor(&RegisterNode{}); got != want {
		t.Fatalf("MinFeeFor(RegisterNode) = %d, want %d", got, want)
	}
	before := len(allPools(env.store))

	// At the old price the registration is refused before execution and costs nothing.
	cheap := env.tx("mallory register-node spam0 fee=1000")
	if res := env.app.CheckTx(cheap); res.Code != CodeFeeTooLow {
		t.Fatalf("CheckTx of a registration at MinFee: %s", CodeName(res.Code))
	}
	if res := env.deliverBlock(t, cheap)[0]; res.Code != CodeFeeTooLow || res.Fee != 0 {
		t.Fatalf("DeliverTx of a registration at MinFee: %s fee %d", CodeName(res.Code), res.Fee)
	}

	// At the full price mallory's 35 WAL pay for three pools; then the balance runs out.
	balance := env.app.View().Account(env.account("mallory")).Balance
	registered := 0
	for i := 0; i < 10; i++ {
		res := env.deliverBlock(t, env.tx("mallory register-node spam"+string(rune('a'+i))))[0]
		if res.Code != CodeOK {
			if res.Code != CodeInsufficientFunds || res.Fee != 0 {
				t.Fatalf("registration %d: %s fee %d, want InsufficientFunds before execution", i, CodeName(res.Code), res.Fee)
			}
			break
		}
		if res.Fee != want {
			t.Fatalf("registration %d charged %d, want %d", i, res.Fee, want)
		}
		registered++
		balance -= want
		if got := env.app.View().Account(env.account("mallory")).Balance; got != balance {
			t.Fatalf("balance %d, want %d", got, balance)
		}
	}
	if registered != 3 || balance >= want {
		t.Fatalf("mallory registered %d pools and kept %d FROST; want 3 and less than one fee", registered, balance)
	}
	if got := len(allPools(env.store)); got != before+registered {
		t.Fatalf("%d pools, want %d", got, before+registered)
	}
	if _, err := checkSupply(env.store); err != nil {
		t.Fatal(err)
	}
}

// A failing InvalidateBlobID used to cost a BLS pairing for a 1,000 FROST fee. Without the
// signature fee it is now refused before any pairing, in CheckTx and in DeliverTx.
func TestInvalidateWithoutSignatureFeeSkipsPairing(t *testing.T) {
	env := feeFixture(t, "")
	p := env.app.params
	// A certificate that fails only at the pairing: a quorum of members, one signature
	// made with a key outside the committee.
	forged := "alice invalidate b signers=n1,n2,n3 impostor=n1"
	low := env.tx(forged + " fee=1000")
	if res := env.app.CheckTx(low); res.Code != CodeFeeTooLow {
		t.Fatalf("CheckTx: %s", CodeName(res.Code))
	}
	if res := env.deliverBlock(t, low)[0]; res.Code != CodeFeeTooLow || res.Fee != 0 {
		t.Fatalf("DeliverTx: %s fee %d", CodeName(res.Code), res.Fee)
	}
	if env.app.pairings != 0 {
		t.Fatalf("%d pairings for transactions that did not pay the signature fee", env.app.pairings)
	}

	// With the fee paid the pairing runs, fails, and the fee stays with the chain.
	res := env.deliverBlock(t, env.tx(forged))[0]
	if res.Code != CodeBadCertificate || res.Fee != p.MinFee+p.SignatureFee {
		t.Fatalf("paid forgery: %s fee %d, want BadCertificate fee %d", CodeName(res.Code), res.Fee, p.MinFee+p.SignatureFee)
	}
	if env.app.pairings != 1 {
		t.Fatalf("%d pairings, want 1", env.app.pairings)
	}
	for _, pl := range []Payload{&CertifyBlob{}, &InvalidateBlobID{}} {
		if got := p.MinFeeFor(pl); got != p.MinFee+p.SignatureFee {
			t.Errorf("MinFeeFor(%s) = %d", PayloadName(pl), got)
		}
	}
	if got := p.MinFeeFor(&Transfer{}); got != p.MinFee {
		t.Errorf("MinFeeFor(transfer) = %d", got)
	}
	huge := Params{MinFee: ^uint64(0) - 1, SignatureFee: 5, NodeRegistrationFee: 5}
	if got := huge.MinFeeFor(&RegisterNode{}); got != ^uint64(0) {
		t.Errorf("MinFeeFor saturates: got %d", got)
	}
}

// The faucet minted without limit. Now an account gets at most FaucetAccountMax and the
// chain at most FaucetTotalMax.
func TestFaucetCaps(t *testing.T) {
	env := feeFixture(t, "")
	dave := env.account("dave")
	for i, want := range []Code{CodeOK, CodeOK, CodeFaucetDisabled} {
		res := env.deliverBlock(t, env.tx("dave faucet 10WAL"))[0]
		if res.Code != want {
			t.Fatalf("dave's faucet request %d: %s (%s), want %s", i, CodeName(res.Code), res.Log, CodeName(want))
		}
	}
	// The third request failed in execution: dave paid its fee from his own 20 WAL.
	if a := env.app.View().Account(dave); a.Balance != 20_000_000_000-3*env.app.params.MinFee || a.Nonce != 3 {
		t.Fatalf("dave %+v", a)
	}
	if mine, all := env.app.View().FaucetMinted(dave); mine != 20_000_000_000 || all != mine {
		t.Fatalf("faucet minted %d to dave, %d in all", mine, all)
	}
	// Erin takes the faucet to its total cap; Frank gets nothing.
	for _, line := range []string{"erin faucet 10WAL", "erin faucet 10WAL"} {
		if res := env.deliverBlock(t, env.tx(line))[0]; res.Code != CodeOK {
			t.Fatalf("%s: %s", line, res.Log)
		}
	}
	res := env.deliverBlock(t, env.tx("frank faucet 1WAL"))[0]
	if res.Code != CodeFaucetDisabled || res.Fee != 0 {
		t.Fatalf("frank: %s fee %d, want FaucetDisabled before execution", CodeName(res.Code), res.Fee)
	}
	if a := env.app.View().Account(env.account("frank")); a != (Account{}) {
		t.Fatalf("frank %+v", a)
	}
	if _, err := checkSupply(env.store); err != nil {
		t.Fatal(err)
	}
}

// A faucet request that failed in execution paid no fee and kept its nonce, so the same bytes
// passed CheckTx again and entered every block. Now such a request is refused before
// execution when the sender cannot pay its fee from its own balance, and otherwise pays it
// and advances its nonce: either way the bytes are never included twice.
func TestFailingFaucetTxIsNotIncludedRepeatedly(t *testing.T) {
	cases := []struct {
		name    string
		genesis string // extra genesis options
		line    string
	}{
		// The mint would overflow the supply (the old code admitted it on the mint).
		{"supply overflow", "", "zed faucet 10WAL"},
		// Above the account cap, by an account that has no WAL of its own.
		{"account cap", "faucet-account=10WAL", "zed faucet 10WAL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := feeFixture(t, tc.genesis)
			if tc.name == "supply overflow" {
				// Push the supply to just below the overflow.
				sys := mustSystem(env.store)
				sys.Supply = ^uint64(0) - 5_000_000_000
				env.store.Set(keySystem(), encodeBCS(&sys))
			} else {
				env.mustRun(t, "block", "zed faucet 10WAL")
				env.mustRun(t, "block", "zed transfer alice 9999998000")
			}
			raw := env.tx(tc.line)
			for round := 0; round < 3; round++ {
				check := env.app.CheckTx(raw)
				res := env.deliverBlock(t, raw)[0]
				if check.Code == CodeOK && res.Fee == 0 {
					t.Fatalf("round %d: admitted by CheckTx, then executed without paying: %s", round, res.Log)
				}
				if round > 0 && check.Code == CodeOK {
					t.Fatalf("round %d: the same bytes passed CheckTx again", round)
				}
			}
			if _, err := checkSupply(env.store); err != nil && tc.name != "supply overflow" {
				t.Fatal(err)
			}
		})
	}
}

func TestFaucetCapsValidated(t *testing.T) {
	env := newScriptEnv(t)
	env.out = &strings.Builder{}
	for _, tc := range []struct{ opts, field string }{
		{"faucet=10WAL faucet-account=5WAL", "FaucetAccountMax"},
		{"faucet=10WAL faucet-account=20WAL faucet-total=15WAL", "FaucetTotalMax"},
	} {
		env.run(scriptCase{cmd: "genesis " + tc.opts, body: []string{"node n1 stake=1WAL"}})
		if got := env.out.String(); !strings.Contains(got, "error") || !strings.Contains(got, tc.field) {
			t.Errorf("%s: %q", tc.opts, got)
		}
		env.out.Reset()
	}
}

// QueryPools answered every pool in one reply (3.9 MB for 20,000 pools). Now a reply holds
// at most MaxPoolPageSize pools, and paging returns each pool exactly once.
func TestQueryPoolsPaged(t *testing.T) {
	env := feeFixture(t, "")
	const extra = 2500
	for i := 0; i < extra; i++ {
		var id ObjectID
		copy(id[:], be64(uint64(i)*0x9e3779b97f4a7c15))
		putPool(env.store, &Pool{NodeID: id, Name: strings.Repeat("n", MaxNameLen), NetworkAddress: "node.example.com:9185"})
	}
	want := allPools(env.store)
	if len(want) != extra+4 {
		t.Fatalf("%d pools", len(want))
	}
	view := env.app.View()
	var got []ObjectID
	req := PoolsRequest{Limit: 1 << 30} // asking for more than a page gets a page
	maxReply := 0
	for pages := 0; ; pages++ {
		if pages > len(want) {
			t.Fatal("paging does not end")
		}
		raw, err := view.Query(QueryPools, req.Encode())
		if err != nil {
			t.Fatal(err)
		}
		maxReply = max(maxReply, len(raw))
		page, err := DecodePoolPage(raw)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Pools) > MaxPoolPageSize {
			t.Fatalf("page of %d pools", len(page.Pools))
		}
		for _, p := range page.Pools {
			got = append(got, p.NodeID)
		}
		if !page.HasNext {
			break
		}
		req = PoolsRequest{HasAfter: true, After: page.Next}
	}
	if len(got) != len(want) {
		t.Fatalf("paging returned %d pools, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i].NodeID {
			t.Fatalf("pool %d: %s, want %s", i, got[i], want[i].NodeID)
		}
	}
	if maxReply > 64<<10 {
		t.Fatalf("a reply of %d bytes", maxReply)
	}
	// An empty request is malformed (it used to mean "everything").
	if _, err := view.Query(QueryPools, nil); err == nil {
		t.Fatal("QueryPools without a request answered")
	}
	// A small limit is honoured and the cursor continues after it.
	a := view.Pools(PoolsRequest{Limit: 3})
	b := view.Pools(PoolsRequest{HasAfter: true, After: a.Next, Limit: 3})
	if len(a.Pools) != 3 || !a.HasNext || !bytes.Equal(b.Pools[0].NodeID[:], want[3].NodeID[:]) {
		t.Fatalf("limit 3: %d pools, next %v", len(a.Pools), a.HasNext)
	}
}
