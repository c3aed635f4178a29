package daemon

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/nodeclient"
	"github.com/walrus-go/walrus/internal/storagenode/store"
)

// shardSyncer drives the node's side of epoch changes (walrus-spec §4.5). Applying
// EpochChangeStart already locked the shards the node lost (LockedToMove: they serve
// reads, accept no writes) and created the shards it gained (ActiveSync). The syncer
//
//   - pulls every gained shard from its previous owner with signed, paged sync requests
//     (primary slivers, then secondary slivers, in blob ID order), verifying each sliver
//     against its blob's metadata, fetched from the previous owner when the node lacks it;
//   - falls back to RedStuff recovery of the shard (ActiveRecover) when the previous owner
//     says it does not hold the shard or keeps failing for Config.ShardSyncFallbackAfter;
//   - then recovers, blob by blob, any certified blob still missing from the shard, and
//     marks the shard Active;
//   - once every owned shard is Active, submits EpochSyncDone for the epoch;
//   - after EpochChangeDone, drops the locked shards.
//
// It works from the node's persistent shard statuses, so a restart resumes where the
// statuses say (a shard sync restarts from its first page; slivers already stored are not
// verified or written again). It acts only when the node has applied the chain's current
// epoch, so a node catching up does not sync shards for epochs long gone.
type shardSyncer struct {
	d    *Daemon
	wake chan struct{}

	mu      sync.Mutex
	running map[uint16]bool
	started map[uint16]time.Time // when the pull of a shard started failing
	sent    uint32               // the last epoch whose EpochSyncDone was submitted (or seen)
	sem     chan struct{}
}

func newShardSyncer(d *Daemon) *shardSyncer {
	return &shardSyncer{
		d: d, wake: make(chan struct{}, 1), running: map[uint16]bool{}, started: map[uint16]time.Time{},
		sem: make(chan struct{}, d.cfg.ShardSyncConcurrency),
	}
}

func (s *shardSyncer) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// run makes a pass at every kick and periodically until ctx ends: every RetryMin (at least
// 50 ms) while a pass leaves work to retry (a shard to sync or to drop, EpochSyncDone to
// submit, a chain behind or ahead of the node), and only every RetryMax while there is
// none. Whatever creates work kicks the syncer: the epoch change events, and the end of
// each shard's sync.
func (s *shardSyncer) run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	busy := max(s.d.cfg.RetryMin, 50*time.Millisecond)
	idle := max(s.d.cfg.RetryMax, busy)
	t := time.NewTimer(busy)
	defer t.Stop()
	for {
		if s.pass(ctx, &wg) {
			t.Reset(busy)
		} else {
			t.Reset(idle)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		case <-t.C:
		}
	}
}

// pass starts the syncs of the shards that need one and the other steps of an epoch
// change; it reports whether work is left to retry.
func (s *shardSyncer) pass(ctx context.Context, wg *sync.WaitGroup) (pending bool) {
	d := s.d
	epoch := d.node.Epoch()
	shards := d.node.Shards()
	for _, sh := range shards {
		if sh.Status == store.ShardLockedToMove {
			pending = true // until its new owner holds it and the node drops it
		}
	}
	if d.node.ChangeDoneEpoch() >= epoch {
		s.dropHandedOver(ctx, epoch, shards)
	}
	sys, err := d.chain.System(ctx)
	if err != nil || sys.Epoch != epoch {
		return true
	}
	allActive := true
	for _, sh := range shards {
		if sh.Status != store.ShardActiveSync && sh.Status != store.ShardActiveRecover {
			continue
		}
		allActive = false
		s.mu.Lock()
		if s.running[sh.Shard] {
			s.mu.Unlock()
			continue
		}
		s.running[sh.Shard] = true
		s.mu.Unlock()
		wg.Add(1)
		go func(shard uint16) {
			defer wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.running, shard)
				s.mu.Unlock()
			}()
			select {
			case s.sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-s.sem }()
			if err := s.syncShard(ctx, shard, epoch); err != nil {
				if ctx.Err() == nil {
					d.log.Info("shard sync incomplete; will retry", "shard", shard, "epoch", epoch, "err", err)
				}
				return
			}
			s.kick()
		}(sh.Shard)
	}
	if !allActive {
		return true
	}
	return !s.signalSyncDone(ctx, epoch) || pending
}

// dropHandedOver drops the locked shards whose new owner has signalled EpochSyncDone for
// epoch (so it holds them), once the epoch change is done. Until then the node keeps
// serving them: readers of blobs certified before the epoch may still ask it.
func (s *shardSyncer) dropHandedOver(ctx context.Context, epoch uint32, shards []store.ShardState) {
	d := s.d
	var cmt *committeeView
	synced := map[int]bool{}
	for _, sh := range shards {
		if sh.Status != store.ShardLockedToMove {
			continue
		}
		if cmt == nil {
			var err error
			if cmt, err = d.view.committee(ctx, epoch); err != nil {
				return
			}
		}
		owner := cmt.owner[sh.Shard]
		done, ok := synced[owner]
		if !ok {
			pool, err := d.chain.Pool(ctx, cmt.info.Members[owner].NodeID)
			if err != nil {
				continue
			}
			done = pool.LastSyncDone >= epoch
			synced[owner] = done
		}
		if !done {
			continue
		}
		if err := d.node.DropShard(sh.Shard); err != nil {
			d.log.Warn("cannot drop a shard handed over", "shard", sh.Shard, "err", err)
			continue
		}
		d.log.Info("dropped shard handed over to its new owner", "shard", sh.Shard, "epoch", epoch, "owner", cmt.info.Members[owner].NodeID)
	}
}

// signalSyncDone submits EpochSyncDone for epoch if the node is in its committee and has
// not done so. It reports false if that is still to do (a call failed).
func (s *shardSyncer) signalSyncDone(ctx context.Context, epoch uint32) bool {
	d := s.d
	s.mu.Lock()
	sent := s.sent >= epoch && s.sent != 0
	s.mu.Unlock()
	if sent {
		return true
	}
	cmt, err := d.view.committee(ctx, epoch)
	if err != nil {
		return false
	}
	if cmt.self < 0 {
		return true
	}
	nodeID := cmt.info.Members[cmt.self].NodeID
	pool, err := d.chain.Pool(ctx, nodeID)
	if err != nil {
		return false
	}
	if pool.LastSyncDone < epoch {
		if _, err := d.chain.Submit(ctx, d.wallet, &chain.EpochSyncDone{Node: nodeID, Epoch: epoch}); err != nil {
			if !errors.Is(err, chain.ErrAlreadyDone) {
				d.log.Warn("cannot submit EpochSyncDone", "epoch", epoch, "err", err)
				return false
			}
		} else {
			d.counters.epochSyncs.Add(1)
			d.log.Info("submitted EpochSyncDone", "epoch", epoch, "node", nodeID)
		}
	}
	s.mu.Lock()
	s.sent = max(s.sent, epoch)
	s.mu.Unlock()
	return true
}

// syncShard brings one gained shard up to date and marks it Active.
func (s *shardSyncer) syncShard(ctx context.Context, shard uint16, epoch uint32) error {
	d := s.d
	if d.node.ShardStatus(shard) == store.ShardActiveSync {
		err := s.pull(ctx, shard, epoch)
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			if !s.fallBack(shard, err) {
				return err
			}
			d.log.Warn("previous owner does not hand over the shard; recovering it instead", "shard", shard, "epoch", epoch, "err", err)
			if ok, err := d.node.SwapShardStatus(shard, store.ShardActiveSync, store.ShardActiveRecover); err != nil || !ok {
				return fmt.Errorf("daemon: shard %d changed status during its sync: %v", shard, err)
			}
		}
	}
	if err := s.complete(ctx, shard); err != nil {
		return err
	}
	status := d.node.ShardStatus(shard)
	if status != store.ShardActiveSync && status != store.ShardActiveRecover {
		return fmt.Errorf("daemon: shard %d became %s during its sync", shard, status)
	}
	if ok, err := d.node.SwapShardStatus(shard, status, store.ShardActive); err != nil || !ok {
		return fmt.Errorf("daemon: shard %d changed status during its sync: %v", shard, err)
	}
	s.mu.Lock()
	delete(s.started, shard)
	s.mu.Unlock()
	d.log.Info("shard synced", "shard", shard, "epoch", epoch)
	return nil
}

// errNoPreviousOwner says a shard has no previous owner to pull it from.
var errNoPreviousOwner = errors.New("daemon: no previous owner to sync the shard from")

// fallBack decides whether a failed pull switches the shard to recovery: at once if the
// previous owner does not hold the shard, otherwise after ShardSyncFallbackAfter of
// failures.
func (s *shardSyncer) fallBack(shard uint16, err error) bool {
	if errors.Is(err, errNoPreviousOwner) || errors.Is(err, sn.ErrShardNotAssigned) {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	first, ok := s.started[shard]
	if !ok {
		s.started[shard] = time.Now()
		return s.d.cfg.ShardSyncFallbackAfter <= 0
	}
	return time.Since(first) >= s.d.cfg.ShardSyncFallbackAfter
}

// pull fetches the shard's slivers from its owner in the previous epoch.
func (s *shardSyncer) pull(ctx context.Context, shard uint16, epoch uint32) error {
	d := s.d
	if epoch == 0 {
		return errNoPreviousOwner
	}
	prev, err := d.view.committee(ctx, epoch-1)
	if err != nil {
		return err
	}
	owner := prev.owner[shard]
	if owner == prev.self {
		return errNoPreviousOwner
	}
	addr := prev.info.Members[owner].NetworkAddress
	c, err := d.view.client(peerOf(prev.info.Members[owner]))
	if err != nil {
		return err
	}
	for _, a := range []redstuff.Axis{redstuff.Primary, redstuff.Secondary} {
		if err := s.pullAxis(ctx, c, addr, shard, a, epoch); err != nil {
			return err
		}
	}
	return nil
}

func (s *shardSyncer) pullAxis(ctx context.Context, c *nodeclient.Client, addr string, shard uint16, a redstuff.Axis, epoch uint32) error {
	d := s.d
	maxData := d.enc.SliverSize(a, redstuff.MaxSymbolSize)
	var from redstuff.BlobID
	for {
		req := sn.SyncShardRequest{Shard: shard, Axis: a, From: from, Count: uint64(d.cfg.ShardSyncPageSize), Epoch: epoch}
		items, slivers, err := peerCall3(d, withByteCounter(ctx, &d.counters.syncBytes), func(ctx context.Context) ([]sn.ShardSliver, []*redstuff.Sliver, error) {
			return c.SyncShard(ctx, sn.SignSyncShard(d.key, req), a, d.cfg.ShardSyncPageSize, maxData)
		})
		if err != nil {
			return fmt.Errorf("daemon: sync of shard %d (%s slivers) from %s: %w", shard, a, addr, err)
		}
		if len(items) == 0 {
			return nil
		}
		batch := make([]sn.SyncedSliver, 0, len(items))
		for i, it := range items {
			ss := sn.SyncedSliver{BlobID: it.BlobID, Sliver: slivers[i], Encoded: it.Sliver}
			// No metadata, or a partial copy without this shard's pair.
			need, err := d.node.NeedsMetadata(it.BlobID, shard)
			if err != nil {
				return err
			}
			if need {
				m, err := peerCall(d, ctx, func(ctx context.Context) (*redstuff.Metadata, error) { return c.Metadata(ctx, it.BlobID) })
				if err != nil {
					// Left to the completeness pass (recovery), e.g. a blob deleted meanwhile.
					continue
				}
				ss.Metadata = m
			}
			batch = append(batch, ss)
		}
		errs, err := d.node.StoreShardSlivers(shard, batch)
		if err != nil {
			return err
		}
		for i, e := range errs {
			switch {
			case e == nil:
				d.counters.syncSlivers.Add(1)
			case errors.Is(e, sn.ErrInvalidSliver), errors.Is(e, sn.ErrInvalidMetadata):
				d.metrics.badResponse(&d.counters, "sync_shard")
				d.log.Warn("bad sliver from the previous shard owner", "shard", shard, "blob", batch[i].BlobID, "err", e)
			}
		}
		from = items[len(items)-1].BlobID
		if !incrementID(&from) {
			return nil
		}
	}
}

// complete recovers, blob by blob, the certified blobs whose slivers the shard lacks.
func (s *shardSyncer) complete(ctx context.Context, shard uint16) error {
	d := s.d
	var from redstuff.BlobID
	var failed error
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, d.cfg.BlobSyncConcurrency)
	for {
		ids, next, more, err := d.node.CertifiedBlobs(from, 256)
		if err != nil {
			return err
		}
		for _, id := range ids {
			need, err := d.node.NeedsSync(id, []uint16{shard})
			if err != nil {
				return err
			}
			if need.Done() {
				continue
			}
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				if err := d.recoverBlob(ctx, id, need); err != nil && !errors.Is(err, errBlobInvalid) {
					mu.Lock()
					failed = err
					mu.Unlock()
				}
			}()
		}
		if !more || ctx.Err() != nil {
			break
		}
		from = next
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	return failed
}

func peerCall3[A, B any](d *Daemon, ctx context.Context, fn func(context.Context) (A, B, error)) (A, B, error) {
	select {
	case d.peerSem <- struct{}{}:
	case <-ctx.Done():
		var a A
		var b B
		return a, b, ctx.Err()
	}
	defer func() { <-d.peerSem }()
	return fn(ctx)
}

// incrementID sets id to the next blob ID; it reports false past the last one.
func incrementID(id *redstuff.BlobID) bool {
	for i := len(id) - 1; i >= 0; i-- {
		id[i]++
		if id[i] != 0 {
			return true
		}
	}
	return false
}
