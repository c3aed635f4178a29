package resilience

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/testnet"
)

// epochChange runs scenario 5 on its own network (5 nodes, 10 shards, 10 s epochs): a new
// node joins and a genesis node leaves while a writer and two readers run without pause.
// The leaving node is killed with SIGKILL as the joining node pulls its shards (after the
// first pages of shard sync), so the rest of the migration falls back to recovery. No read
// of a certified blob may fail; the joining node ends up holding everything of its shards
// and signals EpochSyncDone.
func epochChange(t *testing.T, ctx context.Context, sz size, r *row) {
	const epoch = 10 * time.Second
	c := newCluster(t, clusterOptions{nodes: 5, shards: 10, epoch: epoch, candidates: 1, fallback: 2 * time.Second})
	for i := range 4 {
		if _, err := c.store(ctx, c.randomBlob(sz.blobs[i%len(sz.blobs)]+i)); err != nil {
			t.Fatal(err)
		}
		r.written++
	}

	joining, err := c.net.Join(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	joining.Config.ShardSyncPageSize = 2
	c.addProxy(joining)
	c.start(joining)
	leaving := c.net.Nodes[3]
	if err := c.net.Leave(ctx, leaving); err != nil {
		t.Fatal(err)
	}
	// Kill the leaving node once the joining node has taken a page or two from it.
	var syncs atomic.Int32
	killed := make(chan struct{})
	var once sync.Once
	c.proxy(leaving).OnRequest(func(method, path string) {
		if strings.Contains(path, "sync_shard") && syncs.Add(1) == 4 {
			once.Do(func() {
				go func() {
					c.kill(leaving)
					close(killed)
				}()
			})
		}
	})

	w := &workload{c: c}
	w.start(ctx)
	defer w.stop()

	target := c.net.WaitCommittee(ctx, joining, leaving, 3*time.Minute)
	testnet.WaitFor(t, 3*time.Minute, "the new committee's epoch", func() (bool, error) {
		sys, err := c.net.Chain.System(ctx)
		return err == nil && sys.Epoch >= target.Epoch, err
	})
	c.holdsAll(ctx, joining, 4*time.Minute)
	testnet.WaitFor(t, 3*time.Minute, "the joining node to signal EpochSyncDone", func() (bool, error) {
		return c.metrics(joining)["walrus_node_epoch_sync_done_total"] > 0, nil
	})
	testnet.WaitFor(t, 3*time.Minute, "the epoch change to complete", func() (bool, error) {
		sys, err := c.net.Chain.System(ctx)
		return err == nil && (sys.Epoch > target.Epoch || sys.EpochState != chain.StateEpochChangeSync), err
	})
	// Keep the load on a little into the new epoch.
	writes := w.writes.Load()
	testnet.WaitFor(t, 3*time.Minute, "writes in the new epoch", func() (bool, error) { return w.writes.Load() >= writes+2, nil })
	w.stop()
	wasKilled := false
	select {
	case <-killed:
		wasKilled = true
	default:
	}
	met := c.metrics(joining)
	r.written += int(w.writes.Load())
	r.reads += int(w.reads.Load())
	r.failed += int(w.failed.Load())
	r.recovered = int64(met["walrus_node_recovered_bytes_total"])
	r.downloaded = int64(met["walrus_node_recovery_downloaded_bytes_total"])
	for _, err := range w.errors() {
		t.Errorf("during the epoch change: %v", err)
	}
	if !wasKilled {
		// The joining node needed fewer than three shard-sync pages: the kill never came.
		t.Logf("the leaving node was not killed: shard sync took %d requests", syncs.Load())
	}
	// After the load stops, every certified blob reads.
	c.healAll()
	c.readAll(ctx, r)
	r.note = fmt.Sprintf("epoch %d: node joined, node left (killed mid-migration: %v); joining node took %.0f slivers by shard sync and rebuilt %.0f; %.0f EpochSyncDone",
		target.Epoch, wasKilled, met["walrus_node_shard_sync_slivers_total"], met["walrus_node_recovered_slivers_total"], met["walrus_node_epoch_sync_done_total"])
}

// workload stores and reads blobs with the cluster's client without pause: one writer
// and two readers of random certified blobs. Failed reads are counted; failed writes are
// errors too (each is retried by the SDK across epoch changes).
type workload struct {
	c                     *cluster
	writes, reads, failed atomic.Int64
	mu                    sync.Mutex
	errs                  []error
	cancel                context.CancelFunc
	wg                    sync.WaitGroup
	stopOnce              sync.Once
}

func (w *workload) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.errs = append(w.errs, err)
}

func (w *workload) errors() []error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.errs
}

func (w *workload) start(ctx context.Context) {
	ctx, w.cancel = context.WithCancel(ctx)
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for k := 0; ctx.Err() == nil; k++ {
			_, err := w.c.store(ctx, w.c.randomBlob(2000+k%5*20_000))
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				w.fail(fmt.Errorf("store: %w", err))
				continue
			}
			w.writes.Add(1)
		}
	}()
	for i := range 2 {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(i), 11))
			for ctx.Err() == nil {
				blobs := w.c.certified()
				s := blobs[rnd.IntN(len(blobs))]
				got, err := w.c.client.Read(ctx, s.id, client.ReadOptions{})
				if ctx.Err() != nil {
					return
				}
				w.reads.Add(1)
				if err != nil || string(got) != string(s.data) {
					w.failed.Add(1)
					w.fail(fmt.Errorf("read of %s: %v", s.id, err))
				}
			}
		}()
	}
}

func (w *workload) stop() {
	w.stopOnce.Do(func() {
		w.cancel()
		w.wg.Wait()
	})
}
