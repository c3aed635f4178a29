package netns

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseMatrix(t *testing.T) {
	m, err := ParseMatrix(strings.NewReader(DefaultMatrix))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Regions) != 3 {
		t.Fatalf("regions %v", m.Regions)
	}
	if l := m.Link(m.Region("ap"), m.Region("eu")); l.RTT != 160*time.Millisecond || l.Jitter != 8*time.Millisecond {
		t.Errorf("ap-eu %+v", l)
	}
	if l := m.Link(0, 0); l.RTT != 10*time.Millisecond {
		t.Errorf("eu-eu %+v", l)
	}
	for _, tc := range []struct{ in, msg string }{
		{"", "no regions line"},
		{"eu us 1ms", "want \"regions NAME...\" first"},
		{"regions a a", "twice"},
		{"regions a\na a 1ms\na a 2ms", "pair a a twice"},
		{"regions a b\na a 1ms\nb b 1ms", "no line for a b"},
		{"regions a\na b 1ms", "unknown region"},
		{"regions a\na a -1ms", "out of range"},
		{"regions a\na a 1ms 1ms 101", "percentage"},
		{"regions a\na a 1ms 1ms NaN", "percentage"},
		{"regions a\na a", "want FROM TO"},
		{"regions " + strings.Repeat("r ", 17), "at most 16"},
	} {
		_, err := ParseMatrix(strings.NewReader(tc.in))
		if !errors.Is(err, ErrMatrix) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%q: %v, want %q", tc.in, err, tc.msg)
		}
	}
}

func FuzzParseMatrix(f *testing.F) {
	f.Add(DefaultMatrix)
	f.Add("regions a b\na a 1ms\nb b 2ms 1ms 0.5\na b 3s")
	f.Fuzz(func(t *testing.T, in string) {
		m, err := ParseMatrix(strings.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrMatrix) {
				t.Fatalf("error %v does not wrap ErrMatrix", err)
			}
			return
		}
		for a := range m.Regions {
			for b := range m.Regions {
				l := m.Link(a, b)
				if l != m.Link(b, a) || l.RTT < 0 || l.RTT > maxDelay || l.LossPercent < 0 || l.LossPercent > 100 {
					t.Fatalf("link %d %d: %+v", a, b, l)
				}
			}
		}
	})
}
