package daemon

import (
	"context"
	"encoding/binary"
	"sync"
	"time"

	"golang.org/x/crypto/blake2b"
)

// gcDriver runs the node's garbage collection (walrus-spec §4.6) once per epoch: after the
// node applies the start of an epoch (and at startup), it waits a delay derived from the
// node's key and the epoch, so that nodes do not all collect at once, then calls
// Node.CollectGarbage for the epoch. A later epoch replaces one still waiting; a failed
// collection is retried.
type gcDriver struct {
	d    *Daemon
	wake chan struct{}

	mu    sync.Mutex
	epoch uint32
	set   bool
}

func newGCDriver(d *Daemon) *gcDriver { return &gcDriver{d: d, wake: make(chan struct{}, 1)} }

// schedule asks for a collection at epoch.
func (g *gcDriver) schedule(epoch uint32) {
	g.mu.Lock()
	if !g.set || epoch > g.epoch {
		g.epoch, g.set = epoch, true
	}
	g.mu.Unlock()
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// delay returns the deterministic delay of the collection of epoch: a value in
// [0, max) drawn from Blake2b-256(node public key ‖ epoch).
func (g *gcDriver) delay(epoch uint32) time.Duration {
	maxDelay := g.d.cfg.GCMaxDelay
	if maxDelay == 0 {
		maxDelay = time.Duration(g.d.params.EpochDuration) / 2
	}
	if maxDelay <= 0 {
		return 0
	}
	pk := g.d.node.PublicKey().Bytes()
	var e [4]byte
	binary.LittleEndian.PutUint32(e[:], epoch)
	h := blake2b.Sum256(append(pk[:], e[:]...))
	return time.Duration(binary.LittleEndian.Uint64(h[:8]) % uint64(maxDelay))
}

func (g *gcDriver) run(ctx context.Context) error {
	var timer *time.Timer
	var fire <-chan time.Time
	var target uint32
	done := uint32(0)
	doneAny := false
	for {
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return nil
		case <-g.wake:
			g.mu.Lock()
			epoch := g.epoch
			g.mu.Unlock()
			if doneAny && epoch <= done || fire != nil && epoch == target {
				continue
			}
			if timer != nil {
				timer.Stop()
			}
			target = epoch
			timer = time.NewTimer(g.delay(epoch))
			fire = timer.C
		case <-fire:
			fire = nil
			stats, err := g.d.node.CollectGarbage(ctx, target)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				g.d.log.Warn("garbage collection failed; will retry", "epoch", target, "err", err)
				timer = time.NewTimer(g.d.cfg.RetryMin)
				fire = timer.C
				continue
			}
			done, doneAny = target, true
			g.d.counters.gcRuns.Add(1)
			g.d.counters.gcBlobs.Add(int64(stats.Blobs))
			g.d.log.Info("garbage collection done", "epoch", target, "registrations_expired", stats.Registrations, "blobs_deleted", stats.Blobs,
				"segments_removed", stats.Segments.SegmentsRemoved, "segment_bytes_reclaimed", stats.Segments.BytesReclaimed, "sliver_bytes_moved", stats.Segments.BytesMoved)
		}
	}
}
