package chain

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// cloneStore copies a MemStore.
func cloneStore(s *MemStore) *MemStore {
	c := NewMemStore()
	s.Iterate(nil, nil, func(k, v []byte) bool {
		c.Set(bytes.Clone(k), bytes.Clone(v))
		return true
	})
	return c
}

// runBlock runs one block with txs on a fresh App over store and returns its write set and
// results. The store is not modified.
func runBlock(t testing.TB, store *MemStore, h BlockHeader, txs [][]byte) (WriteSet, []TxResult) {
	t.Helper()
	app, err := New(cloneStore(store))
	if err != nil {
		t.Fatal(err)
	}
	res, err := app.FinalizeBlock(h, txs)
	if err != nil {
		t.Fatal(err)
	}
	return res.Writes, res.TxResults
}

// rejectionFixture is a chain in epoch 1 with a committee of four nodes, a registered node
// n5 outside the committee, and Alice's objects:
//
//	sOld   storage [0, 1), expired
//	sFree  storage 1 MiB [1, 4)
//	sTiny  storage 1000 bytes [1, 4)
//	bPerm  permanent blob "perm", registered
//	bCert  permanent blob "cert", certified
//	bDel   deletable blob "del", registered
func rejectionFixture(t testing.TB) *scriptEnv {
	env := newScriptEnv(t)
	env.out = &strings.Builder{}
	run := func(cmd string, body ...string) {
		env.run(scriptCase{cmd: cmd, body: body})
		if strings.Contains(env.out.String(), "error") {
			t.Fatalf("fixture: %s: %s", cmd, env.out.String())
		}
		env.out.Reset()
	}
	run("genesis shards=10 epoch=1h max-ahead=5",
		"account alice 1000WAL", "account bob 1WAL",
		"account n1-op 1WAL", "account n2-op 1WAL", "account n3-op 1WAL", "account n4-op 1WAL",
		"node n1 stake=100WAL", "node n2 stake=100WAL", "node n3 stake=100WAL", "node n4 stake=100WAL")
	run("block", "alice reserve 1MiB 1 as=sOld")
	run("advance 1h")
	run("sync-all")
	run("block",
		"alice reserve 1MiB 3 as=sFree", "alice reserve 1000 3 as=sTiny",
		"alice reserve 1MiB 3 as=s2", "alice reserve 1MiB 3 as=s3", "alice reserve 1MiB 3 as=s4",
		"alice register s2 perm 100 as=bPerm", "alice register s3 cert 100 as=bCert", "alice certify bCert",
		"alice register s4 del 100 deletable as=bDel", "alice register-node n5")
	return env
}

func TestRejections(t *testing.T) {
	env := rejectionFixture(t)
	h := BlockHeader{Height: env.height + 1, Time: env.now + int64(time.Second)}
	empty, _ := runBlock(t, env.store, h, nil)

	tx := func(line string) []byte {
		raw, _ := env.buildTx(strings.Fields(line))
		return raw
	}
	valid := tx("alice transfer bob 1")
	cases := []struct {
		name string
		tx   []byte
		want Code
		// preExec: rejected before execution, so nothing at all may change (no fee).
		preExec bool
	}{
		{"bad signature", tx("alice transfer bob 1 bad-sig"), CodeBadSignature, true},
		{"other chain", tx("alice transfer bob 1 chain=other"), CodeBadSignature, true},
		{"replayed nonce", tx("alice transfer bob 1 nonce=0"), CodeNonce, true},
		{"future nonce", tx("alice transfer bob 1 nonce=1000"), CodeNonce, true},
		{"fee too low", tx("alice transfer bob 1 fee=999"), CodeFeeTooLow, true},
		{"cannot pay fee", tx("carol transfer bob 1"), CodeInsufficientFunds, true},
		{"malformed empty", []byte{}, CodeMalformed, true},
		{"malformed garbage", []byte("not a transaction"), CodeMalformed, true},
		{"malformed truncated", valid[:len(valid)-1], CodeMalformed, true},
		{"malformed trailing", append(bytes.Clone(valid), 0), CodeMalformed, true},
		{"malformed variant", func() []byte { b := bytes.Clone(valid); b[48] = 0x7f; return b }(), CodeMalformed, true},
		{"malformed oversized", make([]byte, MaxTxSize+1), CodeMalformed, true},

		{"insufficient funds", tx("alice transfer bob 100000WAL"), CodeInsufficientFunds, false},
		{"storage too small", tx("alice register sTiny x 100"), CodeStorageTooSmall, false},
		// reserve-and-register is all or nothing: a failed registration leaves no Storage.
		{"reserve-register storage too small", tx("alice reserve-register 1000 3 x 100"), CodeStorageTooSmall, false},
		{"reserve-register wrong id", tx("alice reserve-register 1MiB 3 x 100 wrong-id"), CodeBlobIDMismatch, false},
		{"reserve-register zero epochs", tx("alice reserve-register 1MiB 0 x 100"), CodeInvalidEpochs, false},
		{"reserve-register bad encoding", tx("alice reserve-register 1MiB 3 x 100 encoding=0"), CodeUnsupportedEncoding, false},
		{"storage expired", tx("alice register sOld x 100"), CodeExpired, false},
		{"blob ID mismatch", tx("alice register sFree x 100 wrong-id"), CodeBlobIDMismatch, false},
		{"no quorum", tx("alice certify bPerm signers=n1,n2"), CodeNoQuorum, false},
		{"key outside committee", tx("alice certify bPerm impostor=n2"), CodeBadCertificate, false},
		{"bitmap beyond committee", tx("alice certify bPerm bitmap=1f"), CodeNotCommitteeMember, false},
		{"past epoch", tx("alice certify bPerm epoch=0"), CodeWrongEpoch, false},
		{"future epoch", tx("alice certify bPerm epoch=2"), CodeWrongEpoch, false},
		{"other blob", tx("alice certify bPerm blob=cert"), CodeBlobIDMismatch, false},
		{"wrong persistence", tx("alice certify bDel permanent"), CodeBadCertificate, false},
		{"double certify", tx("alice certify bCert"), CodeAlreadyCertified, false},
		{"delete permanent", tx("alice delete bPerm"), CodeNotDeletable, false},
		{"unknown object", tx("alice delete n5"), CodeUnknownObject, false},
		{"wrong kind", tx("alice delete sFree"), CodeWrongObjectKind, false},
		{"not owner", tx("bob delete bDel"), CodeNotOwner, false},
		{"extend uncertified", tx("alice extend bPerm 1"), CodeNotCertified, false},
		{"extend too far", tx("alice extend bCert 3"), CodeInvalidEpochs, false},
		{"reserve zero epochs", tx("alice reserve 1MiB 0"), CodeInvalidEpochs, false},
		{"reserve too far", tx("alice reserve 1MiB 6"), CodeInvalidEpochs, false},
		{"capacity exceeded", tx("alice reserve 4GiB 1"), CodeCapacityExceeded, false},
		{"sync by non-member", tx("alice sync-done n5"), CodeNotCommitteeMember, false},
		{"sync wrong epoch", tx("n1-op sync-done n1 epoch=0"), CodeWrongEpoch, false},
		{"sync twice", tx("n1-op sync-done n1"), CodeAlreadyDone, false},
		{"faucet disabled", tx("alice faucet 1"), CodeFaucetDisabled, false},
		{"duplicate BLS key", tx("bob register-node n1"), CodeDuplicateKey, false},
		{"bad proof of possession", tx("bob register-node n9 bad-pop"), CodeBadProofOfPossession, false},
		{"small-order network key", tx("bob register-node n9 small-order-netkey"), CodeInvalidArgument, false},
		{"set a small-order network key", tx("n1-op set-info n1 n1 n1.walrus.test:9185 netkey=small-order"), CodeInvalidArgument, false},
		{"withdraw active stake", tx("n1-op withdraw n1-stake"), CodeNotWithdrawable, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ws, res := runBlock(t, env.store, h, [][]byte{c.tx})
			if got := res[0].Code; got != c.want {
				t.Fatalf("code %s (%d), want %s (%d): %s", CodeName(got), got, CodeName(c.want), c.want, res[0].Log)
			}
			if len(res[0].Events) != 0 || len(res[0].Created) != 0 {
				t.Errorf("failed transaction reported events or objects")
			}
			if c.preExec {
				if res[0].Fee != 0 || !writeSetsEqual(ws, empty) {
					t.Errorf("rejected transaction changed the state (fee %d)", res[0].Fee)
				}
				return
			}
			checkOnlyFeeCharged(t, env, empty, ws, c.tx, res[0].Fee)
		})
	}
}

func writeSetsEqual(a, b WriteSet) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i].Key, b[i].Key) || !bytes.Equal(a[i].Value, b[i].Value) || a[i].Deleted != b[i].Deleted {
			return false
		}
	}
	return true
}

// checkOnlyFeeCharged checks that a failed transaction changed nothing but the sender's
// account (nonce + 1, balance - fee) and the current epoch's reward slot (+ fee).
func checkOnlyFeeCharged(t *testing.T, env *scriptEnv, empty, ws WriteSet, raw []byte, fee uint64) {
	t.Helper()
	tx, err := DecodeTx(raw)
	if err != nil {
		t.Fatal(err)
	}
	if fee != tx.Fee {
		t.Errorf("fee charged %d, want %d", fee, tx.Fee)
	}
	sys := env.system()
	allowed := map[string]bool{string(keyAccount(tx.SenderAddress())): true, string(keyFuture(sys.Epoch)): true}
	before := map[string][]byte{}
	for _, w := range empty {
		before[string(w.Key)] = w.Value
	}
	for _, w := range ws {
		if old, ok := before[string(w.Key)]; ok && bytes.Equal(old, w.Value) {
			continue
		}
		if !allowed[string(w.Key)] {
			t.Errorf("failed transaction wrote %q", w.Key)
		}
	}
	old := env.app.View().Account(tx.SenderAddress())
	app, _ := New(cloneStore(env.store))
	Apply(app.base, ws)
	acct := app.View().Account(tx.SenderAddress())
	if acct.Nonce != old.Nonce+1 || acct.Balance != old.Balance-tx.Fee {
		t.Errorf("account %+v -> %+v, want nonce+1 and balance-%d", old, acct, tx.Fee)
	}
	f := getFuture(app.base, sys.Epoch)
	if f0 := getFuture(env.store, sys.Epoch); f.Rewards != f0.Rewards+tx.Fee {
		t.Errorf("reward slot %d -> %d, want +%d", f0.Rewards, f.Rewards, tx.Fee)
	}
}

// TestCheckTx checks mempool admission: queued nonces, fee and balance, no execution.
func TestCheckTx(t *testing.T) {
	env := rejectionFixture(t)
	app, err := New(cloneStore(env.store))
	if err != nil {
		t.Fatal(err)
	}
	key := testAccountKey("alice")
	nonce := app.View().Account(testAddress("alice")).Nonce
	mk := func(n uint64, p Payload) []byte {
		tx := &Tx{Nonce: n, Fee: 1000, Payload: p}
		tx.Sign(app.ChainID(), key)
		return tx.Encode()
	}
	// An operation that would fail still passes CheckTx: it pays its fee.
	unknown := &DeleteBlob{Blob: ObjectID{1}}
	for i := range uint64(3) {
		if r := app.CheckTx(mk(nonce+i, unknown)); r.Code != CodeOK {
			t.Fatalf("CheckTx %d: %s", i, r.Log)
		}
	}
	if r := app.CheckTx(mk(nonce+1, unknown)); r.Code != CodeNonce {
		t.Fatalf("replayed nonce: got %s", CodeName(r.Code))
	}
	if r := app.CheckTx([]byte{1, 2, 3}); r.Code != CodeMalformed {
		t.Fatalf("malformed: got %s", CodeName(r.Code))
	}
	// CheckTx never touches the committed state; Commit resets the check state.
	if got := StateHash(app.base); got != StateHash(env.store) {
		t.Fatal("CheckTx changed the committed state")
	}
	if _, err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	if r := app.CheckTx(mk(nonce, unknown)); r.Code != CodeOK {
		t.Fatalf("after Commit: %s", r.Log)
	}
}
