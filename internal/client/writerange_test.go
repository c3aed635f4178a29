package client_test

import (
	"bytes"
	"errors"
	"net/http"
	"testing"

	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/testnet"
)

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
	bad := testnet.NewLyingNodes(nodetls.NewTransport(nil))
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
	bad.Set(int(badRow), false)
	br, err := c.OpenBlob(ctx, id, client.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var w countingWriter
	if got, err := br.WriteRange(&w, 0, size, 3*rowLen); err != nil || got != size || !bytes.Equal(w.Bytes(), data) {
		t.Fatalf("WriteRange with row %d corrupted: %d, %v", badRow, got, err)
	}
	if st := br.Stats(); st.Recovered != 1 || st.FellBack || bad.Lies() == 0 {
		t.Fatalf("with row %d corrupted: %+v, %d answers corrupted; want the row rebuilt", badRow, st, bad.Lies())
	}

	// The recovery symbols are corrupted too: a reader allowed to read the blob whole
	// does so and the output is still the blob.
	bad.Set(int(badRow), true)
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
	bad.Set(-1, false)
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
