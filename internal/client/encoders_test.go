package client

import (
	"bytes"
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/redstuff"
)

// The pool keeps one Encoder per shard count with the last recycled buffers, encodes into
// them, and drops everything once idle for spareIdle (and not before), or on close.
func TestEncoderPool(t *testing.T) {
	enc, err := redstuff.NewConfig(10)
	if err != nil {
		t.Fatal(err)
	}
	blob := func(seed uint64) []byte {
		r := rand.New(rand.NewPCG(seed, 1))
		b := make([]byte, 20000)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	var p encoderPool
	defer p.close()
	a, err := p.encode(enc, blob(1))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.kept(); len(got) != 1 || got[10] != 0 {
		t.Fatalf("after an encode the pool keeps %v, want an Encoder without buffers", got)
	}
	first := &a.Pairs[9].Secondary.Data[0]
	p.recycle(enc, a)
	if got := p.kept(); got[10] == 0 {
		t.Fatalf("after a recycle the pool keeps %v, want buffers for 10 shards", got)
	}
	data := blob(2)
	b, err := p.encode(enc, data)
	if err != nil {
		t.Fatal(err)
	}
	if &b.Pairs[9].Secondary.Data[0] != first {
		t.Fatal("the encode after a recycle did not use the recycled buffers")
	}
	want, err := enc.NewEncoder().Encode(data)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b.Pairs {
		if !bytes.Equal(b.Pairs[i].Primary.Data, want.Pairs[i].Primary.Data) || !bytes.Equal(b.Pairs[i].Secondary.Data, want.Pairs[i].Secondary.Data) {
			t.Fatalf("pair %d encoded into recycled buffers differs from a fresh encoding", i)
		}
	}
	p.recycle(enc, b)
	p.mu.Lock()
	used := p.used
	p.mu.Unlock()
	p.trim(used.Add(spareIdle - time.Second))
	if got := p.kept(); got[10] == 0 {
		t.Fatalf("trimmed before being idle for %v: keeps %v", spareIdle, got)
	}
	p.trim(used.Add(spareIdle))
	if got := p.kept(); len(got) != 0 {
		t.Fatalf("idle for %v, the pool still keeps %v", spareIdle, got)
	}
	// Used again after a trim: kept again, until close.
	c, err := p.encode(enc, blob(3))
	if err != nil {
		t.Fatal(err)
	}
	p.recycle(enc, c)
	p.close()
	if got := p.kept(); len(got) != 0 {
		t.Fatalf("after close the pool keeps %v", got)
	}
	d, err := p.encode(enc, blob(4))
	if err != nil {
		t.Fatal(err)
	}
	p.recycle(enc, d)
	if got := p.kept(); len(got) != 0 {
		t.Fatalf("a closed pool keeps %v", got)
	}
}

// The hold on a store's encoding ends when the store and every upload counted under its
// context have ended, in any order, and only then.
func TestEncodingHold(t *testing.T) {
	released := 0
	h := &encodingHold{release: func() { released++ }}
	h.Add(1) // the store
	h.Add(1) // an upload
	h.Add(1) // another
	h.Done() // the store returns
	h.Done()
	if released != 0 {
		t.Fatal("released with an upload still counted")
	}
	h.Done()
	if released != 1 {
		t.Fatalf("released %d times after the last upload, want once", released)
	}
	defer func() {
		if recover() == nil {
			t.Error("Done below zero did not panic")
		}
	}()
	h.Done()
}

// orderCounter records the order in which uploadGroups end it.
type orderCounter struct {
	name  string
	order *[]string
}

func (o orderCounter) Add(int) {}
func (o orderCounter) Done()   { *o.order = append(*o.order, o.name) }

// An upload ends its counters innermost first: a store's hold on its encoding (added by
// the store, inside the caller's WithUploadGroup) ends before the caller's group, so a
// caller woken by its group finds the encoding already recycled (KeptBytes counts it, and
// a process that accounts its memory from it never sees the buffers uncounted while they
// are still live).
func TestUploadGroupsEndInnermostFirst(t *testing.T) {
	var order []string
	ctx := withUploadCounter(context.Background(), orderCounter{"caller's group", &order})
	ctx = withUploadCounter(ctx, orderCounter{"encoding hold", &order})
	g := uploadGroup(ctx)
	g.Add(1)
	g.Done()
	if want := []string{"encoding hold", "caller's group"}; !slices.Equal(order, want) {
		t.Fatalf("ended %v, want %v", order, want)
	}
}

// KeptBytes counts the recycled buffers the idle Encoders hold.
func TestKeptBytes(t *testing.T) {
	var p encoderPool
	defer p.close()
	if n := p.keptBytes(); n != 0 {
		t.Fatalf("an empty pool keeps %d bytes", n)
	}
	for _, shards := range []int{10, 13} {
		enc, err := redstuff.NewConfig(shards)
		if err != nil {
			t.Fatal(err)
		}
		eb, err := p.encode(enc, make([]byte, 30000))
		if err != nil {
			t.Fatal(err)
		}
		p.recycle(enc, eb)
	}
	sum := int64(0)
	for _, n := range p.kept() {
		sum += int64(n)
	}
	if got := p.keptBytes(); got != sum || got == 0 {
		t.Fatalf("keptBytes %d, want the %d recycled bytes of %v", got, sum, p.kept())
	}
	// Every change is announced, after it is made: an encode that takes kept buffers, a
	// recycle, a trim.
	var seen []int64
	p.mu.Lock()
	p.onChange = func() { seen = append(seen, p.keptBytes()) }
	p.mu.Unlock()
	enc, err := redstuff.NewConfig(10)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := p.encode(enc, make([]byte, 30000))
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) == 0 || seen[0] >= sum {
		t.Fatalf("an encode that took kept buffers announced %v, want first less than %d", seen, sum)
	}
	p.recycle(enc, eb)
	if got := seen[len(seen)-1]; got != sum {
		t.Fatalf("a recycle announced %d kept, want %d", got, sum)
	}
	p.mu.Lock()
	used := p.used
	p.mu.Unlock()
	p.trim(used.Add(spareIdle))
	if got := seen[len(seen)-1]; got != 0 {
		t.Fatalf("a trim announced %d kept, want 0", got)
	}
}
