package cli

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// benchRow is one line of bench's output.
type benchRow struct {
	Op          string  `json:"op"`
	Size        int     `json:"size"`
	Count       int     `json:"count"`
	P50Ms       float64 `json:"p50Ms"`
	P90Ms       float64 `json:"p90Ms"`
	MBps        float64 `json:"mbPerSecond"`
	RequestsPer float64 `json:"httpRequestsPerOp"`
	// Phases are the medians of a store's phases (client.StoreStats), in milliseconds:
	// where a write's time goes. Stores only.
	Phases *benchPhases `json:"phasesP50Ms,omitempty"`
	// StartUnixMs and EndUnixMs bound the row's operations in wall-clock time (Unix
	// milliseconds): a store row's from the first store's start to the last store's tail
	// uploads, for matching the CPU that processes used against them.
	StartUnixMs int64 `json:"startUnixMs"`
	EndUnixMs   int64 `json:"endUnixMs"`
}

// benchPhases are the median durations of a store's phases, in milliseconds. With pending
// uploads, upload starts with register and overlaps it.
type benchPhases struct {
	Encode   float64 `json:"encode"`
	Check    float64 `json:"check"`
	Register float64 `json:"register"`
	Upload   float64 `json:"upload"`
	Certify  float64 `json:"certify"`
}

// median returns the median of ds in milliseconds.
func median(ds []time.Duration) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return float64(s[(len(s)-1)/2].Microseconds()) / 1000
}

// countingRoundTripper counts requests to storage nodes, tail uploads included.
type countingRoundTripper struct {
	n    atomic.Int64
	base http.RoundTripper
}

func (t *countingRoundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.base.RoundTrip(r)
}

func benchCommand(ce *clientEnv) *cobra.Command {
	var sizes string
	var count int
	var epochs uint32
	var noPending bool
	var cpuProfile string
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure store and read latency and throughput against the configured network",
		Long: "Store --count new random blobs of each size (waiting for each store's tail uploads before\n" +
			"the next), then read the last one --count times. Prints p50/p90 latency, throughput (MB/s of\n" +
			"blob data, 10^6 bytes) and HTTP requests to storage nodes per operation. Stores cost WAL.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var sz []int
			for _, s := range strings.Split(sizes, ",") {
				n, err := parseSize(s)
				if err != nil {
					return usageError{fmt.Errorf("--sizes: %w", err)}
				}
				sz = append(sz, n)
			}
			if count <= 0 || epochs == 0 {
				return usageError{fmt.Errorf("--count and --epochs must be positive")}
			}
			ce.noPendingUploads = noPending
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return fmt.Errorf("--cpuprofile: %w", unwrapPathError(err))
				}
				if err := pprof.StartCPUProfile(f); err != nil {
					f.Close()
					return fmt.Errorf("--cpuprofile: %w", err)
				}
				defer func() {
					pprof.StopCPUProfile()
					f.Close()
				}()
			}
			return runBench(ce, sz, count, epochs)
		},
	}
	cmd.Flags().StringVar(&sizes, "sizes", "1KiB,1MiB,64MiB", "comma-separated blob sizes (B, KiB, MiB)")
	cmd.Flags().IntVar(&count, "count", 5, "operations per size and kind")
	cmd.Flags().Uint32Var(&epochs, "epochs", 1, "epochs to store the blobs for")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run (runtime/pprof) to this file")
	cmd.Flags().BoolVar(&noPending, "no-pending-uploads", false, "upload slivers only after the registration landed (no pending uploads), to compare")
	return cmd
}

// parseSize parses "123", "4KiB", "64MiB".
func parseSize(s string) (int, error) {
	s = strings.TrimSpace(s)
	mul := 1
	for _, u := range []struct {
		suffix string
		mul    int
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mul = strings.TrimSuffix(s, u.suffix), u.mul
			break
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mul, nil
}

func runBench(ce *clientEnv, sizes []int, count int, epochs uint32) error {
	ct := &countingRoundTripper{base: nodetls.NewTransport(&http.Transport{MaxIdleConnsPerHost: 64})}
	ce.httpClient = &http.Client{Transport: ct}
	s, err := ce.connect(ce.ctx, true)
	if err != nil {
		return err
	}
	defer s.close()
	var rows []benchRow
	row := func(op string, size int, lat []time.Duration, reqs int64) benchRow {
		sorted := slices.Clone(lat)
		slices.Sort(sorted)
		var total time.Duration
		for _, d := range lat {
			total += d
		}
		r := benchRow{Op: op, Size: size, Count: len(lat),
			P50Ms: float64(sorted[(len(sorted)-1)/2].Microseconds()) / 1000, P90Ms: float64(sorted[int(float64(len(sorted)-1)*0.9)].Microseconds()) / 1000,
			RequestsPer: float64(reqs) / float64(len(lat))}
		if total > 0 {
			r.MBps = float64(size) * float64(len(lat)) / total.Seconds() / 1e6
		}
		return r
	}
	for _, size := range sizes {
		data := make([]byte, size)
		rand.Read(data)
		var lat []time.Duration
		var reqs int64
		var last redstuff.BlobID
		var phases [5][]time.Duration
		var first time.Time
		for i := range count {
			if size >= 8 {
				binary.LittleEndian.PutUint64(data, uint64(time.Now().UnixNano())+uint64(i))
			}
			before := ct.n.Load()
			start := time.Now()
			if i == 0 {
				first = start
			}
			res, err := s.client.Store(ce.ctx, data, client.StoreOptions{Epochs: epochs, Force: size < 8})
			lat = append(lat, time.Since(start))
			if err != nil {
				return explain(err, s)
			}
			s.client.WaitTail()
			reqs += ct.n.Load() - before
			st := res.Stats
			for k, d := range []time.Duration{st.Encode, st.Check, st.Register, st.Upload, st.Certify} {
				phases[k] = append(phases[k], d)
			}
			if last, err = redstuff.ParseBlobID(res.BlobID()); err != nil {
				return err
			}
		}
		r := row("store", size, lat, reqs)
		r.StartUnixMs, r.EndUnixMs = first.UnixMilli(), time.Now().UnixMilli()
		r.Phases = &benchPhases{Encode: median(phases[0]), Check: median(phases[1]), Register: median(phases[2]),
			Upload: median(phases[3]), Certify: median(phases[4])}
		rows = append(rows, r)
		lat, reqs = nil, 0
		for i := range count {
			before := ct.n.Load()
			start := time.Now()
			if i == 0 {
				first = start
			}
			got, err := s.client.Read(ce.ctx, last, client.ReadOptions{})
			lat = append(lat, time.Since(start))
			if err != nil {
				return explain(err, s)
			}
			if len(got) != size {
				return fmt.Errorf("read %d bytes of a %d-byte blob", len(got), size)
			}
			reqs += ct.n.Load() - before
		}
		r = row("read", size, lat, reqs)
		r.StartUnixMs, r.EndUnixMs = first.UnixMilli(), time.Now().UnixMilli()
		rows = append(rows, r)
	}
	if ce.json {
		return ce.printJSON(rows)
	}
	tw := tabwriter.NewWriter(ce.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "op\tsize\tcount\tp50 ms\tp90 ms\tMB/s\tHTTP requests/op\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t\n", r.Op, humanBytes(uint64(r.Size)), r.Count, r.P50Ms, r.P90Ms, r.MBps, r.RequestsPer)
	}
	return tw.Flush()
}
