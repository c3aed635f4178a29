package netns

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limits of a latency matrix file: it is read from the command line, but bounded anyway.
const (
	MaxRegions   = 16
	MaxMatrixLen = 64 << 10
	maxDelay     = 10 * time.Second
)

// ErrMatrix is wrapped by every error of ParseMatrix.
var ErrMatrix = errors.New("netns: latency matrix")

// Link is the emulated path between two regions, the same in both directions.
type Link struct {
	// RTT is the round-trip time; each direction is delayed by half of it.
	RTT time.Duration
	// Jitter is added to each direction's delay, up to this much either way.
	Jitter time.Duration
	// LossPercent is the share of packets dropped in each direction, 0 to 100.
	LossPercent float64
}

// Matrix is the latency between every pair of regions (including a region with itself).
type Matrix struct {
	Regions []string
	links   map[[2]int]Link
}

// Link returns the link between regions a and b (indexes into Regions).
func (m *Matrix) Link(a, b int) Link {
	if a > b {
		a, b = b, a
	}
	return m.links[[2]int{a, b}]
}

// Region returns the index of the named region, or -1.
func (m *Matrix) Region(name string) int { return slices.Index(m.Regions, name) }

// DefaultMatrix is the testbed's default: three regions, 10 ms RTT inside each and 80 to
// 160 ms between them.
const DefaultMatrix = `# regions, then FROM TO RTT [JITTER [LOSS%]] for every pair (symmetric)
regions eu us ap
eu eu 10ms 1ms
us us 10ms 1ms
ap ap 10ms 1ms
eu us 80ms 4ms
us ap 120ms 6ms
eu ap 160ms 8ms
`

// ParseMatrix reads a latency matrix: '#' comments and blank lines are ignored; the first
// line is "regions NAME..."; every other line is "FROM TO RTT [JITTER [LOSS%]]" with Go
// durations and a loss percentage, and every pair of regions (a region with itself too)
// must appear exactly once, in either order.
func ParseMatrix(r io.Reader) (*Matrix, error) {
	bad := func(line int, format string, args ...any) error {
		return fmt.Errorf("%w: line %d: %s", ErrMatrix, line, fmt.Sprintf(format, args...))
	}
	sc := bufio.NewScanner(io.LimitReader(r, MaxMatrixLen+1))
	m := &Matrix{links: map[[2]int]Link{}}
	n, read := 0, 0
	for sc.Scan() {
		n++
		read += len(sc.Bytes()) + 1
		if read > MaxMatrixLen {
			return nil, fmt.Errorf("%w: longer than %d bytes", ErrMatrix, MaxMatrixLen)
		}
		text, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(text)
		if len(f) == 0 {
			continue
		}
		if m.Regions == nil {
			if f[0] != "regions" || len(f) < 2 {
				return nil, bad(n, "want \"regions NAME...\" first")
			}
			if len(f)-1 > MaxRegions {
				return nil, bad(n, "%d regions, at most %d", len(f)-1, MaxRegions)
			}
			for _, name := range f[1:] {
				if slices.Contains(m.Regions, name) {
					return nil, bad(n, "region %q twice", name)
				}
				m.Regions = append(m.Regions, name)
			}
			continue
		}
		if len(f) < 3 || len(f) > 5 {
			return nil, bad(n, "want FROM TO RTT [JITTER [LOSS%%]]")
		}
		a, b := m.Region(f[0]), m.Region(f[1])
		if a < 0 || b < 0 {
			return nil, bad(n, "unknown region in %q %q", f[0], f[1])
		}
		var l Link
		var err error
		if l.RTT, err = parseDelay(f[2]); err != nil {
			return nil, bad(n, "RTT: %v", err)
		}
		if len(f) > 3 {
			if l.Jitter, err = parseDelay(f[3]); err != nil {
				return nil, bad(n, "jitter: %v", err)
			}
		}
		if len(f) > 4 {
			p, err := strconv.ParseFloat(strings.TrimSuffix(f[4], "%"), 64)
			if err != nil || !(p >= 0 && p <= 100) {
				return nil, bad(n, "loss %q: want a percentage 0..100", f[4])
			}
			l.LossPercent = p
		}
		if a > b {
			a, b = b, a
		}
		if _, dup := m.links[[2]int{a, b}]; dup {
			return nil, bad(n, "pair %s %s twice", f[0], f[1])
		}
		m.links[[2]int{a, b}] = l
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMatrix, err)
	}
	if m.Regions == nil {
		return nil, fmt.Errorf("%w: no regions line", ErrMatrix)
	}
	for a := range m.Regions {
		for b := a; b < len(m.Regions); b++ {
			if _, ok := m.links[[2]int{a, b}]; !ok {
				return nil, fmt.Errorf("%w: no line for %s %s", ErrMatrix, m.Regions[a], m.Regions[b])
			}
		}
	}
	return m, nil
}

func parseDelay(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d < 0 || d > maxDelay {
		return 0, fmt.Errorf("%v out of range 0..%v", d, maxDelay)
	}
	return d, nil
}
