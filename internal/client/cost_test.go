package client

import (
	"errors"
	"math"
	"testing"

	"github.com/walrus-go/walrus/internal/chain"
)

// The cost estimate multiplied prices, units and epochs without overflow checks: with a high
// price vote or a huge size it wrapped around to a small cost, which the client then showed
// (dry run) and checked the wallet against.
func TestEstimateCostOverflow(t *testing.T) {
	const mib = chain.BytesPerUnit
	cases := []struct {
		name                   string
		storagePrice, write    uint64
		encLen                 uint64
		epochs                 uint32
		wantStorage, wantWrite uint64
		overflow               bool
	}{
		{"small", 1000, 2000, 3 * mib, 5, 15_000, 6000, false},
		{"partial unit", 1000, 2000, mib + 1, 1, 2000, 4000, false},
		{"zero size", 1000, 2000, 0, 5, 0, 0, false},
		{"price times units", math.MaxUint64 / 2, 1, 3 * mib, 1, 0, 0, true},
		{"times epochs", math.MaxUint64 / 4, 1, mib, 5, 0, 0, true},
		{"huge size", 1 << 20, 1, math.MaxUint64, 1, 0, 0, true},
		{"write price", 1, math.MaxUint64, 2 * mib, 1, 0, 0, true},
		{"max epochs at the edge", math.MaxUint64 / math.MaxUint32, 0, mib, math.MaxUint32, (math.MaxUint64 / math.MaxUint32) * math.MaxUint32, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, w, err := estimateCost(c.storagePrice, c.write, c.encLen, c.epochs)
			if c.overflow {
				if !errors.Is(err, ErrCostOverflow) {
					t.Fatalf("cost %d + %d, err %v; want ErrCostOverflow", s, w, err)
				}
				return
			}
			if err != nil || s != c.wantStorage || w != c.wantWrite {
				t.Fatalf("cost %d + %d, err %v; want %d + %d", s, w, err, c.wantStorage, c.wantWrite)
			}
		})
	}
}

func TestWithFeesOverflow(t *testing.T) {
	p := chain.Params{MinFee: 1000, SignatureFee: 100_000}
	if got, err := withFees(5000, &p, 2); err != nil || got != 5000+2*1000+101_000 {
		t.Fatalf("withFees = %d, %v", got, err)
	}
	if _, err := withFees(math.MaxUint64-50_000, &p, 2); !errors.Is(err, ErrCostOverflow) {
		t.Fatalf("cost near the maximum: %v", err)
	}
	huge := chain.Params{MinFee: math.MaxUint64 / 2}
	if _, err := withFees(0, &huge, 3); !errors.Is(err, ErrCostOverflow) {
		t.Fatalf("fees overflow: %v", err)
	}
}
