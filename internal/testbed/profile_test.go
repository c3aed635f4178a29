package testbed

import (
	"os"
	"strings"
	"testing"
	"time"
)

const tracesOut = `File: walrus
Type: cpu
Duration: 5s, Total samples = 1.23s (24.60%)
-----------+-------------------------------------------------------
      10ms   crypto/internal/fips140/sha256.blockSHANI
             crypto/internal/fips140/sha256.(*Digest).Write
             github.com/walrus-go/walrus/internal/redstuff.(*Encoder).Encode
-----------+-------------------------------------------------------
     1.2s   runtime.memmove
             github.com/walrus-go/walrus/internal/redstuff.(*Encoder).Encode
-----------+-------------------------------------------------------
         bytes:  1024
      20ms   runtime.scanobject (inline)
             runtime.gcDrain
             runtime.gcBgMarkWorker
-----------+-------------------------------------------------------
`

func TestParseTracesAndClassify(t *testing.T) {
	samples, err := parseTraces(strings.NewReader(tracesOut))
	if err != nil || len(samples) != 3 || samples[1].cpu != 1200*time.Millisecond || len(samples[0].stack) != 3 {
		t.Fatalf("%+v, %v", samples, err)
	}
	total, classes := classify(samples)
	if total != 1230*time.Millisecond || classes[0].Class != "encoding" || classes[1].Class != "GC" || classes[2].Class != "hashing" {
		t.Fatalf("%v %+v", total, classes)
	}
	for stack, want := range map[string]string{
		"internal/runtime/syscall.Syscall6 syscall.write crypto/tls.(*Conn).Write":             "syscalls/kernel",
		"runtime.writeHeapBitsSmall runtime.mallocgc github.com/cometbft/cometbft/types.foo":   "consensus",
		"runtime.cgocall github.com/supranational/blst._Cfunc_blst_core_verify_pk_in_g1":       "BLS",
		"runtime.mallocgc runtime.gcAssistAlloc github.com/walrus-go/walrus/internal/rscode.x": "GC",
		"crypto/internal/fips140/aes/gcm.seal crypto/tls.(*halfConn).encrypt":                  "TLS/crypto",
		"runtime.futex runtime.notesleep runtime.stopm":                                        "syscalls/kernel",
		"runtime.findRunnable runtime.schedule":                                                "Go runtime",
		"runtime.memmove main.main":                                                            "other",
		"runtime.memclrNoHeapPointers runtime.mallocgc encoding/json.Marshal net/http.x":       "serialization",
	} {
		if got := classOf(strings.Fields(stack)); got != want {
			t.Errorf("%s: %s, want %s", stack, got, want)
		}
	}
}

func FuzzParseTraces(f *testing.F) {
	f.Add(tracesOut)
	f.Add("-----------+\n 5ms a\n b\n-----------+\n")
	f.Fuzz(func(t *testing.T, in string) {
		samples, err := parseTraces(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, s := range samples {
			if s.cpu < 0 || len(s.stack) == 0 {
				t.Fatalf("%+v", s)
			}
		}
		classify(samples)
	})
}

func TestProcStat(t *testing.T) {
	sec, err := parseProcStat([]byte("4242 (walrus (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 12 0 100 0 0"))
	if err != nil || sec != 3 {
		t.Fatalf("%v %v", sec, err)
	}
	for _, bad := range []string{"", "1 (x", "1 (x) S 1 2", "1 (x) S 1 2 3 4 5 6 7 8 9 10 -5 6 7"} {
		if _, err := parseProcStat([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	busy, err := parseMachineStat([]byte("cpu  100 10 50 9000 30 5 5 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n"))
	if err != nil || busy != 1.7 {
		t.Fatalf("%v %v", busy, err)
	}
	if _, err := parseMachineStat([]byte("intr 1 2 3")); err == nil {
		t.Error("no cpu line: no error")
	}
	// This process, on Linux.
	if _, err := os.Stat("/proc/self/stat"); err == nil {
		if _, err := processCPU(os.Getpid()); err != nil {
			t.Error(err)
		}
		if _, err := machineBusy(); err != nil {
			t.Error(err)
		}
	}
}

func FuzzParseProcStat(f *testing.F) {
	f.Add([]byte("4242 (walrus) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 12 0 100 0 0"))
	f.Add([]byte("cpu  100 10 50 9000 30 5 5 0 0 0\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if v, err := parseProcStat(b); err == nil && v < 0 {
			t.Fatal(v)
		}
		if v, err := parseMachineStat(b); err == nil && v < 0 {
			t.Fatal(v)
		}
	})
}

func TestCPUSeries(t *testing.T) {
	t0 := time.Unix(1000, 0)
	s := cpuSeries{{t0, 1}, {t0.Add(time.Second), 2}, {t0.Add(3 * time.Second), 2.5}}
	for _, c := range []struct {
		a, b time.Duration
		want float64
	}{
		{-time.Second, 0, 1},                            // started before the window: all its CPU until t0
		{500 * time.Millisecond, 2 * time.Second, 0.75}, // 0.5 + 0.25
		{2 * time.Second, 10 * time.Second, 0.25},       // exited after the last sample
		{5 * time.Second, 10 * time.Second, 0},
	} {
		if got := s.between(t0.Add(c.a), t0.Add(c.b)); got != c.want {
			t.Errorf("between(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}
