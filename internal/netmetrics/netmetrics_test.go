package netmetrics

import (
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestConcentration(t *testing.T) {
	for _, tc := range []struct {
		name     string
		w        []uint64
		nakamoto int
		hhi      float64
		gini     float64
		largest  float64
	}{
		{"empty network", nil, 0, 0, 0, 0},
		{"all zero", []uint64{0, 0}, 0, 0, 0, 0},
		{"one node", []uint64{7}, 1, 10000, 0, 1},
		{"equal stake of four", []uint64{5, 5, 5, 5}, 2, 2500, 0, 0.25},
		{"equal stake of three", []uint64{1, 1, 1}, 2, 10000.0 / 3, 0, 1.0 / 3},
		{"equal stake of ten", []uint64{3, 3, 3, 3, 3, 3, 3, 3, 3, 3}, 4, 1000, 0, 0.1},
		{"one operator holds everything", []uint64{0, 100, 0, 0}, 1, 10000, 0.75, 1},
		{"one third exactly is not enough", []uint64{1, 1, 1, 0}, 2, 10000.0 / 3, 0.25, 1.0 / 3},
		{"skewed", []uint64{60, 30, 10}, 1, 3600 + 900 + 100, (-2*10 + 0*30 + 2*60) / (3.0 * 100), 0.6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewConcentration(tc.w)
			if c.Nakamoto != tc.nakamoto || !near(c.HHI, tc.hhi) || !near(c.Gini, tc.gini) || !near(c.LargestShare, tc.largest) {
				t.Fatalf("got %+v, want nakamoto %d hhi %v gini %v largest %v", c, tc.nakamoto, tc.hhi, tc.gini, tc.largest)
			}
			if c.Holders != len(tc.w) {
				t.Fatalf("holders %d", c.Holders)
			}
		})
	}
}

func TestConcentrationOrderIndependent(t *testing.T) {
	a := NewConcentration([]uint64{9, 1, 4, 4, 2})
	b := NewConcentration([]uint64{2, 4, 1, 9, 4})
	if a != b {
		t.Fatalf("%+v != %+v", a, b)
	}
}

func TestNakamotoNoOverflow(t *testing.T) {
	w := []uint64{math.MaxUint64 / 4, math.MaxUint64 / 4, math.MaxUint64 / 4}
	if got := Nakamoto(w); got != 2 {
		t.Fatalf("got %d, want 2", got)
	}
}

func TestOverhead(t *testing.T) {
	if o := NewOverhead(0, 0, 0); o.Factor != 0 || o.MetadataShare != 0 {
		t.Fatalf("empty: %+v", o)
	}
	o := NewOverhead(100, 450, 45)
	if !near(o.Factor, 4.5) || !near(o.MetadataShare, 0.1) {
		t.Fatalf("%+v", o)
	}
}

func TestShardsMoved(t *testing.T) {
	a := map[uint16]string{0: "x", 1: "x", 2: "y", 3: "z"}
	if ShardsMoved[string](nil, a) != 0 {
		t.Fatal("first committee moves nothing")
	}
	if ShardsMoved(a, a) != 0 {
		t.Fatal("same committee moves nothing")
	}
	b := map[uint16]string{0: "y", 1: "x", 2: "y", 3: "x"}
	if got := ShardsMoved(a, b); got != 2 {
		t.Fatalf("got %d, want 2", got)
	}
	c := map[uint16]string{0: "x", 1: "x", 2: "y", 3: "z", 4: "q"}
	if got := ShardsMoved(a, c); got != 1 {
		t.Fatalf("added shard: got %d, want 1", got)
	}
	if got := ShardsMoved(c, a); got != 1 {
		t.Fatalf("removed shard: got %d, want 1", got)
	}
}

func TestUptime(t *testing.T) {
	var u Uptime
	if u.Fraction() != 0 {
		t.Fatal("no samples")
	}
	u.Add(true)
	u.Add(true)
	u.Add(false)
	u.Add(true)
	if u.Up != 3 || u.Total != 4 || u.Fraction() != 0.75 {
		t.Fatalf("%+v", u)
	}
}

func TestPercentile(t *testing.T) {
	inf := math.Inf(1)
	b := []Bucket{{0.1, 50}, {0.2, 90}, {inf, 100}, {0.5, 99}}
	if got := Percentile(0.5, b, 100); !near(got, 0.1) {
		t.Fatalf("p50 %v", got)
	}
	if got := Percentile(0.7, b, 100); !near(got, 0.15) {
		t.Fatalf("p70 %v", got)
	}
	if got := Percentile(0.99, b, 100); !near(got, 0.5) {
		t.Fatalf("p99 %v", got)
	}
	if got := Percentile(1, b, 100); !near(got, 0.5) {
		t.Fatalf("p100 in +Inf bucket %v", got)
	}
	if got := Percentile(0.5, nil, 0); !math.IsNaN(got) {
		t.Fatalf("no observations %v", got)
	}
	if got := Percentile(0.25, []Bucket{{1, 4}}, 4); !near(got, 0.25) {
		t.Fatalf("single bucket %v", got)
	}
}

func TestRecovery(t *testing.T) {
	if RecoveryPerLostByte(10, 0) != 0 {
		t.Fatal("nothing recovered")
	}
	if RecoveryPerLostByte(150, 100) != 1.5 {
		t.Fatal("ratio")
	}
}
