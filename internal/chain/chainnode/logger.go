package chainnode

import (
	"context"
	"fmt"
	"log/slog"

	cmtlog "github.com/cometbft/cometbft/libs/log"
)

// cometLogger adapts slog to CometBFT's logger. CometBFT logs every block several times at
// its Info level, so its Info lines go to slog at Debug level; its Debug lines at
// Debug-4; its Error lines at Error.
//
// CometBFT calls With far more often than it logs: its consensus reactor builds a logger
// with the peer's height at every turn of each peer's gossip loops, and its state machine
// one per step. slog's With hands the attributes to the handler at once, which formats
// them; so With only remembers CometBFT's key-value pairs, and they are converted when a
// line is logged at an enabled level.
type cometLogger struct {
	l  *slog.Logger
	kv []any // pairs attached by With, oldest first; never appended to in place
}

// Levels CometBFT's messages are logged at.
const (
	LevelCometDebug = slog.LevelDebug - 4
	LevelCometInfo  = slog.LevelDebug
	LevelCometError = slog.LevelError
)

// NewCometLogger returns a CometBFT logger that writes to l (see the Level constants for
// the mapping).
func NewCometLogger(l *slog.Logger) cmtlog.Logger { return cometLogger{l: l} }

func (c cometLogger) log(level slog.Level, msg string, keyvals []any) {
	ctx := context.Background()
	if !c.l.Enabled(ctx, level) {
		return
	}
	args := attrs(c.kv)
	args = append(args, attrs(keyvals)...)
	c.l.Log(ctx, level, msg, args...)
}

func (c cometLogger) Debug(msg string, keyvals ...any) { c.log(LevelCometDebug, msg, keyvals) }
func (c cometLogger) Info(msg string, keyvals ...any)  { c.log(LevelCometInfo, msg, keyvals) }
func (c cometLogger) Error(msg string, keyvals ...any) {
	level := LevelCometError
	if benignErrors[msg] {
		level = LevelCometInfo
	}
	c.log(level, msg, keyvals)
}

// benignErrors are messages CometBFT logs as errors during a normal shutdown.
var benignErrors = map[string]bool{
	"Stopped accept routine, as transport is closed": true,
}

// With returns a logger with the key-value pairs attached (converted only when a line is
// logged).
func (c cometLogger) With(keyvals ...any) cmtlog.Logger {
	if len(keyvals) == 0 {
		return c
	}
	kv := make([]any, 0, len(c.kv)+len(keyvals))
	kv = append(append(kv, c.kv...), keyvals...)
	if len(keyvals)%2 == 1 {
		kv = append(kv, noValue{}) // keeps the pairs of a later With aligned
	}
	return cometLogger{l: c.l, kv: kv}
}

// noValue stands for the missing value of a key passed last to With.
type noValue struct{}

// attrs turns CometBFT's alternating keys and values into slog attributes, stringifying
// values lazily through fmt so that CometBFT's Stringers (hashes, lazy formatters) print as
// they do in its own logs.
func attrs(keyvals []any) []any {
	out := make([]any, 0, (len(keyvals)+1)/2)
	for i := 0; i < len(keyvals); i += 2 {
		key := fmt.Sprint(keyvals[i])
		if i+1 == len(keyvals) || keyvals[i+1] == (noValue{}) {
			out = append(out, slog.String("!BADKEY", key))
			continue
		}
		out = append(out, slog.Any(key, stringer{keyvals[i+1]}))
	}
	return out
}

// stringer formats a value with fmt when the handler asks for it.
type stringer struct{ v any }

func (s stringer) LogValue() slog.Value {
	switch v := s.v.(type) {
	case string:
		return slog.StringValue(v)
	case int:
		return slog.IntValue(v)
	case int64:
		return slog.Int64Value(v)
	case uint64:
		return slog.Uint64Value(v)
	case bool:
		return slog.BoolValue(v)
	case error:
		return slog.StringValue(v.Error())
	}
	return slog.StringValue(fmt.Sprint(s.v))
}
