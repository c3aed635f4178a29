package daemon

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
)

// The rebuild attempt of a lazy node under test (Config.TestFaults.RebuildChallenged): once
// the seed of an epoch is known, the node tries to get back the challenged slivers it
// dropped, the two ways a dishonest node would, each in its own goroutine, blob after blob
// until the epoch ends:
//
//   - route "recovery": RedStuff recovery from other nodes' recovery symbols (the same
//     code as blob sync);
//   - route "read": a client read of the whole blob from the committee, then re-encoding
//     it and storing the node's challenged slivers.
//
// It counts how each attempt ended (walrus_node_test_rebuild_<route>_<outcome>_total):
// "failed" (no sliver came back before the window closed) or "rebuilt" (the sliver is
// stored again, so a window that leaks lets the node pass). When the epoch ends the
// challenger cancels the attempts still running; they count as failed.

// Rebuild routes (part of the metric names).
const (
	rebuildRecovery = "recovery"
	rebuildRead     = "read"
)

// rebuildCounters counts attempts by route: [0] failed, [1] rebuilt.
type rebuildCounters struct {
	recovery, read [2]atomic.Int64
}

func registerRebuildMetrics(reg *prometheus.Registry, c *rebuildCounters) {
	for _, r := range []struct {
		route string
		v     *[2]atomic.Int64
	}{{rebuildRecovery, &c.recovery}, {rebuildRead, &c.read}} {
		for i, outcome := range []string{"failed", "rebuilt"} {
			v := &r.v[i]
			reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "walrus_node_test_rebuild_" + r.route + "_" + outcome + "_total",
				Help: "Test fault rebuild_challenged: attempts to rebuild dropped challenged slivers of a blob by " + r.route + " that were " + outcome + ".",
			}, func() float64 { return float64(v.Load()) }))
		}
	}
}

// rebuildChallenged tries both routes, concurrently, for every blob among items of which
// the node lacks a challenged sliver, until ctx ends (the challenger cancels it when the
// epoch ends).
func (d *Daemon) rebuildChallenged(ctx context.Context, epoch uint32, items []sn.ChallengeItem) {
	missing := map[redstuff.BlobID][]sn.SliverRef{}
	var order []redstuff.BlobID
	for _, it := range items {
		st, err := d.node.SliverStatus(it.Blob, it.Blob.ShardPair(int(it.Shard), d.n), it.Axis)
		if err != nil || st == sn.StatusStored {
			continue
		}
		if _, ok := missing[it.Blob]; !ok {
			order = append(order, it.Blob)
		}
		missing[it.Blob] = append(missing[it.Blob], sn.SliverRef{Shard: it.Shard, Axis: it.Axis})
	}
	if len(order) == 0 {
		return
	}
	d.log.Info("rebuild attempt (test fault): trying to rebuild dropped challenged slivers", "epoch", epoch, "blobs", len(order))
	cl, err := client.New(client.Config{Chain: d.chain, MaxRetries: -1, Logger: d.log})
	if err != nil {
		d.log.Warn("rebuild attempt (test fault): no client", "err", err)
		return
	}
	defer cl.Close()
	var wg sync.WaitGroup
	route := func(name string, v *[2]atomic.Int64, try func(redstuff.BlobID) error) {
		defer wg.Done()
		for _, id := range order {
			d.countRebuild(v, name, epoch, id, try(id))
			if ctx.Err() != nil {
				return
			}
		}
	}
	wg.Add(2)
	go route(rebuildRecovery, &d.rebuildCount.recovery, func(id redstuff.BlobID) error {
		return d.recoverBlob(ctx, id, sn.SyncNeed{Certified: true, Slivers: missing[id]})
	})
	go route(rebuildRead, &d.rebuildCount.read, func(id redstuff.BlobID) error {
		return d.rebuildByRead(ctx, cl, id, missing[id])
	})
	wg.Wait()
}

// rebuildByRead reads blob id as a client, re-encodes it and stores the slivers refs.
func (d *Daemon) rebuildByRead(ctx context.Context, cl *client.Client, id redstuff.BlobID, refs []sn.SliverRef) error {
	data, err := cl.Read(ctx, id, client.ReadOptions{})
	if err != nil {
		return err
	}
	enc, err := d.enc.Encode(data)
	if err != nil {
		return err
	}
	var slivers []*redstuff.Sliver
	for _, r := range refs {
		p := &enc.Pairs[id.ShardPair(int(r.Shard), d.n)]
		if r.Axis == redstuff.Primary {
			slivers = append(slivers, &p.Primary)
		} else {
			slivers = append(slivers, &p.Secondary)
		}
	}
	return d.storeRecovered(id, slivers)
}

func (d *Daemon) countRebuild(v *[2]atomic.Int64, route string, epoch uint32, id redstuff.BlobID, err error) {
	if err != nil {
		v[0].Add(1)
		d.log.Info("rebuild attempt (test fault) failed", "route", route, "epoch", epoch, "blob", id, "err", err)
		return
	}
	v[1].Add(1)
	d.log.Warn("rebuild attempt (test fault) rebuilt a challenged sliver during the window", "route", route, "epoch", epoch, "blob", id)
}
