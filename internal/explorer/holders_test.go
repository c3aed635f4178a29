package explorer

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/walrus-go/walrus/internal/chain"
)

// flakyChain fails the object lookups of chosen IDs until told otherwise.
type flakyChain struct {
	*fakeChain
	mu   sync.Mutex
	fail map[chain.ObjectID]bool
	n    int // lookups made
}

var errFlaky = errors.New("flaky: connection reset")

func (f *flakyChain) Object(ctx context.Context, id chain.ObjectID) (chain.Object, error) {
	f.mu.Lock()
	f.n++
	bad := f.fail[id]
	f.mu.Unlock()
	if bad {
		return nil, errFlaky
	}
	return f.fakeChain.Object(ctx, id)
}

func addr(b byte) chain.Address {
	var a chain.Address
	a[0] = b
	return a
}

// deleteBlob deletes blob i as the chain would: the object goes, BlobDeleted is emitted.
func (f *fakeChain) deleteBlob(i int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.objects[oid(0xB0, i)].(*chain.Blob)
	delete(f.objects, b.ID)
	f.emit(&chain.BlobDeleted{Epoch: f.sys.Epoch, BlobID: b.BlobID, ObjectID: b.ID, EndEpoch: b.EndEpoch(), WasCertified: b.Certified})
}

func newHolderNet(t *testing.T) (*flakyChain, *Explorer, *prometheus.Registry) {
	t.Helper()
	fc := &flakyChain{fakeChain: newFakeChain(1, 4), fail: map[chain.ObjectID]bool{}}
	reg := prometheus.NewRegistry()
	x, err := New(context.Background(), Config{Chain: fc, Registerer: reg,
		Dial: func(string, [chain.NetworkKeySize]byte, int) (Node, error) { return &fakeNode{}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	return fc, x, reg
}

func overviewOf(t *testing.T, x *Explorer) Overview {
	t.Helper()
	ov, err := x.Overview(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ov
}

func TestLargestHoldersEmpty(t *testing.T) {
	_, x, _ := newHolderNet(t)
	x.Collect(context.Background())
	ov := overviewOf(t, x)
	if ov.LargestHolders == nil || len(ov.LargestHolders) != 0 || ov.Holders != 0 {
		t.Fatalf("no blobs: holders %d %#v (want an empty, non-nil list)", ov.Holders, ov.LargestHolders)
	}
}

// TestLargestHolders: the top ten by bytes, ties broken by blobs then address; deletions,
// expiry, shared blobs and failed lookups.
func TestLargestHolders(t *testing.T) {
	fc, x, reg := newHolderNet(t)
	ctx := context.Background()
	// 12 holders: holder k (1..12) owns one blob of 100*k bytes; holders 13 and 14 tie with
	// holder 12 on bytes (1200), 13 with two blobs, 14 with one but a larger address.
	i := 0
	for k := 1; k <= 12; k++ {
		fc.addBlob(i, addr(byte(k)), uint64(100*k), 10, true)
		i++
	}
	fc.addBlob(i, addr(13), 600, 10, true)
	fc.addBlob(i+1, addr(13), 600, 10, false)
	fc.addBlob(i+2, addr(0xF0), 1200, 10, true)
	i += 3
	x.Collect(ctx)
	ov := overviewOf(t, x)
	var got []string
	for _, h := range ov.LargestHolders {
		got = append(got, h.Address[:4])
	}
	// 13 (1200 bytes, 2 blobs), then 12 (0x0c) and 0xF0 (1200 bytes, 1 blob) by address, then 11..5
	want := "0x0d 0x0c 0xf0 0x0b 0x0a 0x09 0x08 0x07 0x06 0x05"
	if strings.Join(got, " ") != want || ov.Holders != 14 {
		t.Fatalf("holders %d, top %v, want %s", ov.Holders, got, want)
	}
	if h := ov.LargestHolders[0]; h.Blobs != 2 || h.Bytes != 1200 || h.Share != 1200.0/float64(ov.Stored.Bytes) {
		t.Fatalf("largest %+v (stored %d)", h, ov.Stored.Bytes)
	}
	if v := gathered(reg, "walrus_network_holder_bytes", ov.LargestHolders[0].Address); v != 1200 {
		t.Fatalf("prometheus holder bytes %v", v)
	}
	lookups := fc.n

	// Holder 13 deletes one blob; holder 12's blob is deleted before a round and its owner
	// is never looked up; a blob registered and deleted between rounds is never counted.
	fc.deleteBlob(12)
	fc.addBlob(i, addr(0xAA), 5000, 10, true)
	fc.deleteBlob(i)
	i++
	x.Collect(ctx)
	ov = overviewOf(t, x)
	if fc.n != lookups {
		t.Fatalf("%d lookups for a blob deleted before its round (and none else new)", fc.n-lookups)
	}
	if got := ov.LargestHolders[0]; got.Address[:4] != "0x0c" || ov.Holders != 14 {
		t.Fatalf("after deletion: top %+v, %d holders", got, ov.Holders)
	}
	for _, h := range ov.LargestHolders {
		if h.Address[:4] == "0x0d" && (h.Blobs != 1 || h.Bytes != 600) {
			t.Fatalf("holder 13 after deleting one blob: %+v", h)
		}
		if h.Address[:4] == "0xaa" {
			t.Fatalf("a deleted blob counted: %+v", h)
		}
	}

	// A failed lookup is retried next round; a shared blob (no owner) is counted for nobody.
	b := fc.addBlob(i, addr(0xBB), 9000, 3, true)
	fc.fail[b.ID] = true
	s := fc.addBlob(i+1, addr(0xCC), 8000, 10, true)
	fc.mu.Lock()
	s.Shared, s.Owner = true, chain.Address{}
	fc.mu.Unlock()
	x.Collect(ctx)
	ov = overviewOf(t, x)
	if ov.LargestHolders[0].Address[:4] == "0xbb" || ov.Holders != 14 {
		t.Fatalf("failed lookup counted: %+v, %d holders", ov.LargestHolders[0], ov.Holders)
	}
	fc.mu.Lock()
	fc.fail[b.ID] = false
	fc.mu.Unlock()
	x.Collect(ctx)
	ov = overviewOf(t, x)
	if top := ov.LargestHolders[0]; top.Address[:4] != "0xbb" || top.Bytes != 9000 || ov.Holders != 15 {
		t.Fatalf("after retry: top %+v, %d holders", top, ov.Holders)
	}

	// Expiry: the blob of 0xBB ends at epoch 3.
	fc.committee[1], fc.committee[3] = fc.committee[0], fc.committee[0]
	fc.setEpoch(1)
	fc.setEpoch(3)
	x.Collect(ctx)
	ov = overviewOf(t, x)
	if top := ov.LargestHolders[0]; top.Address[:4] == "0xbb" || ov.Holders != 14 {
		t.Fatalf("after expiry: top %+v, %d holders", top, ov.Holders)
	}
}

// gathered returns the value of a gathered gauge with the given label (-1 if none).
func gathered(reg *prometheus.Registry, name, label string) float64 {
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.Metric {
			if m.Label[0].GetValue() == label {
				return m.Gauge.GetValue()
			}
		}
	}
	return -1
}
