package chain

import "testing"

func TestEpochStartEstimate(t *testing.T) {
	p := Params{EpochDuration: 100}
	s := SystemState{Epoch: 5, EpochStart: 1000}
	for _, tc := range []struct {
		epoch uint32
		want  int64
	}{{0, 1000}, {5, 1000}, {6, 1100}, {8, 1300}, {^uint32(0), 1000 + int64(^uint32(0)-5)*100}} {
		if got := EpochStartEstimate(p, s, tc.epoch); got != tc.want {
			t.Errorf("EpochStartEstimate(%d) = %d, want %d", tc.epoch, got, tc.want)
		}
	}
	huge := Params{EpochDuration: 1 << 60}
	if got := EpochStartEstimate(huge, s, 1000); got != 1<<63-1 {
		t.Errorf("overflow not clamped: %d", got)
	}
}

func TestEpochsUntil(t *testing.T) {
	p := Params{EpochDuration: 100}
	s := SystemState{Epoch: 5, EpochStart: 1000}
	for _, tc := range []struct {
		t    int64
		want uint32
	}{{0, 6}, {1000, 6}, {1001, 6}, {1100, 6}, {1101, 7}, {1300, 8}, {1301, 9}} {
		if got := EpochsUntil(p, s, tc.t); got != tc.want {
			t.Errorf("EpochsUntil(%d) = %d, want %d", tc.t, got, tc.want)
		}
		// The result's start is at or after t, and the epoch before it starts before t.
		got := EpochsUntil(p, s, tc.t)
		if got > s.Epoch+1 && EpochStartEstimate(p, s, got-1) >= tc.t {
			t.Errorf("EpochsUntil(%d) = %d is not the smallest", tc.t, got)
		}
		if EpochStartEstimate(p, s, got) < tc.t {
			t.Errorf("EpochsUntil(%d) = %d starts before t", tc.t, got)
		}
	}
}
