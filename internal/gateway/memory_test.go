package gateway_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/gateway"
	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/internal/testvec"
)

// keptBlobs is a fakeBlobs that keeps memory between stores, as an SDK's client keeps
// sliver buffers (gateway.Kept).
type keptBlobs struct {
	*fakeBlobs
	kept    atomic.Int64
	changed func()
}

func (k *keptBlobs) KeptBytes() int64 { return k.kept.Load() }

func (k *keptBlobs) OnKeptChange(f func()) { k.changed = f }

// setKept changes what the fake keeps, and announces it.
func (k *keptBlobs) setKept(n int64) {
	k.kept.Store(n)
	k.changed()
}

// heldLog records what a Handler reports to Config.OnHeldMemory.
type heldLog struct {
	mu          sync.Mutex
	last, most  int64
	reports     int
	concurrency atomic.Int32 // calls in progress, to catch unserialised reports
	overlapped  atomic.Bool
}

func (l *heldLog) report(n int64) {
	if l.concurrency.Add(1) > 1 {
		l.overlapped.Store(true)
	}
	defer l.concurrency.Add(-1)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.last, l.most = n, max(l.most, n)
	l.reports++
}

func (l *heldLog) get() (last, most int64, reports int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last, l.most, l.reports
}

// The memory a publisher reports as held: nothing but what Blobs keeps at first; a
// running store's StoreMemory (its body included); once its uploads have ended, the
// kept body buffer and what Blobs keeps, and nothing of the store.
func TestHeldMemoryOfStores(t *testing.T) {
	k := &keptBlobs{fakeBlobs: newFake()}
	k.kept.Store(1000)
	var log heldLog
	h := newHandler(t, k, func(c *gateway.Config) { c.OnHeldMemory = log.report })
	if last, _, n := log.get(); n != 1 || last != 1000 {
		t.Fatalf("New reported %d times, last %d; want once, what Blobs keeps (1000)", n, last)
	}
	const size = 100 << 10
	body := make([]byte, size)
	k.block, k.entered = make(chan struct{}), make(chan struct{})
	done := make(chan int)
	go func() { done <- do(h, http.MethodPut, "/v1/blobs?epochs=1", body).Code }()
	<-k.entered
	if last, _, _ := log.get(); last < gateway.StoreMemory(size)+1000 {
		t.Errorf("during a store of %d bytes: held %d, want at least its StoreMemory %d and what Blobs keeps", size, last, gateway.StoreMemory(size))
	}
	// The store's encode takes what Blobs kept: announced, it is no longer counted.
	k.setKept(0)
	if last, _, _ := log.get(); last != gateway.StoreMemory(size) {
		t.Errorf("during a store of %d bytes that took what Blobs kept: held %d, want its StoreMemory %d", size, last, gateway.StoreMemory(size))
	}
	close(k.block)
	if code := <-done; code != 200 {
		t.Fatalf("store: %d", code)
	}
	// The uploads have ended (the fake has none): the body's buffer is kept, exactly its
	// size, and the client kept more meanwhile.
	k.setKept(5000)
	k.block, k.entered = nil, nil
	testvec.WaitFor(t, time.Minute, "the store's memory to be given back", func() (bool, error) {
		last, _, _ := log.get()
		return last == size+5000, nil
	})
	// A second store of the same size takes the kept body buffer: while it reads its body
	// the buffer counts once.
	if code := do(h, http.MethodPut, "/v1/blobs?epochs=1", body).Code; code != 200 {
		t.Fatalf("second store: %d", code)
	}
	testvec.WaitFor(t, time.Minute, "the second store's memory to be given back", func() (bool, error) {
		last, _, _ := log.get()
		return last == size+5000, nil
	})
	if _, most, _ := log.get(); most > gateway.StoreMemory(size)+2*size+5000 {
		t.Errorf("held at most %d, want at most the store's %d, its body and what Blobs keeps", most, gateway.StoreMemory(size))
	}
	if log.overlapped.Load() {
		t.Error("OnHeldMemory was called concurrently")
	}
}

// Reads count the read buffer they reserve, until they end.
func TestHeldMemoryOfReads(t *testing.T) {
	f := newFake()
	var log heldLog
	h := newHandler(t, f, func(c *gateway.Config) { c.OnHeldMemory = log.report; c.ReadWindow = 8 })
	data := []byte(strings.Repeat("0123456789", 10))
	w := do(h, http.MethodPut, "/v1/blobs?epochs=1", data)
	if w.Code != 200 {
		t.Fatalf("store: %d", w.Code)
	}
	testvec.WaitFor(t, time.Minute, "the store's memory to be given back", func() (bool, error) {
		last, _, _ := log.get()
		return last == int64(len(data)), nil // the kept body buffer
	})
	f.gate, f.gateEntered = make(chan struct{}), make(chan struct{})
	id := blobIDOf(t, w)
	done := make(chan int)
	go func() { done <- do(h, http.MethodGet, "/v1/blobs/"+id, nil).Code }()
	<-f.gateEntered
	if last, _, _ := log.get(); last <= int64(len(data)) {
		t.Errorf("during a read: held %d, want the read's window on top of the kept body's %d", last, len(data))
	}
	close(f.gate)
	go func() {
		for range f.gateEntered { // the later fetches pass the open gate
		}
	}()
	defer close(f.gateEntered)
	if code := <-done; code != 200 {
		t.Fatalf("read: %d", code)
	}
	if last, _, _ := log.get(); last != int64(len(data)) {
		t.Errorf("after the read: held %d, want the kept body's %d", last, len(data))
	}
}

// The attack: a client declares a large body (within the limit) and sends a little of
// it, slowly, on many connections. The publisher's buffer follows what arrived, at most
// four times it (or the first 64 KiB), not what was declared: 100 KiB sent of 256 MiB
// declared hold 256 KiB, where allocating the declared length would take 256 MiB per
// connection.
func TestDeclaredBodyAllocatesAsItArrives(t *testing.T) {
	var log heldLog
	h := newHandler(t, newFake(), func(c *gateway.Config) {
		c.OnHeldMemory = log.report
		c.MaxBodySize = 512 << 20
		c.BodyGrace = time.Hour // the stalled bodies stay in their handlers for the test
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	const conns, sent, declared = 4, 100 << 10, 256 << 20
	for range conns {
		c, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		req := fmt.Sprintf("PUT /v1/blobs?epochs=1 HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", declared)
		if _, err := io.WriteString(c, req+strings.Repeat("x", sent)); err != nil {
			t.Fatal(err)
		}
	}
	// Each buffer grows past its first 64 KiB once that is full.
	testvec.WaitFor(t, time.Minute, "the bodies' buffers to grow", func() (bool, error) {
		last, _, _ := log.get()
		return last > conns*64<<10, nil
	})
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if _, most, _ := log.get(); most > conns*4*sent {
		t.Errorf("%d connections that sent %d of %d declared bytes hold %d bytes, want at most 4 times what they sent", conns, sent, declared, most)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc >= declared/4 {
		t.Errorf("%d connections that sent %d of %d declared bytes made the process allocate %d bytes", conns, sent, declared, alloc)
	}
}

// blobIDOf returns the blob ID of a store's answer.
func blobIDOf(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var res client.StoreResult
	if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil || res.NewlyCreated == nil {
		t.Fatalf("store answer %s: %v", w.Body, err)
	}
	return res.NewlyCreated.BlobObject.BlobID
}

// Over a real network and client: once a store's uploads, tails included, have ended, the
// memory reported held is exactly the kept body buffer and the sliver buffers the client
// kept (which the store's encode then takes again), never the store's leftovers.
func TestHeldMemoryNetwork(t *testing.T) {
	net := testnet.New(t, testnet.Options{})
	c, err := net.NewClient(net.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	var log heldLog
	h := newHandler(t, gateway.SDK{Client: c}, func(cfg *gateway.Config) {
		cfg.MaxBodySize = 8 << 20
		cfg.OnHeldMemory = log.report
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	const size = 1 << 20
	for i := range 3 {
		data := make([]byte, size)
		data[0] = byte(i)
		req, err := http.NewRequest(http.MethodPut, srv.URL+"/v1/blobs?epochs=1", bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("store %d: %d", i, resp.StatusCode)
		}
		testvec.WaitFor(t, time.Minute, "the store's uploads to end", func() (bool, error) {
			kept := c.KeptBytes()
			last, _, _ := log.get()
			return kept > 0 && last == size+kept, nil
		})
		if _, most, _ := log.get(); most < gateway.StoreMemory(size) {
			t.Fatalf("store %d: held at most %d, want at least its StoreMemory %d", i, most, gateway.StoreMemory(size))
		}
	}
}
