package faultproxy

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Kind is the kind of fault a Proxy injects.
type Kind int

const (
	// Pass forwards requests unchanged.
	Pass Kind = iota
	// Delay waits Fault.Delay before forwarding each request, and Fault.ChunkDelay
	// before each chunk of the response body. The wait ends early (without a response)
	// when the proxy closes, or when the client goes away; for a request with a body the
	// server notices that only after the body has been read, i.e. after the wait.
	Delay
	// Refuse answers 503 Service Unavailable with a short body (the storage node's JSON
	// error envelope, reason UNAVAILABLE) without contacting the backend.
	Refuse
	// Drop closes the client connection without any response.
	Drop
	// Cut forwards the request but closes the connection after Fault.CutAfter bytes of
	// the response body; the client sees a truncated body (unexpected EOF). A response
	// whose body is no longer than CutAfter is delivered whole.
	Cut
	// Blackhole reads the request and never answers: the connection stays open until the
	// request's context ends (the client gives up) or the proxy closes, and is then closed
	// without a response.
	Blackhole
	// CorruptSlivers flips bits in the body of GET sliver responses with status 200,
	// keeping the length: the response is well-formed but wrong.
	CorruptSlivers
	// CorruptMetadata does the same to GET metadata responses.
	CorruptMetadata
	// CorruptSymbols does the same to recovery-symbol responses.
	CorruptSymbols

	numKinds
)

var kindNames = [numKinds]string{
	Pass:            "pass",
	Delay:           "delay",
	Refuse:          "refuse",
	Drop:            "drop",
	Cut:             "cut",
	Blackhole:       "blackhole",
	CorruptSlivers:  "corrupt-slivers",
	CorruptMetadata: "corrupt-metadata",
	CorruptSymbols:  "corrupt-symbols",
}

// Kinds returns every Kind, in order.
func Kinds() []Kind {
	ks := make([]Kind, numKinds)
	for i := range ks {
		ks[i] = Kind(i)
	}
	return ks
}

// String returns the kind's name as ParseKind accepts it, e.g. "corrupt-slivers".
func (k Kind) String() string {
	if k >= 0 && k < numKinds {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// ParseKind parses a kind name as String returns it. Case, '-' and '_' are ignored, so
// "CorruptSlivers", "corrupt_slivers" and "corrupt-slivers" are the same kind.
func ParseKind(s string) (Kind, error) {
	norm := func(s string) string {
		return strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(strings.TrimSpace(s)))
	}
	n := norm(s)
	for k, name := range kindNames {
		if n == norm(name) {
			return Kind(k), nil
		}
	}
	return Pass, fmt.Errorf("faultproxy: unknown fault kind %q", s)
}

// MarshalText implements encoding.TextMarshaler.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseKind.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// Fault describes what a Proxy does to requests. The zero Fault is Pass.
type Fault struct {
	Kind Kind
	// Delay is the wait before forwarding each request, for Delay.
	Delay time.Duration
	// ChunkDelay is the wait before each chunk of the response body, for Delay (zero:
	// none). It makes a slow transfer rather than a slow start.
	ChunkDelay time.Duration
	// CutAfter is the number of response body bytes delivered before the connection is
	// closed, for Cut.
	CutAfter int64
	// Rate is the fraction of matching requests affected; 0, 1 (or anything outside
	// (0, 1)) means all. The choice uses a PRNG seeded with Seed and reset by every Set,
	// so a sequence of requests is affected the same way in every run.
	Rate float64
	// Seed seeds the PRNG used for Rate.
	Seed uint64
	// Methods, if set, restricts the fault to requests with these methods
	// (case-insensitive); others pass.
	Methods []string
}

// String describes the fault briefly, e.g. "cut(after=100,rate=0.5,methods=GET)".
func (f Fault) String() string {
	var args []string
	switch f.Kind {
	case Delay:
		args = append(args, "delay="+f.Delay.String())
		if f.ChunkDelay > 0 {
			args = append(args, "chunk="+f.ChunkDelay.String())
		}
	case Cut:
		args = append(args, "after="+strconv.FormatInt(f.CutAfter, 10))
	}
	if f.Rate > 0 && f.Rate < 1 {
		args = append(args, "rate="+strconv.FormatFloat(f.Rate, 'g', -1, 64))
	}
	if len(f.Methods) > 0 {
		args = append(args, "methods="+strings.Join(f.Methods, "|"))
	}
	if len(args) == 0 {
		return f.Kind.String()
	}
	return f.Kind.String() + "(" + strings.Join(args, ",") + ")"
}
