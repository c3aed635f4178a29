package daemon_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/storagenode/daemon"
	"github.com/walrus-go/walrus/internal/storagenode/store"
	"github.com/walrus-go/walrus/internal/testnet"
)

// workload stores and reads blobs in the background and counts failed reads.
type workload struct {
	net    *testnet.Cluster
	mu     sync.Mutex
	blobs  []*testnet.Blob
	reads  atomic.Int64
	writes atomic.Int64
	failed atomic.Int64
	errs   []error
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func (w *workload) certified() []*testnet.Blob {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.blobs)
}

func (w *workload) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.errs = append(w.errs, err)
}

// start runs writers storing new blobs and readers reading random certified blobs.
func (w *workload) start(t *testing.T, writers, readers int) {
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	for i := range writers {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for k := uint64(0); ctx.Err() == nil; k++ {
				data := randomData(1000+uint64(i)*100_000+k, 2000+int(k%7)*3000)
				b, err := w.net.Store(ctx, data, testnet.StoreOptions{Epochs: testnet.MaxEpochs})
				if ctx.Err() != nil {
					return
				}
				if err != nil {
					w.fail(err)
					continue
				}
				w.writes.Add(1)
				w.mu.Lock()
				w.blobs = append(w.blobs, b)
				w.mu.Unlock()
			}
		}()
	}
	for i := range readers {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(i), 7))
			for ctx.Err() == nil {
				blobs := w.certified()
				if len(blobs) == 0 {
					continue
				}
				b := blobs[rnd.IntN(len(blobs))]
				got, err := w.net.Read(ctx, b.ID)
				if ctx.Err() != nil {
					return
				}
				w.reads.Add(1)
				if err != nil || string(got) != string(b.Data) {
					w.failed.Add(1)
					w.fail(err)
				}
			}
		}()
	}
}

func (w *workload) stop() {
	w.cancel()
	w.wg.Wait()
}

// TestEpochChangeMovesShards runs an epoch change in which a genesis node leaves (its
// operator withdraws its stake) and a new node joins (registered and staked after
// genesis): the joining node pulls the leaving node's shards with signed sync requests,
// signals EpochSyncDone, and the leaving node drops the shards once the change is done.
// Writers and readers run throughout; no read of a certified blob may fail.
func TestEpochChangeMovesShards(t *testing.T) {
	const epoch = 5 * time.Second
	net := testnet.NewCluster(t, testnet.Options{EpochDuration: epoch, Candidates: 1})
	startAll(t, net)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	// Blobs stored before the join: the joining node can only get these by shard sync
	// (stored after it, they could reach it by upload if the epoch change came first).
	w := &workload{net: net}
	w.blobs = append(w.blobs, storeBlobs(t, ctx, net, 6, func(i int) (uint64, int) { return uint64(i), 1000 + i*20_000 })...)
	joining, leaving := joinAndLeave(t, ctx, net)
	w.start(t, 2, 2)
	defer w.stop()

	target := net.WaitCommittee(ctx, joining, leaving, 2*time.Minute)
	var gained []uint16
	for _, m := range target.Members {
		if m.NetworkAddress == joining.Addr {
			gained = m.Shards
		}
	}
	t.Logf("epoch %d: the joining node takes shards %v", target.Epoch, gained)

	// The change completes: the joining node holds every certified blob of its shards,
	// signalled EpochSyncDone, and the leaving node dropped its shards.
	testnet.WaitFor(t, 2*time.Minute, "the epoch change to complete and the shards to move", func() (bool, error) {
		return shardsMoved(ctx, net, target.Epoch, joining, leaving)
	})
	// Keep the workload running a little into the new epoch, then check everything
	// certified so far.
	writes := w.writes.Load()
	testnet.WaitFor(t, 2*time.Minute, "writes in the new epoch", func() (bool, error) { return w.writes.Load() >= writes+3, nil })
	w.stop()
	// Every certified blob is complete at the joining node, for the shards it owns now
	// (later epoch changes may move shards again: rewards change the stakes).
	holdsEverything(t, ctx, net, joining.Addr, w.certified, 2*time.Minute)
	testnet.WaitFor(t, 2*time.Minute, "the joining node to count its EpochSyncDone", func() (bool, error) {
		return joining.Daemon.Stats().EpochSyncsSubmitted > 0, nil
	})
	st := joining.Daemon.Stats()
	t.Logf("%d reads, %d writes, %d failed reads; joining node: %d slivers by shard sync (%d bytes), %d recovered; %d EpochSyncDone",
		w.reads.Load(), w.writes.Load(), w.failed.Load(), st.ShardSyncSlivers, st.ShardSyncBytes, st.RecoveredSlivers, st.EpochSyncsSubmitted)
	if w.failed.Load() != 0 {
		t.Fatalf("%d of %d reads failed: %v", w.failed.Load(), w.reads.Load(), w.errs)
	}
	if len(w.errs) > 0 {
		t.Fatalf("writes failed: %v", w.errs)
	}
	if st.ShardSyncSlivers == 0 || st.EpochSyncsSubmitted == 0 {
		t.Fatalf("the joining node took over no sliver by shard sync (%d) or did not signal EpochSyncDone (%d)", st.ShardSyncSlivers, st.EpochSyncsSubmitted)
	}
}

// joinAndLeave registers and starts a new node staking as much as a genesis node, and
// makes genesis node 3 withdraw its stake: at the next committee selection the new node
// replaces it.
func joinAndLeave(t *testing.T, ctx context.Context, net *testnet.Cluster) (joining, leaving *testnet.ClusterNode) {
	t.Helper()
	joining, err := net.Join(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	net.StartInProcess(joining)
	leaving = net.Nodes[3]
	if err := net.Leave(ctx, leaving); err != nil {
		t.Fatal(err)
	}
	return joining, leaving
}

// holdsEverything waits until the node at addr holds every blob of blobs in the shards it
// owns in the current committee.
func holdsEverything(t *testing.T, ctx context.Context, net *testnet.Cluster, addr string, blobs func() []*testnet.Blob, timeout time.Duration) {
	t.Helper()
	testnet.WaitFor(t, timeout, "the node to hold every certified blob", func() (bool, error) {
		cmt, err := net.Chain.Committee(ctx)
		if err != nil {
			return false, err
		}
		var shards []uint16
		for _, m := range cmt.Members {
			if m.NetworkAddress == addr {
				shards = m.Shards
			}
		}
		for _, b := range blobs() {
			if ok, err := net.HoldsAll(ctx, addr, b.ID, shards); err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	})
}

// TestEpochChangeFallsBackToRecovery stops the leaving node before the epoch change: the
// joining node cannot pull the shards it takes over from it, falls back to RedStuff
// recovery from the rest of the committee, and signals EpochSyncDone.
//
// The blobs are stored before the node joins, and the leaving node stops as soon as it
// has withdrawn its stake: on a loaded machine the selection and the epoch change go on
// without the test, so blobs stored after the join could reach the joining node by upload
// in the new epoch, and a leaving node stopped only once the test saw the new committee
// could already have handed its shards over; either way nothing would be recovered.
func TestEpochChangeFallsBackToRecovery(t *testing.T) {
	const epoch = 4 * time.Second
	net := testnet.NewCluster(t, testnet.Options{EpochDuration: epoch, Candidates: 1, Config: func(i int, c *daemon.Config) {
		c.ShardSyncFallbackAfter = 500 * time.Millisecond
	}})
	startAll(t, net)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	blobs := storeBlobs(t, ctx, net, 4, func(i int) (uint64, int) { return uint64(50 + i), 3000 + i*7000 })
	joining, leaving := joinAndLeave(t, ctx, net)
	net.Stop(leaving)
	target := net.WaitCommittee(ctx, joining, leaving, 2*time.Minute)
	testnet.WaitFor(t, 2*time.Minute, "the new committee's epoch", func() (bool, error) {
		sys, err := net.Chain.System(ctx)
		return err == nil && sys.Epoch >= target.Epoch, err
	})
	// Generous deadlines: under load (-race, a busy CI machine) recovery takes far longer
	// than a few epochs; only the outcome matters.
	holdsEverything(t, ctx, net, joining.Addr, func() []*testnet.Blob { return blobs }, 2*time.Minute)
	testnet.WaitFor(t, 2*time.Minute, "the joining node to signal EpochSyncDone", func() (bool, error) {
		return joining.Daemon.Stats().EpochSyncsSubmitted > 0, nil
	})
	testnet.WaitFor(t, 2*time.Minute, "the joining node to count recovered slivers", func() (bool, error) {
		return joining.Daemon.Stats().RecoveredSlivers > 0, nil
	})
	st := joining.Daemon.Stats()
	t.Logf("joining node: %d slivers by shard sync, %d recovered (%d bytes, %d downloaded)", st.ShardSyncSlivers, st.RecoveredSlivers, st.RecoveredBytes, st.RecoveryDownloadedBytes)
}

// TestEpochChangeNeedsNoIdlePass: the shard syncer passes only every RetryMax while it has
// nothing to retry, so the epoch change events and the ends of the shard syncs must start
// every step of an epoch change. With RetryMax far beyond the test's waits, the joining
// node still pulls its shards and signals EpochSyncDone, and the leaving node drops its
// shards.
func TestEpochChangeNeedsNoIdlePass(t *testing.T) {
	const epoch = 5 * time.Second
	net := testnet.NewCluster(t, testnet.Options{EpochDuration: epoch, Candidates: 1, Config: func(_ int, c *daemon.Config) {
		c.RetryMax = time.Hour
	}})
	startAll(t, net)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	blobs := storeBlobs(t, ctx, net, 3, func(i int) (uint64, int) { return uint64(100 + i), 1000 + i*20_000 })
	joining, leaving := joinAndLeave(t, ctx, net)
	target := net.WaitCommittee(ctx, joining, leaving, 2*time.Minute)
	testnet.WaitFor(t, 2*time.Minute, "the epoch change to complete and the shards to move", func() (bool, error) {
		moved, err := shardsMoved(ctx, net, target.Epoch, joining, leaving)
		return moved && joining.Daemon.Stats().EpochSyncsSubmitted > 0, err
	})
	holdsEverything(t, ctx, net, joining.Addr, func() []*testnet.Blob { return blobs }, 2*time.Minute)
}

// storeBlobs stores count blobs of random data, blob i from seed and size as shape(i)
// gives them, for as long as the network's storage allows, and fails the test on an error.
func storeBlobs(t *testing.T, ctx context.Context, net *testnet.Cluster, count int, shape func(i int) (seed uint64, size int)) []*testnet.Blob {
	t.Helper()
	blobs := make([]*testnet.Blob, 0, count)
	for i := range count {
		seed, size := shape(i)
		b, err := net.Store(ctx, randomData(seed, size), testnet.StoreOptions{Epochs: testnet.MaxEpochs})
		if err != nil {
			t.Fatal(err)
		}
		blobs = append(blobs, b)
	}
	return blobs
}

// shardsMoved reports whether the epoch change to epoch has completed with the shards
// moved: the chain is past its sync phase, the leaving node holds no shard and every shard
// of the joining node is active.
func shardsMoved(ctx context.Context, net *testnet.Cluster, epoch uint32, joining, leaving *testnet.ClusterNode) (bool, error) {
	sys, err := net.Chain.System(ctx)
	if err != nil || sys.Epoch < epoch || sys.Epoch == epoch && sys.EpochState == chain.StateEpochChangeSync {
		return false, err
	}
	if len(leaving.Daemon.Node().Shards()) > 0 {
		return false, nil
	}
	for _, s := range joining.Daemon.Node().Shards() {
		if s.Status != store.ShardActive {
			return false, nil
		}
	}
	return true, nil
}
