package client_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/testnet"
)

// corrupter is a transport to the storage nodes that, as a Byzantine node would, flips
// a byte in the middle of the answers for primary sliver row (pair row) and, when
// symbols is set, of every recovery symbol answer. Other requests pass unchanged.
type corrupter struct {
	base http.RoundTripper

	mu      sync.Mutex
	row     int // -1: none
	symbols bool
	hits    int // answers corrupted
}

var sliverPath = regexp.MustCompile(`/slivers/([0-9]+)/primary$`)

func (c *corrupter) set(row int, symbols bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.row, c.symbols, c.hits = row, symbols, 0
}

func (c *corrupter) corrupted() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits
}

func (c *corrupter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(r)
	if err != nil || resp.StatusCode != http.StatusOK || r.Method != http.MethodGet {
		return resp, err
	}
	c.mu.Lock()
	hit := c.symbols && strings.Contains(r.URL.Path, "/recovery")
	if m := sliverPath.FindStringSubmatch(r.URL.Path); m != nil {
		hit = hit || m[1] == strconv.Itoa(c.row)
	}
	if hit {
		c.hits++
	}
	c.mu.Unlock()
	if !hit {
		return resp, nil
	}
	symbolAnswer := strings.Contains(r.URL.Path, "/recovery")
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	// A sliver's answer gets one byte wrong, a symbol answer (many symbols) one in 61.
	if symbolAnswer {
		for i := 0; i < len(body); i += 61 {
			body[i] ^= 0x5a
		}
	} else if len(body) > 0 {
		body[len(body)/2] ^= 0x5a
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

func (c *corrupter) CloseIdleConnections() {
	if ci, ok := c.base.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// countingWriter records what it is given and in how many writes.
type countingWriter struct {
	bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

// TestBlobReaderWriteRange streams ranges of a blob with WriteRange: every range arrives
// whole and in order, one write per row, fetching each row once. Then a node lies about
// one row in the middle of the blob: the row is rebuilt from recovery symbols and the
// output is still the blob; when the recovery symbols are corrupted too, a reader that
// may read the blob whole does so, and one that may not stops with ErrUnavailable having
// written exactly the rows before the bad one, never a byte of it.
func TestBlobReaderWriteRange(t *testing.T) {
	net := testnet.New(t, testnet.Options{})
	bad := &corrupter{base: nodetls.NewTransport(nil), row: -1}
	cfg := net.ClientConfig()
	cfg.HTTPClient = &http.Client{Transport: bad}
	c, err := net.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	enc, err := redstuff.NewConfig(int(net.Genesis.Params.NShards))
	if err != nil {
		t.Fatal(err)
	}
	const size = 700_000
	data := randomBlob(size, 99)
	res := mustStore(t, c, data, client.StoreOptions{Epochs: 2})
	c.WaitTail()
	id, _ := redstuff.ParseBlobID(res.BlobID())
	sym, _ := enc.SymbolSize(size)
	rowLen := int64(enc.SourceSymbols(redstuff.Secondary) * sym)
	rows := (size + rowLen - 1) / rowLen
	if rows < 8 {
		t.Fatalf("the blob has %d rows; the test wants at least 8", rows)
	}

	for _, tc := range []struct{ off, n, window int64 }{
		{0, size, 1}, {0, size, 3 * rowLen}, {0, size, 1 << 30}, {rowLen - 5, 10, rowLen},
		{rowLen + 7, 4*rowLen - 3, 2 * rowLen}, {size - 1, 100, rowLen}, {size, 5, rowLen},
	} {
		br, err := c.OpenBlob(ctx, id, client.ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var w countingWriter
		got, err := br.WriteRange(&w, tc.off, tc.n, tc.window)
		end := min(tc.off+tc.n, size)
		want := data[min(tc.off, size):end]
		if err != nil || got != int64(len(want)) || !bytes.Equal(w.Bytes(), want) {
			t.Fatalf("WriteRange(%d, %d, window %d) = %d, %v; the bytes match: %v", tc.off, tc.n, tc.window, got, err, bytes.Equal(w.Bytes(), want))
		}
		spanned := int64(0)
		if len(want) > 0 {
			spanned = (end-1)/rowLen - tc.off/rowLen + 1
		}
		if st := br.Stats(); st.Slivers != spanned || int64(w.writes) != spanned || st.FellBack || st.Recovered != 0 {
			t.Fatalf("WriteRange(%d, %d): %d slivers in %d writes for %d rows, stats %+v", tc.off, tc.n, st.Slivers, w.writes, spanned, st)
		}
		br.Close()
		if _, err := br.WriteRange(&w, 0, 1, rowLen); !errors.Is(err, client.ErrReaderClosed) {
			t.Fatalf("WriteRange after Close: %v", err)
		}
	}

	// One row in the middle is corrupted by its node: rebuilt, the output is the blob.
	badRow := rows / 2
	bad.set(int(badRow), false)
	br, err := c.OpenBlob(ctx, id, client.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var w countingWriter
	if got, err := br.WriteRange(&w, 0, size, 3*rowLen); err != nil || got != size || !bytes.Equal(w.Bytes(), data) {
		t.Fatalf("WriteRange with row %d corrupted: %d, %v", badRow, got, err)
	}
	if st := br.Stats(); st.Recovered != 1 || st.FellBack || bad.corrupted() == 0 {
		t.Fatalf("with row %d corrupted: %+v, %d answers corrupted; want the row rebuilt", badRow, st, bad.corrupted())
	}

	// The recovery symbols are corrupted too: a reader allowed to read the blob whole
	// does so and the output is still the blob.
	bad.set(int(badRow), true)
	br, err = c.OpenBlob(ctx, id, client.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w.Reset()
	if got, err := br.WriteRange(&w, 0, size, 3*rowLen); err != nil || got != size || !bytes.Equal(w.Bytes(), data) {
		t.Fatalf("WriteRange with row %d and the symbols corrupted: %d, %v", badRow, got, err)
	}
	if !br.Stats().FellBack {
		t.Fatalf("with row %d and the symbols corrupted the reader did not fall back: %+v", badRow, br.Stats())
	}
	// One that may not stops before the bad row, with exactly the rows before it out.
	br, err = c.OpenBlob(ctx, id, client.ReadOptions{MaxWholeRead: 2 * rowLen})
	if err != nil {
		t.Fatal(err)
	}
	w.Reset()
	got, err := br.WriteRange(&w, 0, size, 3*rowLen)
	if !errors.Is(err, client.ErrUnavailable) || got != badRow*rowLen || !bytes.Equal(w.Bytes(), data[:badRow*rowLen]) {
		t.Fatalf("WriteRange with row %d unrecoverable: %d bytes (want %d), %v", badRow, got, badRow*rowLen, err)
	}
	br.Close()

	// FileReader.WriteTo streams the same way.
	bad.set(-1, false)
	f, err := c.OpenFile(ctx, id, client.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w.Reset()
	if got, err := f.WriteTo(&w); err != nil || got != size || !bytes.Equal(w.Bytes(), data) {
		t.Fatalf("FileReader.WriteTo: %d, %v", got, err)
	}
	f.Close()
}
