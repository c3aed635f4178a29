// Package bufpool keeps a bounded number of byte buffers alive between requests.
//
// A sync.Pool is emptied by every garbage collection, so a server that reads megabyte
// slivers into pooled buffers still allocates fresh ones after each cycle and pays the
// kernel for faulting their pages in again (about 11 µs per 4 KiB page on a loaded
// virtual machine: 5 ms for a 2 MB sliver). A Pool keeps up to its capacity of released
// buffers reachable, so their pages stay mapped, and drops the rest.
package bufpool

// Pool is a bounded free list of buffers, safe for concurrent use. The zero value is
// not usable; call New.
type Pool struct {
	free chan *[]byte
}

// New returns a Pool that keeps at most n released buffers (n < 1 is taken as 1).
func New(n int) *Pool {
	return &Pool{free: make(chan *[]byte, max(n, 1))}
}

// Get returns a released buffer whose capacity is at least size if one is at hand, else
// a new one of that capacity. Its length is 0 and its contents are unspecified.
func (p *Pool) Get(size int) *[]byte {
	select {
	case b := <-p.free:
		if cap(*b) >= size {
			*b = (*b)[:0]
			return b
		}
		// Too small for this caller: let it go rather than keep a buffer nobody can use.
	default:
	}
	b := make([]byte, 0, size)
	return &b
}

// Put releases a buffer; the caller must not use it afterwards. It is dropped when the
// pool holds its capacity already.
func (p *Pool) Put(b *[]byte) {
	if b == nil {
		return
	}
	select {
	case p.free <- b:
	default:
	}
}
