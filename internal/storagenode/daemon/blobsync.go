package daemon

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/storagenode/store"
)

// blobSyncer recovers the data of certified blobs the node lacks (walrus-spec §4.4): a
// queue of blob IDs served by a fixed number of workers, each of which asks the node what
// is missing and recovers it (recoverBlob). A failed sync is retried with exponential
// backoff for as long as the blob stays certified and incomplete. A blob is queued once
// however often it is enqueued.
type blobSyncer struct {
	d *Daemon

	mu      sync.Mutex
	queue   []redstuff.BlobID
	entries map[redstuff.BlobID]*syncEntry
	wake    chan struct{}
}

// syncEntry is a blob known to the syncer: queued, running or waiting for a retry.
type syncEntry struct {
	attempts int
	running  bool
	// activeOnly limits the sync to Active shards (the startup scan, which leaves shards
	// being synced or recovered to the shard syncer); events widen it to all owned shards.
	activeOnly bool
	again      bool // enqueued again while running
	// created is when the blob was queued; deferredSince when its sync was first put off
	// for an upload of the blob to this node (zero if it was not).
	created, deferredSince time.Time
}

func newBlobSyncer(d *Daemon) *blobSyncer {
	return &blobSyncer{d: d, entries: map[redstuff.BlobID]*syncEntry{}, wake: make(chan struct{}, 1)}
}

// enqueue queues blob id for a sync of all its owned shards.
func (s *blobSyncer) enqueue(id redstuff.BlobID) { s.add(id, false) }

func (s *blobSyncer) add(id redstuff.BlobID, activeOnly bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[id]; ok {
		e.activeOnly = e.activeOnly && activeOnly
		if e.running {
			e.again = true
		}
		return
	}
	s.entries[id] = &syncEntry{activeOnly: activeOnly, created: time.Now()}
	s.queue = append(s.queue, id)
	s.d.counters.blobsPending.Store(int64(len(s.entries)))
	s.signal()
}

func (s *blobSyncer) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// take returns the next queued blob and whether its sync is limited to Active shards, or
// false if the queue is empty.
func (s *blobSyncer) take() (id redstuff.BlobID, e *syncEntry, activeOnly, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 {
		return redstuff.BlobID{}, nil, false, false
	}
	id = s.queue[0]
	s.queue = s.queue[1:]
	e = s.entries[id]
	e.running, e.again = true, false
	if len(s.queue) > 0 {
		s.signal()
	}
	return id, e, e.activeOnly, true
}

// finish records the outcome of a sync: done (or no longer needed) forgets the blob;
// a deferred sync runs again after wait; otherwise it is retried after a backoff.
func (s *blobSyncer) finish(ctx context.Context, id redstuff.BlobID, e *syncEntry, done bool, wait time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.running = false
	if wait > 0 {
		s.requeueAfter(ctx, id, wait)
		return
	}
	if done && !e.again {
		delete(s.entries, id)
		s.d.counters.blobsPending.Store(int64(len(s.entries)))
		return
	}
	if done {
		e.attempts = 0
		s.queue = append(s.queue, id)
		s.signal()
		return
	}
	e.attempts++
	delay := s.d.cfg.RetryMin << min(e.attempts-1, 20)
	if delay > s.d.cfg.RetryMax || delay <= 0 {
		delay = s.d.cfg.RetryMax
	}
	s.requeueAfter(ctx, id, delay)
}

// requeueAfter queues blob id again after delay.
func (s *blobSyncer) requeueAfter(ctx context.Context, id redstuff.BlobID, delay time.Duration) {
	time.AfterFunc(delay, func() {
		if ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.queue = append(s.queue, id)
		s.signal()
	})
}

// run serves the queue with cfg.BlobSyncConcurrency workers until ctx ends.
func (s *blobSyncer) run(ctx context.Context) error {
	var wg sync.WaitGroup
	for range s.d.cfg.BlobSyncConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				id, e, activeOnly, ok := s.take()
				if !ok {
					select {
					case <-s.wake:
						continue
					case <-ctx.Done():
						return
					}
				}
				done, wait := s.sync(ctx, id, e, activeOnly)
				s.finish(ctx, id, e, done, wait)
			}
		}()
	}
	wg.Wait()
	return nil
}

// sync runs one attempt to complete blob id; it reports whether nothing is left to do,
// or how long to wait before the next attempt if an upload of the blob to this node is
// in progress or has just ended.
func (s *blobSyncer) sync(ctx context.Context, id redstuff.BlobID, e *syncEntry, activeOnly bool) (done bool, wait time.Duration) {
	d := s.d
	if d.cfg.TestFaults.LazyFraction > 0 {
		return s.lazySync(id, e)
	}
	var shards []uint16
	if activeOnly {
		for _, sh := range d.node.Shards() {
			if sh.Status == store.ShardActive {
				shards = append(shards, sh.Shard)
			}
		}
		if len(shards) == 0 {
			return true, 0
		}
	}
	need, err := d.node.NeedsSync(id, shards)
	if err != nil {
		d.log.Warn("blob sync: cannot read the node's state", "blob", id, "err", err)
		return false, 0
	}
	if need.Done() {
		return true, 0
	}
	if wait := s.ingestWait(id, e); wait > 0 {
		d.counters.blobsDeferred.Add(1)
		d.log.Debug("blob sync put off for a client's upload (ingest_quiet)", "blob", id, "wait", wait)
		return false, wait
	}
	err = d.recoverBlob(ctx, id, need)
	switch {
	case err == nil:
		d.counters.blobsDone.Add(1)
		d.log.Debug("blob synced", "blob", id, "slivers", len(need.Slivers), "metadata", need.MetadataMissing)
		return true, 0
	case errors.Is(err, errBlobInvalid):
		return true, 0
	case ctx.Err() != nil:
		return true, 0
	}
	// The blob may have been deleted, expired or invalidated meanwhile.
	if need, nerr := d.node.NeedsSync(id, shards); nerr == nil && need.Done() {
		return true, 0
	}
	d.log.Info("blob sync failed; will retry", "blob", id, "err", err)
	return false, 0
}

// ingestWait returns how long the sync of entry e's blob should wait for a client's
// upload of it to this node: while one is in progress, and until Config.IngestQuiet after
// the last one ended and after the blob was queued (a store's tail upload goes on for a
// moment after its certificate, and a node that just restarted may still get it); never
// more than Config.IngestWaitMax after the first wait. Zero means go ahead.
func (s *blobSyncer) ingestWait(id redstuff.BlobID, e *syncEntry) time.Duration {
	quiet := s.d.cfg.IngestQuiet
	if quiet <= 0 {
		return 0
	}
	active, ended := s.d.node.UploadActivity(id)
	now := time.Now()
	var wait time.Duration
	if active > 0 {
		wait = quiet
	}
	for _, t := range []time.Time{ended, e.created} {
		if !t.IsZero() {
			wait = max(wait, quiet-now.Sub(t))
		}
	}
	if wait <= 0 {
		return 0
	}
	if e.deferredSince.IsZero() {
		e.deferredSince = now
	}
	if left := s.d.cfg.IngestWaitMax - now.Sub(e.deferredSince); left < wait {
		wait = left
	}
	return max(wait, 0)
}

// scan queues every certified blob that misses data in the node's Active shards: the
// blobs whose sync a restart interrupted.
func (s *blobSyncer) scan(ctx context.Context) error {
	var from redstuff.BlobID
	for {
		ids, next, more, err := s.d.node.CertifiedBlobs(from, 512)
		if err != nil {
			return err
		}
		var active []uint16
		for _, sh := range s.d.node.Shards() {
			if sh.Status == store.ShardActive {
				active = append(active, sh.Shard)
			}
		}
		if len(active) == 0 {
			return nil
		}
		for _, id := range ids {
			need, err := s.d.node.NeedsSync(id, active)
			if err != nil {
				return err
			}
			if !need.Done() {
				s.add(id, true)
			}
		}
		if !more || ctx.Err() != nil {
			return ctx.Err()
		}
		from = next
	}
}
