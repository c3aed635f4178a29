package chainclient_test

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// blsOrder is the order of the BLS12-381 groups.
var blsOrder, _ = new(big.Int).SetString("73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001", 16)

// sumKeys returns the secret key whose signature equals the aggregate of the keys'
// signatures (BLS is linear), so that a benchmark makes each certificate with one signing.
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

const benchSenders = 8

func benchDevnet(b *testing.B) (*devnet, []*chainclient.Signer) {
	var senders []*chainclient.Signer
	var accounts []chain.GenesisAccount
	for i := range benchSenders {
		s := testSigner(fmt.Sprint("bench-", i))
		senders = append(senders, s)
		accounts = append(accounts, chain.GenesisAccount{Address: s.Address(), Balance: 1_000_000_000 * chain.FrostPerWAL})
	}
	return newDevnet(b, devnetOptions{accounts: accounts}), senders
}

// pipeline submits the payloads of each sender from its own goroutine without waiting,
// then waits for all results, which must succeed.
func pipeline(b *testing.B, c *chainclient.Client, senders []*chainclient.Signer, payloads func(sender, i int) chain.Payload, perSender int) []*chainclient.TxResult {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	results := make([]*chainclient.TxResult, len(senders)*perSender)
	var wg sync.WaitGroup
	errs := make(chan error, len(senders))
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pend := make([]*chainclient.Pending, perSender)
			for i := range perSender {
				p, err := submitRetry(ctx, c, senders[s], payloads(s, i))
				if err != nil {
					errs <- err
					return
				}
				pend[i] = p
			}
			for i, p := range pend {
				res, err := p.Wait(ctx)
				if err != nil {
					errs <- err
					return
				}
				results[s*perSender+i] = res
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return results
}

// submitRetry submits, retrying while the mempool is full.
func submitRetry(ctx context.Context, c *chainclient.Client, s *chainclient.Signer, p chain.Payload) (*chainclient.Pending, error) {
	for {
		pend, err := c.SubmitAsync(ctx, s, p, 0)
		if err == nil || !errors.Is(err, chainclient.ErrMempoolFull) {
			return pend, err
		}
		time.Sleep(time.Millisecond) // back off; the mempool drains with each block
	}
}

// BenchmarkRegisterCertify measures signed register + certify transactions per second through
// one in-process validator (local client, BroadcastTxSync from benchSenders goroutines, one
// account each; each blob's two transactions are pipelined, results are awaited through the
// client). b.N is the number of blobs; storage is reserved and certificates are signed
// beforehand. The chain has 10 shards and 4 storage nodes, all signing.
func BenchmarkRegisterCertify(b *testing.B) {
	d, senders := benchDevnet(b)
	ctx := context.Background()
	cmt, _ := d.certifier(ctx)
	var keys []*bls.SecretKey
	for _, m := range cmt.Members {
		for _, k := range d.keys {
			if k.BLS.PublicKey().Bytes() == m.PublicKey {
				keys = append(keys, k.BLS)
			}
		}
	}
	agg := sumKeys(b, keys)
	bitmap := make([]byte, (len(cmt.Members)+7)/8)
	for i := range cmt.Members {
		bitmap[i/8] |= 1 << (i % 8)
	}
	perSender := (b.N + benchSenders - 1) / benchSenders
	const size = 1000
	enc := encodedSize(b, d.genesis.Params.NShards, size)
	reserved := pipeline(b, d.client, senders, func(int, int) chain.Payload {
		return &chain.ReserveSpace{Size: enc, EpochsAhead: 2}
	}, perSender)
	type blob struct {
		root [32]byte
		id   redstuff.BlobID
		cert chain.Certificate
	}
	blobs := make([]blob, len(reserved))
	for i := range blobs {
		root, id := testBlob(fmt.Sprint("bench-", i), size)
		msg := chain.ConfirmationMessage(cmt.Epoch, id, false, chain.ObjectID{})
		blobs[i] = blob{root: root, id: id, cert: chain.Certificate{Signers: bitmap, Message: msg, Signature: agg.Sign(msg).Bytes()}}
	}

	b.ResetTimer()
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, benchSenders)
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var pend []*chainclient.Pending
			for i := range perSender {
				k := s*perSender + i
				bl := blobs[k]
				reg, err := submitRetry(ctx, d.client, senders[s], &chain.RegisterBlob{Storage: reserved[k].Created[0], BlobID: bl.id,
					RootHash: bl.root, Size: size, EncodingType: redstuff.EncodingRS2})
				if err != nil {
					errs <- err
					return
				}
				// The Blob object is the first object the registration creates.
				cert, err := submitRetry(ctx, d.client, senders[s], &chain.CertifyBlob{Blob: chain.DeriveObjectID(reg.Digest, 0), Certificate: bl.cert})
				if err != nil {
					errs <- err
					return
				}
				pend = append(pend, reg, cert)
			}
			for _, p := range pend {
				if _, err := p.Wait(ctx); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(2*perSender*benchSenders)/elapsed.Seconds(), "tx/s")
}

// BenchmarkFollowEvents measures paging through the event log with a Follower (pages of
// chain.MaxPageSize), in-process and over JSON-RPC on loopback. b.N is the number of events
// read; stake transactions make them beforehand.
func BenchmarkFollowEvents(b *testing.B) {
	d, senders := benchDevnet(b)
	d.cfg.RPCListen = freeAddr(b)
	d.restart()
	ctx := context.Background()
	pools, err := d.client.Pools(ctx)
	if err != nil {
		b.Fatal(err)
	}
	hc, err := chainclient.Dial(d.rpcURL(), chainclient.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer hc.Close()
	// ensure makes the log hold at least n events.
	ensure := func(b *testing.B, n int) {
		sys, err := d.client.System(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if missing := n - int(sys.NextEventSeq); missing > 0 {
			perSender := (missing + benchSenders - 1) / benchSenders
			pipeline(b, d.client, senders, func(s, i int) chain.Payload {
				return &chain.Stake{Node: pools[(s+i)%len(pools)].NodeID, Amount: chain.FrostPerWAL}
			}, perSender)
		}
	}
	for _, tc := range []struct {
		name string
		c    *chainclient.Client
	}{{"local", d.client}, {"http", hc}} {
		b.Run(tc.name, func(b *testing.B) {
			ensure(b, b.N)
			b.ResetTimer()
			f := tc.c.Follow(0, 0)
			for f.Cursor() < uint64(b.N) {
				if _, err := f.Next(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(f.Cursor())/b.Elapsed().Seconds(), "events/s")
		})
	}
}
