package chainclient_test

import (
	"context"
	"crypto/ed25519"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/walrus-go/walrus/internal/bls"
	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// txRecord is what a client saw of one transaction.
type txRecord struct {
	Name    string
	Height  int64
	Index   int
	Code    chain.Code
	Fee     uint64
	Digest  [32]byte
	Created []chain.ObjectID
	Events  []chain.Event
}

// transcript is everything observable of a golden run except the wall-clock block times.
type transcript struct {
	Txs     []txRecord
	Events  []chain.Event // the whole event log, as the follower saw it
	State   [][2][]byte   // the final state, system time zeroed
	Height  int64
	Blocks  int64 // blocks re-executed by VerifyAppHashes
	Restart [32]byte
}

// eventCollector follows the event log in the background through an HTTP client, which
// outlives restarts of the node.
type eventCollector struct {
	mu     sync.Mutex
	events []chain.Event
	cancel context.CancelFunc
	done   chan error
}

func collectEvents(t *testing.T, c *chainclient.Client, cursor uint64) *eventCollector {
	ctx, cancel := context.WithCancel(context.Background())
	ec := &eventCollector{cancel: cancel, done: make(chan error, 1)}
	f := c.Follow(cursor, 3) // small pages, to exercise paging
	go func() {
		ec.done <- f.Run(ctx, func(_ context.Context, page chain.EventPage) error {
			ec.mu.Lock()
			ec.events = append(ec.events, page.Events...)
			ec.mu.Unlock()
			return nil
		})
	}()
	t.Cleanup(ec.stop)
	return ec
}

func (ec *eventCollector) snapshot() []chain.Event {
	ec.mu.Lock()
	defer ec.mu.Unlock()
	return append([]chain.Event(nil), ec.events...)
}

func (ec *eventCollector) stop() {
	ec.cancel()
	<-ec.done
	ec.done <- context.Canceled
}

// err returns the follower's error if it stopped.
func (ec *eventCollector) err() error {
	select {
	case err := <-ec.done:
		ec.done <- err
		return err
	default:
		return nil
	}
}

// waitEvents waits until the collector has every event the chain logged.
func (ec *eventCollector) waitEvents(t *testing.T, d *devnet) []chain.Event {
	t.Helper()
	sys, err := d.client.System(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Minute, "the follower to catch up", func() (bool, error) {
		if err := ec.err(); err != nil {
			return false, err
		}
		return uint64(len(ec.snapshot())) >= sys.NextEventSeq, nil
	})
	evs := ec.snapshot()
	for i, ev := range evs {
		if ev.Seq != uint64(i) {
			t.Fatalf("follower event %d has sequence number %d", i, ev.Seq)
		}
	}
	return evs
}

// runGolden runs a fixed sequence of signed transactions through a fresh single-validator
// node, restarting the node in the middle, and returns what it observed.
func runGolden(t *testing.T) transcript {
	d := newDevnet(t, devnetOptions{rpc: true})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	hc, err := chainclient.Dial(d.rpcURL(), chainclient.Options{Logger: testLogger(), RetryMax: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer hc.Close()
	genesisEvents, _, err := hc.Events(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	ec := collectEvents(t, hc, 0)

	alice, bob := testSigner("alice"), testSigner("bob")
	var tr transcript
	submit := func(name string, p chain.Payload, want chain.Code) *chainclient.TxResult {
		t.Helper()
		res, err := d.client.Submit(ctx, alice, p)
		if res == nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.Code != want || (want == chain.CodeOK) != (err == nil) || chain.CodeOf(err) != want {
			t.Fatalf("%s: code %s (%v), want %s", name, chain.CodeName(res.Code), err, chain.CodeName(want))
		}
		tr.Txs = append(tr.Txs, txRecord{Name: name, Height: res.Height, Index: res.Index, Code: res.Code, Fee: res.Fee,
			Digest: res.Digest, Created: res.Created, Events: res.Events})
		// The block after a state change is an empty "proof" block; waiting for it makes
		// the heights of the run reproducible.
		d.waitHeight(res.Height + 1)
		return res
	}

	sys, err := d.client.System(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, certify := d.certifier(ctx)
	const size = 1000
	root, blobID := testBlob("golden", size)
	storage := submit("reserve", &chain.ReserveSpace{Size: encodedSize(t, d.genesis.Params.NShards, size), EpochsAhead: 2}, chain.CodeOK).Created[0]
	blob := submit("register", &chain.RegisterBlob{Storage: storage, BlobID: blobID, RootHash: root, Size: size,
		EncodingType: redstuff.EncodingRS2, Deletable: true}, chain.CodeOK).Created[0]
	cert := certify(chain.ConfirmationMessage(sys.Epoch, blobID, true, blob))
	submit("certify", &chain.CertifyBlob{Blob: blob, Certificate: cert}, chain.CodeOK)
	submit("attribute", &chain.SetBlobAttribute{Blob: blob, Key: "name", Value: "golden"}, chain.CodeOK)

	// Restart: the same height, app hash and state; the follower goes on at its cursor.
	// The cursor a caller would have persisted at this point, to resume from later.
	persisted := uint64(len(ec.waitEvents(t, d)))
	before, beforeHeight := stateDump(t, d)
	commit, _ := d.node.App().LastCommit()
	d.restart()
	after, afterHeight := stateDump(t, d)
	if c, _ := d.node.App().LastCommit(); c != commit || beforeHeight != afterHeight || !cmp.Equal(before, after) {
		t.Fatalf("after restart: commit %d %X (was %d %X), state equal %v", c.Height, c.AppHash, commit.Height, commit.AppHash, cmp.Equal(before, after))
	}
	tr.Restart = commit.AppHash
	st, err := d.client.BlobStatus(ctx, blobID)
	if err != nil || st.DeletableCertified != 1 {
		t.Fatalf("blob status after restart: %+v, %v", st, err)
	}

	nodeKey, err := bls.GenerateKey(seededRand(99))
	if err != nil {
		t.Fatal(err)
	}
	node := submit("register-node", &chain.RegisterNode{Name: "golden-node", NetworkAddress: "127.0.0.1:9999",
		PublicKey: nodeKey.PublicKey().Bytes(), ProofOfPossession: nodeKey.ProvePossession(sys.Epoch, alice.Address()).Bytes(),
		NetworkPublicKey: [chain.NetworkKeySize]byte(ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public().(ed25519.PublicKey)),
		CommissionRate:   500, StoragePrice: 1000, WritePrice: 2000, Capacity: 1 << 30}, chain.CodeOK).Created[0]
	submit("stake", &chain.Stake{Node: node, Amount: 10 * chain.FrostPerWAL}, chain.CodeOK)
	submit("delete", &chain.DeleteBlob{Blob: blob}, chain.CodeOK)
	submit("certify-deleted", &chain.CertifyBlob{Blob: blob, Certificate: cert}, chain.CodeUnknownObject)
	submit("transfer", &chain.Transfer{To: bob.Address(), Amount: chain.FrostPerWAL}, chain.CodeOK)

	// The follower saw the genesis events and then exactly the events of the transactions.
	tr.Events = ec.waitEvents(t, d)
	want := append([]chain.Event(nil), genesisEvents.Events...)
	for _, r := range tr.Txs {
		want = append(want, r.Events...)
	}
	if diff := cmp.Diff(want, tr.Events); diff != "" {
		t.Fatalf("follower events differ from the transactions' (-want +got):\n%s", diff)
	}
	var types []string
	for _, ev := range tr.Events[len(genesisEvents.Events):] {
		types = append(types, ev.Type())
	}
	wantTypes := []string{"BlobRegistered", "BlobCertified", "NodeRegistered", "StakeDeposited", "BlobDeleted"}
	if !cmp.Equal(types, wantTypes) {
		t.Fatalf("event types %v, want %v", types, wantTypes)
	}

	// A caller restarted with its persisted cursor gets exactly the events after it.
	resumed := hc.Follow(persisted, 0)
	var rest []chain.Event
	for resumed.Cursor() < uint64(len(tr.Events)) {
		page, err := resumed.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rest = append(rest, page.Events...)
	}
	if !cmp.Equal(rest, tr.Events[persisted:]) {
		t.Fatalf("resumed at %d: %d events, want %d", persisted, len(rest), len(tr.Events)-int(persisted))
	}

	// Re-executing the chain's blocks from scratch gives the app hash of every header.
	n, err := hc.VerifyAppHashes(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	tr.Blocks = n
	tr.State, tr.Height = stateDump(t, d)
	return tr
}

// TestGoldenSequence runs the golden sequence twice from scratch. Both runs must observe the
// same results, events, heights and state; app hashes are checked against a re-execution
// from genesis. (The app hashes of two live runs differ: the system record holds the BFT
// time of the last block, which is the wall clock.)
func TestGoldenSequence(t *testing.T) {
	first := runGolden(t)
	second := runGolden(t)
	if diff := cmp.Diff(first, second, cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "Restart" }, cmp.Ignore())); diff != "" {
		t.Fatalf("the two runs differ (-first +second):\n%s", diff)
	}
	if first.Blocks != first.Height || first.Height < 2*int64(len(first.Txs)) {
		t.Fatalf("verified %d of %d blocks", first.Blocks, first.Height)
	}
}
