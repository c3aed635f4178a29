package chainnode_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/walrus-go/walrus/internal/chain/chainnode"
)

// TestCometLoggerWith: the pairs attached by With (in layers, a trailing key without a
// value included) appear on the lines logged, in order, and converted as CometBFT's own
// logger would print them.
func TestCometLoggerWith(t *testing.T) {
	var buf bytes.Buffer
	l := chainnode.NewCometLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: chainnode.LevelCometDebug})))
	l = l.With("module", "consensus").With("height", int64(7), "dangling").With("round", 2)
	l.Info("entering new round", "step", stringerValue("propose"))
	line := buf.String()
	for _, want := range []string{`msg="entering new round"`, "module=consensus height=7 !BADKEY=dangling round=2 step=propose"} {
		if !strings.Contains(line, want) {
			t.Errorf("line %q lacks %q", line, want)
		}
	}
	buf.Reset()
	l.With().Error("failed", "err", context.Canceled)
	if line := buf.String(); !strings.Contains(line, "module=consensus height=7 !BADKEY=dangling round=2 err=\"context canceled\"") {
		t.Errorf("line %q lacks the attached pairs and the error", line)
	}
}

type stringerValue string

func (s stringerValue) String() string { return string(s) }

// TestCometLoggerWithIsCheap: CometBFT calls With at every turn of its gossip loops, so
// With must not format anything: one allocation of its own, whatever the values, besides
// the three of the calls' arguments (the old adapter formatted each value with fmt and
// handed it to the handler at once: 11 allocations in all here).
func TestCometLoggerWithIsCheap(t *testing.T) {
	var buf bytes.Buffer
	l := chainnode.NewCometLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	l = l.With("module", "consensus", "peer", stringerValue("0123456789abcdef@127.0.0.1:26656"))
	allocs := testing.AllocsPerRun(1000, func() {
		l.With("height", int64(12345)).Debug("send block part", "index", 1)
	})
	if allocs > 4 {
		t.Errorf("With and a disabled Debug line take %.1f allocations; want at most 4", allocs)
	}
	if buf.Len() != 0 {
		t.Errorf("a disabled level logged %q", buf.String())
	}
}
