package chain

import (
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/committee"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// blsOrder is the order r of the BLS12-381 groups.
var blsOrder, _ = new(big.Int).SetString("73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001", 16)

// sumKeys returns the secret key whose signatures equal the aggregate of the keys'
// signatures (BLS is linear: Σ sk_i·H(m) = (Σ sk_i)·H(m)). Benchmarks use it to make
// aggregate certificates with one signing operation instead of one per signer.
func sumKeys(tb testing.TB, keys []*bls.SecretKey) *bls.SecretKey {
	sum := new(big.Int)
	for _, k := range keys {
		b := k.Bytes()
		sum.Add(sum, new(big.Int).SetBytes(b[:]))
	}
	sum.Mod(sum, blsOrder)
	var b [32]byte
	sum.FillBytes(b[:])
	sk, err := bls.SecretKeyFromBytes(b[:])
	if err != nil {
		tb.Fatal(err)
	}
	return sk
}

// BenchmarkRegisterCertify measures signed register + certify transactions through
// FinalizeBlock and Commit with an in-memory store, on a 1000-shard system with a committee of
// 10 nodes (certificates signed by 7 of them). Storage is reserved beforehand. It reports
// transactions per second (two per blob).
func BenchmarkRegisterCertify(b *testing.B) {
	env := newScriptEnv(b)
	env.out = new(strings.Builder)
	body := []string{"account alice 1000000000WAL"}
	for i := range 10 {
		body = append(body, fmt.Sprintf("node n%d stake=100WAL capacity=1TiB", i))
	}
	env.run(scriptCase{cmd: "genesis shards=1000 epoch=24h max-ahead=5", body: body})
	sys := env.system()
	cmt, _ := getCommittee(env.store, sys.Epoch)
	var signerKeys []*bls.SecretKey
	bitmap := make([]byte, (len(cmt.Members)+7)/8)
	for i := range 7 {
		signerKeys = append(signerKeys, env.nodes[env.names[cmt.Members[i].NodeID]].sk)
		bitmap[i/8] |= 1 << (i % 8)
	}
	aggKey := sumKeys(b, signerKeys)
	alice := testAccountKey("alice")
	chainID := env.app.ChainID()
	nonce := env.app.View().Account(testAddress("alice")).Nonce
	sign := func(p Payload) ([]byte, [32]byte) {
		tx := &Tx{Nonce: nonce, Fee: 1000, Payload: p}
		nonce++
		tx.Sign(chainID, alice)
		return tx.Encode(), tx.Digest(chainID)
	}

	// Reserve one storage resource per blob, in setup blocks.
	encoded, _ := env.app.codec.EncodedLength(1000)
	storages := make([]ObjectID, b.N)
	const perBlock = 500
	for i := 0; i < b.N; i += perBlock {
		var txs [][]byte
		for j := i; j < min(i+perBlock, b.N); j++ {
			raw, digest := sign(&ReserveSpace{Size: encoded, EpochsAhead: 2})
			txs = append(txs, raw)
			storages[j] = DeriveObjectID(digest, 0)
		}
		env.finalize(b, txs)
	}
	// Pre-build the register and certify transactions.
	txs := make([][]byte, 0, 2*b.N)
	for i := range b.N {
		root, id := testBlob(fmt.Sprint("bench-", i), 1000)
		raw, _ := sign(&RegisterBlob{Storage: storages[i], BlobID: id, RootHash: root, Size: 1000, EncodingType: redstuff.EncodingRS2})
		txs = append(txs, raw)
		msg := ConfirmationMessage(sys.Epoch, id, false, ObjectID{})
		cert := Certificate{Signers: bitmap, Message: msg, Signature: aggKey.Sign(msg).Bytes()}
		// The blob object is the first object created by the register transaction.
		regTx, _ := DecodeTx(raw)
		raw, _ = sign(&CertifyBlob{Blob: DeriveObjectID(regTx.Digest(chainID), 0), Certificate: cert})
		txs = append(txs, raw)
	}

	b.ResetTimer()
	start := time.Now()
	for i := 0; i < len(txs); i += 2 * perBlock {
		env.finalize(b, txs[i:min(i+2*perBlock, len(txs))])
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(len(txs))/elapsed.Seconds(), "tx/s")
}

// finalize runs and commits one block whose transactions must all succeed.
func (e *scriptEnv) finalize(tb testing.TB, txs [][]byte) {
	e.height++
	e.now += int64(time.Second)
	res, err := e.app.FinalizeBlock(BlockHeader{Height: e.height, Time: e.now}, txs)
	if err != nil {
		tb.Fatal(err)
	}
	for _, r := range res.TxResults {
		if r.Code != CodeOK {
			tb.Fatalf("tx failed: %s", r.Log)
		}
	}
	e.appHash = res.Writes.Hash(e.appHash)
	if _, err := e.app.Commit(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkVerifyCertificate measures the chain's check of a storage certificate signed by 667
// of 1000 committee members (one shard each): bitmap weight, aggregate key of the signers
// (committee aggregate minus the 333 non-signers) and one BLS verification.
func BenchmarkVerifyCertificate(b *testing.B) {
	const members, signers = 1000, 667
	store := NewMemStore()
	p := Params{ChainID: "bench", NShards: members, EpochDuration: int64(time.Hour), MaxEpochsAhead: 5, MaxCommitteeSize: members}
	store.Set(keyParams(), encodeBCS(&p))
	store.Set(keySystem(), encodeBCS(&SystemState{}))
	rec := CommitteeRecord{NShards: members}
	var keys []*bls.SecretKey
	for i := range members {
		sk := testBLSKey(b, fmt.Sprint("member-", i))
		keys = append(keys, sk)
		id := ObjectID{byte(i >> 8), byte(i)}
		rec.Members = append(rec.Members, CommitteeMember{NodeID: id, PublicKey: sk.PublicKey().Bytes(), Shards: []uint16{uint16(i)}})
	}
	if err := rec.setAggregateKey(); err != nil {
		b.Fatal(err)
	}
	store.Set(keyCommittee(0), encodeBCS(&rec))
	app, err := New(store)
	if err != nil {
		b.Fatal(err)
	}
	c, err := app.newCtx(store, BlockHeader{}, [32]byte{})
	if err != nil {
		b.Fatal(err)
	}
	msg := ConfirmationMessage(0, redstuff.BlobID{1}, false, ObjectID{})
	bitmap := make([]byte, (members+7)/8)
	for i := range signers {
		bitmap[i/8] |= 1 << (i % 8)
	}
	cert := Certificate{Signers: bitmap, Message: msg, Signature: sumKeys(b, keys[:signers]).Sign(msg).Bytes()}
	if err := c.verifyCertificate(&cert, committee.Quorum); err != nil { // also fills the key cache
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if err := c.verifyCertificate(&cert, committee.Quorum); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTransfer measures a plain signed transfer through FinalizeBlock and Commit.
func BenchmarkTransfer(b *testing.B) {
	env := newScriptEnv(b)
	env.out = new(strings.Builder)
	env.run(scriptCase{cmd: "genesis", body: []string{"account alice 1000000WAL", "node n1 stake=1WAL"}})
	alice := testAccountKey("alice")
	bob := testAddress("bob")
	txs := make([][]byte, b.N)
	for i := range txs {
		tx := &Tx{Nonce: uint64(i), Fee: 1000, Payload: &Transfer{To: bob, Amount: 1}}
		tx.Sign(env.app.ChainID(), alice)
		txs[i] = tx.Encode()
	}
	b.ResetTimer()
	for i := 0; i < len(txs); i += 1000 {
		env.finalize(b, txs[i:min(i+1000, len(txs))])
	}
}
