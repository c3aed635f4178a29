package resilience

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// row is one scenario's line of the report.
type row struct {
	name    string
	written int // blobs certified during the scenario
	reads   int // reads of certified blobs attempted (each compared byte for byte)
	failed  int // reads that failed or returned other bytes
	// recovered and downloaded are the sliver bytes the scenario's recovering node rebuilt
	// and the bytes it downloaded for that (metadata, symbols and proofs).
	recovered, downloaded int64
	took                  time.Duration
	note                  string
}

// report collects the rows of a run.
type report struct {
	mu   sync.Mutex
	rows []*row
}

func (r *report) add(x *row) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rows = append(r.rows, x)
}

// write prints the report as a Markdown table.
func (r *report) write(w io.Writer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintln(w, "| scenario | blobs written | reads | failed reads | bytes recovered | bytes downloaded | time | what happened |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
	var tw, tr, tf int
	var total time.Duration
	for _, x := range r.rows {
		rec, down := "–", "–"
		if x.recovered > 0 || x.downloaded > 0 {
			rec, down = thousands(x.recovered), thousands(x.downloaded)
		}
		fmt.Fprintf(w, "| %s | %d | %d | %d | %s | %s | %.1f s | %s |\n", x.name, x.written, x.reads, x.failed, rec, down,
			x.took.Seconds(), strings.ReplaceAll(x.note, "|", "/"))
		tw, tr, tf, total = tw+x.written, tr+x.reads, tf+x.failed, total+x.took
	}
	fmt.Fprintf(w, "| **total** | %d | %d | %d | | | %.1f s | |\n", tw, tr, tf, total.Seconds())
}

// save writes the report to the file named by $WALRUS_RESILIENCE_REPORT, if set.
func (r *report) save() error {
	path := os.Getenv("WALRUS_RESILIENCE_REPORT")
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	r.write(f)
	return f.Close()
}

// thousands formats n with thousands separators.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
