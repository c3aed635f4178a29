package client

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/walrus-go/walrus/internal/committee"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
)

// Status returns a blob's status as the storage nodes of the current committee report it,
// verified by weight: all members are asked at once; a quorum of shards reporting
// "nonexistent" means the blob does not exist; otherwise the statuses are walked from the
// latest in the lifecycle (invalid, permanent, deletable) to the earliest and the first
// one reported by nodes holding at least f+1 shards (so at least one honest node) is
// returned. It fails with ErrUnavailable when no status has that weight.
func (c *Client) Status(ctx context.Context, id redstuff.BlobID) (sn.BlobStatus, error) {
	sys, err := c.chain.System(ctx)
	if err != nil {
		return sn.BlobStatus{}, fmt.Errorf("client: %w", err)
	}
	view, err := c.committee(ctx, sys.Epoch)
	if err != nil {
		return sn.BlobStatus{}, err
	}
	return c.statusFrom(ctx, view, id)
}

func (c *Client) statusFrom(ctx context.Context, view *committeeView, id redstuff.BlobID) (sn.BlobStatus, error) {
	type answer struct {
		m   *member
		s   sn.BlobStatus
		err error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	answers := make(chan answer, len(view.members))
	for _, m := range view.members {
		go func() {
			if m.node == nil {
				answers <- answer{m: m, err: m.err}
				return
			}
			var s sn.BlobStatus
			err := c.retry(ctx, false, func() error {
				var err error
				s, err = m.node.BlobStatus(ctx, id)
				return err
			})
			answers <- answer{m: m, s: s, err: err}
		}()
	}
	type tally struct {
		s      sn.BlobStatus
		weight int
	}
	var tallies []*tally
	var errs []error
	total := 0
	for range view.members {
		a := <-answers
		if a.err != nil {
			errs = append(errs, fmt.Errorf("node %s: %w", a.m.info.Name, a.err))
			continue
		}
		total += a.m.weight
		found := false
		for _, t := range tallies {
			if statusEqual(t.s, a.s) {
				t.weight += a.m.weight
				found = true
				break
			}
		}
		if !found {
			tallies = append(tallies, &tally{s: a.s, weight: a.m.weight})
		}
		// Stop early once the answer is settled: a quorum agrees.
		for _, t := range tallies {
			if committee.Quorum(t.weight, view.n) {
				return t.s, nil
			}
		}
	}
	// Latest in the lifecycle first; among permanent ones, certified and later ends first.
	slices.SortStableFunc(tallies, func(a, b *tally) int {
		if a.s.Kind != b.s.Kind {
			return int(b.s.Kind) - int(a.s.Kind)
		}
		if a.s.IsCertified != b.s.IsCertified {
			if a.s.IsCertified {
				return -1
			}
			return 1
		}
		return int(b.s.EndEpoch) - int(a.s.EndEpoch)
	})
	for _, t := range tallies {
		if t.s.Kind == sn.BlobStatusNonexistent {
			continue
		}
		if committee.Validity(t.weight, view.n) {
			return t.s, nil
		}
	}
	return sn.BlobStatus{}, fmt.Errorf("%w: no status of blob %s is reported by nodes holding more than %d of %d shards (%d answered): %w",
		ErrUnavailable, id, view.f(), view.n, total, errors.Join(errs...))
}

func statusEqual(a, b sn.BlobStatus) bool {
	if a.Kind != b.Kind || a.Event != b.Event || a.EndEpoch != b.EndEpoch || a.IsCertified != b.IsCertified || a.Deletable != b.Deletable {
		return false
	}
	if (a.InitialCertifiedEpoch == nil) != (b.InitialCertifiedEpoch == nil) {
		return false
	}
	return a.InitialCertifiedEpoch == nil || *a.InitialCertifiedEpoch == *b.InitialCertifiedEpoch
}
