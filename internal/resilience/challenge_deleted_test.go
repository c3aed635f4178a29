package resilience

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/faultproxy"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/daemon"
	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/internal/testvec"
)

// TestChallengesDeletedBlobs is the writer's attack on honest nodes: it deletes its
// deletable blobs once they are challenged, so that every node drops their data while the
// epoch's index still holds them. The challenge index holds one permanent blob, two
// deletable ones and one declared invalid (its data dropped by every node, its
// registration still in the index); after the seed of the first epoch that challenges
// them, the writer deletes both deletable blobs, and only once every node has dropped
// their data can any member fetch another's answers (until then every node's public
// address refuses requests), so every verification meets answers missing for deleted
// and invalid blobs. Every member must still pass the epoch (those items are excused, the
// permanent blob's are verified), and nobody fails or is slashed.
func TestChallengesDeletedBlobs(t *testing.T) {
	if testing.Short() {
		t.Skip("a network of processes")
	}
	if testvec.Race {
		t.Skip("runs without the race detector (make resilience); its processes are not race-instrumented anyway")
	}
	c := newCluster(t, clusterOptions{
		nodes: 4, shards: 10, epoch: 20 * time.Second, challenge: chain.DefaultChallengeParams(),
		config: func(i int, cfg *daemon.Config) {
			cfg.ChallengePoll = 300 * time.Millisecond
			cfg.RetryMax = 2 * time.Second
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmt, nodes := c.committee(ctx)

	res, err := c.client.Store(ctx, c.randomBlob(1800), client.StoreOptions{Epochs: 50, Permanent: true})
	if err != nil {
		t.Fatal(err)
	}
	kept, err := redstuff.ParseBlobID(res.BlobID())
	if err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	c.blobs = append(c.blobs, &stored{id: kept})
	c.mu.Unlock()
	var deleted []redstuff.BlobID
	var objects []chain.ObjectID
	for i := range 2 {
		res, err := c.client.Store(ctx, c.randomBlob(1600+i), client.StoreOptions{Epochs: 50}) // deletable
		if err != nil {
			t.Fatal(err)
		}
		id, err := redstuff.ParseBlobID(res.BlobID())
		if err != nil {
			t.Fatal(err)
		}
		obj, err := chain.ParseObjectID(res.NewlyCreated.BlobObject.ID)
		if err != nil {
			t.Fatal(err)
		}
		deleted, objects = append(deleted, id), append(objects, obj)
		c.mu.Lock()
		c.blobs = append(c.blobs, &stored{id: id})
		c.mu.Unlock()
	}
	// A blob whose encoding is inconsistent, certified without the node that holds the
	// bad sliver: that node finds it out, the chain marks the blob ID invalid and every
	// node drops it; it stays in the index.
	eb, bad := inconsistentBlob(t, c.net.Enc, c.randomBlob(1700))
	invalid := eb.Metadata.BlobID
	badShard := uint16(invalid.PairShard(bad, c.net.Enc.NShards()))
	var finder string
	for _, m := range cmt.Members {
		if slices.Contains(m.Shards, badShard) {
			finder = m.NetworkAddress
		}
	}
	if _, err := c.net.StoreEncoded(ctx, eb, testnet.StoreOptions{Epochs: 50, Skip: []string{finder}}); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: stored", time.Now().Format(time.TimeOnly))
	testnet.WaitFor(t, 2*time.Minute, "the chain to mark the inconsistent blob invalid", func() (bool, error) {
		st, err := c.net.Chain.BlobStatus(ctx, invalid)
		return st.Invalid, err
	})
	for _, nd := range nodes {
		testnet.WaitFor(t, time.Minute, nd.Name+" to drop the invalid blob", func() (bool, error) {
			s, err := c.net.Client(nd.Config.Listen).MetadataStatus(ctx, invalid)
			return err == nil && s == sn.StatusNonexistent, err
		})
		c.holdsAll(ctx, nd, 2*time.Minute)
	}
	// From now on no member can fetch another's answers or attestations.
	for _, nd := range c.net.Nodes {
		c.proxy(nd).Set(faultproxy.Fault{Kind: faultproxy.Refuse})
	}
	sys, err := c.net.Chain.System(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first := sys.Epoch + 1
	waitEpoch(t, c, first)
	var st chain.ChallengeState
	testnet.WaitFor(t, time.Minute, fmt.Sprintf("the answer phase of epoch %d", first), func() (bool, error) {
		st, err = c.net.Chain.Challenge(ctx, first, nil)
		return err == nil && st.Phase == chain.PhaseAnswer, nil
	})
	if st.Blobs != 4 {
		t.Fatalf("epoch %d challenges %d blobs, want the 4 stored", first, st.Blobs)
	}
	// Every member is challenged on a deleted blob, the invalid one and the kept one (each
	// member draws up to 4s = 1052 times among its 20 or so slivers of four blobs, so it
	// gets all of them).
	for _, m := range cmt.Members {
		ms, err := c.net.Chain.Challenge(ctx, first, &m.NodeID)
		if err != nil {
			t.Fatal(err)
		}
		onDeleted, onInvalid, onKept := 0, 0, 0
		for _, it := range ms.Items {
			switch it.Blob {
			case deleted[0], deleted[1]:
				onDeleted++
			case invalid:
				onInvalid++
			case kept:
				onKept++
			}
		}
		if onDeleted == 0 || onInvalid == 0 || onKept == 0 {
			t.Fatalf("member %s: %d items on deleted blobs, %d on the invalid one, %d on the kept one", m.NodeID, onDeleted, onInvalid, onKept)
		}
	}

	for _, obj := range objects {
		if _, err := c.net.Chain.Submit(ctx, c.net.Wallet, &chain.DeleteBlob{Blob: obj}); err != nil {
			t.Fatalf("delete %s: %v", obj, err)
		}
	}
	t.Logf("%s: deleted after the seed of epoch %d", time.Now().Format(time.TimeOnly), first)
	for _, nd := range nodes {
		testnet.WaitFor(t, time.Minute, nd.Name+" to drop the deleted blobs", func() (bool, error) {
			for _, id := range deleted {
				s, err := c.net.Client(nd.Config.Listen).MetadataStatus(ctx, id)
				if err != nil || s != sn.StatusNonexistent {
					return false, err
				}
			}
			return true, nil
		})
	}
	if sys, err := c.net.Chain.System(ctx); err != nil || sys.Epoch != first {
		t.Fatalf("epoch %d ended before the deletions were applied (now %d, %v); a longer epoch is needed", first, sys.Epoch, err)
	}
	c.healAll()
	t.Logf("%s: deleted blobs dropped by every node; verification opens", time.Now().Format(time.TimeOnly))

	waitEpoch(t, c, first+1)
	st = challengeOf(t, ctx, c, first)
	for _, m := range cmt.Members {
		if mm, _ := st.Member(m.NodeID); !mm.Passed {
			t.Errorf("epoch %d: honest member %s did not pass (revealed %v)", first, m.NodeID, mm.Revealed)
		}
	}
	for cursor := uint64(0); ; {
		page, _, err := c.net.Chain.Events(ctx, cursor, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range page.Events {
			switch b := ev.Body.(type) {
			case *chain.ChallengeFailed:
				if b.Epoch == first {
					t.Errorf("epoch %d: %+v", first, b)
				}
			case *chain.StakeSlashed:
				t.Errorf("a member was slashed: %+v", b)
			}
		}
		if len(page.Events) == 0 || page.Next == cursor {
			break
		}
		cursor = page.Next
	}
	excused := 0.0
	for _, nd := range nodes {
		excused += c.metrics(nd)["walrus_node_challenge_excused_total"]
	}
	if excused == 0 {
		t.Error("no node excused an item of a deleted blob")
	}
	t.Logf("epoch %d: every member passed; excused blob verdicts %v", first, excused)
}
