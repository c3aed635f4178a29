package testbed

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Budget is the CPU that processes used while one client stored blobs of one size (the
// stores of a `walrus bench` row, tail uploads included), against what the machine's cores
// could give in the same wall time. When Machine comes near Wall × Cores, the machine's
// CPU bounds the write, not the emulated network.
type Budget struct {
	Client string
	Size   int
	Count  int
	Wall   time.Duration // from the first store's start to the last store's tail uploads
	Cores  int           // runtime.NumCPU of the test process
	// CPU seconds in the window, by process: the client (walrus bench), every validator,
	// every storage node, and the test process itself (the userspace router of the tun
	// emulator, the sampling, the profile collection).
	ClientCPU, ValidatorCPU, NodeCPU, TestbedCPU float64
	// Machine is the busy CPU seconds of the whole machine (/proc/stat), other work
	// included.
	Machine float64
}

// Run returns the CPU seconds the testbed's processes used in the window.
func (b Budget) Run() float64 { return b.ClientCPU + b.ValidatorCPU + b.NodeCPU + b.TestbedCPU }

// Capacity returns Wall × Cores in CPU seconds.
func (b Budget) Capacity() float64 { return b.Wall.Seconds() * float64(b.Cores) }

// clockTicks is USER_HZ, the unit of /proc's CPU times (100 on every Linux architecture Go
// supports).
const clockTicks = 100

// sampleInterval is how often the sampler reads /proc.
const sampleInterval = 200 * time.Millisecond

// cpuPoint is a cumulative CPU time (seconds) at a moment.
type cpuPoint struct {
	at  time.Time
	sec float64
}

// cpuSeries is a cumulative CPU time sampled over time, in order.
type cpuSeries []cpuPoint

// at returns the CPU time at t, interpolated linearly between samples: 0 before the first
// sample (the process had not started, or the sampling had not), the last sample's value
// after the last (the process had exited).
func (s cpuSeries) at(t time.Time) float64 {
	i := sort.Search(len(s), func(i int) bool { return !s[i].at.Before(t) })
	switch {
	case i < len(s) && s[i].at.Equal(t):
		return s[i].sec
	case i == len(s) && i > 0:
		return s[i-1].sec
	case i == 0:
		return 0
	}
	a, b := s[i-1], s[i]
	span := b.at.Sub(a.at).Seconds()
	if span <= 0 {
		return b.sec
	}
	return a.sec + (b.sec-a.sec)*t.Sub(a.at).Seconds()/span
}

// between returns the CPU seconds used from a to b.
func (s cpuSeries) between(a, b time.Time) float64 { return max(s.at(b)-s.at(a), 0) }

// cpuSampler reads the CPU time of the run's processes and of the machine from /proc every
// sampleInterval, so that the CPU used in any window of the run can be told afterwards.
type cpuSampler struct {
	mu      sync.Mutex
	pids    map[string]int       // live processes: series key → PID
	series  map[string]cpuSeries // by "HOST/PID", or "testbed" for this process
	machine cpuSeries
	stop    chan struct{}
	done    chan struct{}
}

// startSampler starts sampling this process and the machine; add more processes with add.
func startSampler() *cpuSampler {
	s := &cpuSampler{pids: map[string]int{"testbed": os.Getpid()}, series: map[string]cpuSeries{},
		stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(sampleInterval)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// add samples the process pid, running on host (a host name: v*, n*, c*) from now on.
func (s *cpuSampler) add(host string, pid int) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.pids[host+"/"+strconv.Itoa(pid)] = pid
	s.mu.Unlock()
	s.sample() // a first point near the start
}

func (s *cpuSampler) sample() {
	now := time.Now()
	busy, errM := machineBusy()
	s.mu.Lock()
	defer s.mu.Unlock()
	if errM == nil {
		s.machine = append(s.machine, cpuPoint{now, busy})
	}
	for key, pid := range s.pids {
		sec, err := processCPU(pid)
		if err != nil { // exited
			delete(s.pids, key)
			continue
		}
		s.series[key] = append(s.series[key], cpuPoint{now, sec})
	}
}

// close stops the sampling.
func (s *cpuSampler) close() {
	if s == nil {
		return
	}
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
}

// budget returns the CPU used from a to b by role.
func (s *cpuSampler) budget(a, b time.Time) Budget {
	s.mu.Lock()
	defer s.mu.Unlock()
	bu := Budget{Wall: b.Sub(a), Cores: runtime.NumCPU(), Machine: s.machine.between(a, b)}
	for key, ser := range s.series {
		sec := ser.between(a, b)
		switch {
		case key == "testbed":
			bu.TestbedCPU += sec
		case strings.HasPrefix(key, "v"):
			bu.ValidatorCPU += sec
		case strings.HasPrefix(key, "n"):
			bu.NodeCPU += sec
		case strings.HasPrefix(key, "c"):
			bu.ClientCPU += sec
		}
	}
	return bu
}

// processCPU returns the user and system CPU seconds of process pid (/proc/PID/stat).
func processCPU(pid int) (float64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return parseProcStat(b)
}

// parseProcStat returns utime + stime in seconds from the contents of /proc/PID/stat.
func parseProcStat(b []byte) (float64, error) {
	// The command name (field 2) is in parentheses and may hold spaces or parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("testbed: /proc stat: no command name")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 { // state (field 3) ... stime (field 15)
		return 0, fmt.Errorf("testbed: /proc stat: %d fields", len(f))
	}
	var sum float64
	for _, s := range f[11:13] {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("testbed: /proc stat: %w", err)
		}
		sum += float64(v)
	}
	return sum / clockTicks, nil
}

// machineBusy returns the machine's busy CPU seconds since boot (/proc/stat).
func machineBusy() (float64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	return parseMachineStat(b)
}

// parseMachineStat returns user + nice + system + irq + softirq + steal, in seconds, from
// the "cpu" line of /proc/stat.
func parseMachineStat(b []byte) (float64, error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return 0, fmt.Errorf("testbed: /proc/stat: no cpu line")
	}
	var sum float64
	for _, k := range []int{1, 2, 3, 6, 7, 8} { // user nice system [idle iowait] irq softirq steal
		v, err := strconv.ParseUint(f[k], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("testbed: /proc/stat: %w", err)
		}
		sum += float64(v)
	}
	return sum / clockTicks, nil
}

// budgets returns the write budget of every store row of the report's benchmarks.
func (s *cpuSampler) budgets(bench map[string][]BenchRow, clients []*host) []Budget {
	var out []Budget
	for _, c := range clients {
		for _, row := range bench[c.name] {
			if row.Op != "store" || row.StartUnixMs == 0 || row.EndUnixMs < row.StartUnixMs {
				continue
			}
			b := s.budget(time.UnixMilli(row.StartUnixMs), time.UnixMilli(row.EndUnixMs))
			b.Client, b.Size, b.Count = c.name, row.Size, row.Count
			out = append(out, b)
		}
	}
	return out
}

// printBudgets writes the write budgets as a table.
func printBudgets(w io.Writer, budgets []Budget) {
	if len(budgets) == 0 {
		return
	}
	fmt.Fprintf(w, "\nwrite budget: CPU seconds used during each size's stores, against wall time x cores\n")
	fmt.Fprintf(w, "%-6s %10s %5s %8s %9s %7s %10s %7s %7s %14s %14s\n",
		"client", "size", "count", "wall", "capacity", "client", "validators", "nodes", "testbed", "testbed total", "machine")
	for _, b := range budgets {
		capa := b.Capacity()
		pct := func(v float64) string {
			if capa <= 0 {
				return "-"
			}
			return fmt.Sprintf("%.1f (%3.0f%%)", v, 100*v/capa)
		}
		fmt.Fprintf(w, "%-6s %10d %5d %7.1fs %8.1fs %7.1f %10.1f %7.1f %7.1f %14s %14s\n",
			b.Client, b.Size, b.Count, b.Wall.Seconds(), capa, b.ClientCPU, b.ValidatorCPU, b.NodeCPU, b.TestbedCPU, pct(b.Run()), pct(b.Machine))
	}
}
