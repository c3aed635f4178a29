package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/gateway"
	"github.com/walrus-go/walrus/internal/nodetls"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/testnet"
)

// TestReadCorruptSliverMidStream reads a blob of many rows through the aggregator, which
// sends each row as soon as it is verified while it fetches the next ones, with a node
// lying about a row in the middle (past the first window, so after the status line is
// out). The lie is caught: the row is rebuilt from recovery symbols and the body is the
// blob. When the row cannot be rebuilt either (the symbols are corrupted too, and the
// blob is larger than the read window, so it is not read whole), the body is cut short:
// the client gets a transfer error after exactly the rows before the bad one, never a
// byte of it, and never a complete-looking body.
func TestReadCorruptSliverMidStream(t *testing.T) {
	net := testnet.New(t, testnet.Options{})
	lying := testnet.NewLyingNodes(nodetls.NewTransport(nil))
	cfg := net.ClientConfig()
	cfg.HTTPClient = &http.Client{Transport: lying}
	c, err := net.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := redstuff.NewConfig(int(net.Genesis.Params.NShards))
	if err != nil {
		t.Fatal(err)
	}
	const size = 900_000
	sym, _ := enc.SymbolSize(size)
	rowLen := enc.SourceSymbols(redstuff.Secondary) * sym
	rows := (size + rowLen - 1) / rowLen
	// A window of three rows: the blob (about 30 rows) is never held whole.
	h := newHandler(t, gateway.SDK{Client: c}, func(cfg *gateway.Config) {
		cfg.MaxBodySize, cfg.ReadWindow = 4<<20, int64(3*rowLen)
	})
	srv := httptest.NewServer(h)
	defer srv.Close()

	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i*7 + i>>11)
	}
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/v1/blobs?epochs=2", bytes.NewReader(data))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var res client.StoreResult
	derr := json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	if resp.StatusCode != 200 || derr != nil || res.NewlyCreated == nil {
		t.Fatalf("PUT: %d, %v", resp.StatusCode, derr)
	}
	c.WaitTail()
	id := res.NewlyCreated.BlobObject.BlobID
	get := func(hdr ...string) (*http.Response, []byte, error) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/blobs/"+id, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, b, err
	}

	resp, got, err := get()
	if err != nil || resp.StatusCode != 200 || !bytes.Equal(got, data) {
		t.Fatalf("GET: %d, %v, %d bytes", resp.StatusCode, err, len(got))
	}
	badRow := rows / 2
	lying.Set(badRow, false)
	resp, got, err = get()
	if err != nil || resp.StatusCode != 200 || !bytes.Equal(got, data) || lying.Lies() == 0 {
		t.Fatalf("GET with row %d of %d corrupted: %d, %v, %d bytes, equal %v, %d lies", badRow, rows, resp.StatusCode, err, len(got), bytes.Equal(got, data), lying.Lies())
	}
	// A range across the bad row, too.
	lo, hi := (badRow-1)*rowLen+5, (badRow+1)*rowLen+5
	resp, got, err = get("Range", fmt.Sprintf("bytes=%d-%d", lo, hi-1))
	if err != nil || resp.StatusCode != 206 || !bytes.Equal(got, data[lo:hi]) {
		t.Fatalf("range across row %d corrupted: %d, %v, %d bytes", badRow, resp.StatusCode, err, len(got))
	}

	lying.Set(badRow, true)
	resp, got, err = get()
	if err == nil || resp.StatusCode != 200 || resp.ContentLength != size {
		t.Fatalf("GET with row %d unrecoverable: %d, Content-Length %d, %v; want 200 and a cut body", badRow, resp.StatusCode, resp.ContentLength, err)
	}
	if len(got) > badRow*rowLen || !bytes.Equal(got, data[:len(got)]) {
		t.Fatalf("GET with row %d unrecoverable: %d bytes arrived (rows before it: %d bytes), a prefix of the blob: %v", badRow, len(got), badRow*rowLen, bytes.Equal(got, data[:len(got)]))
	}
}
