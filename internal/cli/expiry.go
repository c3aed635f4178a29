package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
)

// epochClock turns end epochs into the dates they are expected to start at, from the
// chain's parameters and the system state read once (chain.EpochStartEstimate).
type epochClock struct {
	params chain.Params
	sys    chain.SystemState
}

// clock reads the system state for an epochClock.
func (s *session) clock(ctx context.Context) (epochClock, error) {
	sys, err := s.chain.System(ctx)
	if err != nil {
		return epochClock{}, explain(err, s)
	}
	return epochClock{params: s.params, sys: sys}, nil
}

// time returns the expected start of epoch (for an epoch at or before the current one,
// the current epoch's start).
func (c epochClock) time(epoch uint32) time.Time {
	return time.Unix(0, chain.EpochStartEstimate(c.params, c.sys, epoch)).UTC()
}

// date returns the expected start of epoch in RFC 3339 (UTC, seconds).
func (c epochClock) date(epoch uint32) string { return c.time(epoch).Format(time.RFC3339) }

// endEpoch describes an exclusive end epoch for people: the epoch and the date it is
// expected to start, when the blob stops being available ("12 (expected
// 2026-12-05T11:00:00Z)"), or "expired" for an epoch that has started.
func (c epochClock) endEpoch(epoch uint32) string {
	if epoch <= c.sys.Epoch {
		return fmt.Sprintf("%d (expired)", epoch)
	}
	return fmt.Sprintf("%d (expected %s)", epoch, c.date(epoch))
}

// expiryTimestamp returns the expected expiry of an end epoch for JSON output, or nil
// for an epoch that has started.
func (c epochClock) expiryTimestamp(epoch uint32) *time.Time {
	if epoch <= c.sys.Epoch {
		return nil
	}
	t := c.time(epoch)
	return &t
}

// parseExpiryTime parses --earliest-expiry-time: RFC 3339 ("2026-03-20T15:00:00Z") or
// the relaxed forms "2026-03-20 15:00:00" and "2026-03-20T15:00:00" (taken as UTC), as
// Walrus accepts.
func parseExpiryTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usageError{withHint(fmt.Errorf("--earliest-expiry-time %q: not a date and time", s),
		"use RFC 3339, as in 2026-03-20T15:00:00Z, or 2026-03-20 15:00:00 (UTC)")}
}
