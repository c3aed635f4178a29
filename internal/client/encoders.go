package client

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/walrus-go/walrus/internal/redstuff"
)

// spareIdle is how long a Client keeps its idle Encoder of a shard count, with the sliver
// buffers recycled into it, once no store has encoded or given back an encoding.
const spareIdle = 30 * time.Second

// encoderPool keeps, per shard count, one idle redstuff.Encoder and, recycled into it, the
// sliver buffers of at most one finished encoding, so that a store whose blob is about as
// large as an earlier one's encodes into the earlier store's buffers instead of fresh
// memory. A store takes the idle Encoder for its encode (or makes a new one while another
// store holds it), so an Encoder is used by one goroutine at a time.
//
// What is kept is bounded: one buffer set per shard count (about 3.5 times the largest
// blob stored recently: n(R+C) symbols less the systematic ones, which alias the blob),
// which an encode takes only if it needs at least half of it (a small blob's slivers do
// not pin a large set), and everything is dropped once unused for spareIdle, and by Close.
type encoderPool struct {
	mu     sync.Mutex
	idle   map[int]*redstuff.Encoder // by shard count
	used   time.Time                 // last take, put or recycle
	timer  *time.Timer               // trims after spareIdle; nil while nothing is kept
	closed bool
	// onChange, if set, is called after every change of the recycled bytes kept, without
	// p.mu held.
	onChange func()
}

// changed calls p.onChange; p.mu must not be held.
func (p *encoderPool) changed() {
	p.mu.Lock()
	f := p.onChange
	p.mu.Unlock()
	if f != nil {
		f()
	}
}

// encode encodes data with the idle Encoder of enc's shard count, using the buffers
// recycled into it if they fit.
func (p *encoderPool) encode(enc *redstuff.Config, data []byte) (*redstuff.EncodedBlob, error) {
	n := enc.NShards()
	p.mu.Lock()
	pe := p.idle[n]
	delete(p.idle, n)
	p.touch()
	p.mu.Unlock()
	if pe == nil {
		pe = enc.NewEncoder()
	} else if pe.RecycledBytes() > 0 {
		p.changed()
	}
	eb, err := pe.Encode(data)
	p.mu.Lock()
	// Of two idle Encoders (another store recycled into a new one meanwhile), the one with
	// more recycled memory stays.
	if cur := p.idle[n]; !p.closed && (cur == nil || pe.RecycledBytes() > cur.RecycledBytes()) {
		p.keep(n, pe)
	}
	p.touch()
	p.mu.Unlock()
	p.changed() // an Encoder whose recycled buffers were too large kept them
	return eb, err
}

// recycle gives the sliver buffers of eb, an encoding of enc that nothing reads any more,
// to the idle Encoder of its shard count for the next encode (which keeps the larger of
// them and what it held).
func (p *encoderPool) recycle(enc *redstuff.Config, eb *redstuff.EncodedBlob) {
	if eb == nil || len(eb.Pairs) != enc.NShards() {
		return
	}
	n := enc.NShards()
	defer p.changed()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	pe := p.idle[n]
	if pe == nil {
		pe = enc.NewEncoder()
		p.keep(n, pe)
	}
	pe.Recycle(eb)
	p.touch()
}

// keep makes pe the idle Encoder of n shards; p.mu is held.
func (p *encoderPool) keep(n int, pe *redstuff.Encoder) {
	if p.idle == nil {
		p.idle = make(map[int]*redstuff.Encoder)
	}
	p.idle[n] = pe
}

// touch records a use and makes sure a trim is due; p.mu is held.
func (p *encoderPool) touch() {
	p.used = time.Now()
	if p.timer == nil && !p.closed {
		p.timer = time.AfterFunc(spareIdle, func() { p.trim(time.Now()) })
	}
}

// trim drops the idle Encoders and their buffers if nothing used them for spareIdle
// before now; otherwise it is due again when that time will have passed.
func (p *encoderPool) trim(now time.Time) {
	defer p.changed()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.timer == nil {
		return
	}
	if idle := now.Sub(p.used); idle < spareIdle {
		p.timer.Reset(spareIdle - idle)
		return
	}
	p.timer.Stop()
	p.timer = nil
	clear(p.idle)
}

// close drops what the pool keeps; later recycles keep nothing.
func (p *encoderPool) close() {
	defer p.changed()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	clear(p.idle)
}

// keptBytes returns the recycled bytes the idle Encoders hold.
func (p *encoderPool) keptBytes() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := int64(0)
	for _, pe := range p.idle {
		n += int64(pe.RecycledBytes())
	}
	return n
}

// KeptBytes returns the bytes of sliver buffers the Client keeps from finished stores for
// its next encodes (at most one set per shard count, dropped once idle for 30 seconds; see
// the package documentation): memory it holds between stores, which a caller that
// accounts its process's memory counts. Once the upload group of a store
// (WithUploadGroup) has ended, the store's buffers are counted here if they are kept.
func (c *Client) KeptBytes() int64 { return c.encoders.keptBytes() }

// OnKeptChange makes f be called after every change of KeptBytes (a store's encode took
// the kept buffers, a finished store's were kept, idle ones were dropped), replacing the
// f of an earlier call (nil: none). f runs on the goroutine that made the change and
// must not block.
func (c *Client) OnKeptChange(f func()) {
	c.encoders.mu.Lock()
	defer c.encoders.mu.Unlock()
	c.encoders.onChange = f
}

// kept reports the shard counts with an idle Encoder and the recycled bytes each holds.
func (p *encoderPool) kept() map[int]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[int]int, len(p.idle))
	for n, pe := range p.idle {
		out[n] = pe.RecycledBytes()
	}
	return out
}

// encodingHold counts the users of a store's encoding: the store itself and every upload
// that may still send its slivers (it is an upload counter of the store's context, so the
// tail uploads after the store returned count too). When the count drops to zero the
// encoding is recycled.
type encodingHold struct {
	n       atomic.Int64
	release func()
}

// Add adds delta users.
func (h *encodingHold) Add(delta int) { h.n.Add(int64(delta)) }

// Done ends one use; the last one releases the encoding.
func (h *encodingHold) Done() {
	switch v := h.n.Add(-1); {
	case v == 0:
		h.release()
	case v < 0:
		panic("client: encoding hold below zero")
	}
}

// holdEncoding returns ctx whose uploads hold eb, an encoding of enc, and done, which ends
// the caller's own hold: once it and every upload started under ctx (their tails included)
// have ended, eb's buffers are recycled for the next store's encode. The caller must not
// use eb after calling done.
func (c *Client) holdEncoding(ctx context.Context, enc *redstuff.Config, eb *redstuff.EncodedBlob) (context.Context, func()) {
	h := &encodingHold{release: func() { c.encoders.recycle(enc, eb) }}
	h.Add(1)
	return withUploadCounter(ctx, h), h.Done
}
