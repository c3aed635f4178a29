package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	sn "github.com/walrus-go/walrus/internal/storagenode"
)

// maxPrealloc bounds the buffer allocated for a body before its bytes arrive: a client
// that declares a large body and sends nothing makes the node allocate no more than this.
const maxPrealloc = 4 << 10

// bodyReader reads a request body, counting the bytes received against the upload memory
// budget until release is called. It is used by one goroutine.
type bodyReader struct {
	r      io.Reader
	rc     *http.ResponseController
	budget *budget
	held   int64
}

// Read reads from the body and takes the bytes read from the budget; when the budget is
// used up it fails with ErrOverloaded. At the end of the body it lifts the body's read
// deadline: the server's background read, which watches for the client going away while
// the request is processed, would otherwise cancel the request when it passes.
func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if n > 0 {
		if !b.budget.tryAcquire(int64(n)) {
			return 0, fmt.Errorf("%w: upload memory budget exhausted", sn.ErrOverloaded)
		}
		b.held += int64(n)
	}
	if err == io.EOF {
		// An error means the writer does not support deadlines: none was set.
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// release returns the bytes received to the budget. It is idempotent.
func (b *bodyReader) release() {
	b.budget.release(b.held)
	b.held = 0
}

// openBody starts reading a request body of at most limit bytes (exactly its
// Content-Length if it has one): it refuses a body that can never fit (ErrTooLarge) or
// that does not fit in the free budget now (ErrOverloaded) before reading anything, and
// sets the body's read deadline (see Options.MinBodyRate).
func (h *Handler) openBody(w http.ResponseWriter, r *http.Request, limit int64) (*bodyReader, error) {
	if r.ContentLength > limit {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", sn.ErrTooLarge, r.ContentLength, limit)
	}
	size := limit
	if r.ContentLength >= 0 {
		size = r.ContentLength
		limit = size
	}
	if size > h.memory.max {
		return nil, fmt.Errorf("%w: %d bytes, more than the node's upload budget of %d; send fewer sliver pairs per request", sn.ErrTooLarge, size, h.memory.max)
	}
	if !h.memory.fits(size) {
		return nil, fmt.Errorf("%w: upload memory budget exhausted", sn.ErrOverloaded)
	}
	rc := http.NewResponseController(w)
	// An error means the writer does not support deadlines (a test recorder): the
	// server's ReadTimeout stays in force.
	_ = rc.SetReadDeadline(time.Now().Add(h.opts.bodyTime(size)))
	return &bodyReader{r: http.MaxBytesReader(w, r.Body, limit), rc: rc, budget: &h.memory}, nil
}

// bodyTime returns how long a body of size bytes may take to arrive.
func (o *Options) bodyTime(size int64) time.Duration {
	rate := o.MinBodyRate
	return o.BodyGrace + time.Duration(size/rate)*time.Second + time.Duration(size%rate)*time.Second/time.Duration(rate)
}

// readBody reads a whole request body of at most limit bytes (see openBody), counted
// against the upload memory budget until release is called.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request, limit int64) (body []byte, release func(), err error) {
	br, err := h.openBody(w, r, limit)
	if err != nil {
		return nil, nil, err
	}
	buf := make([]byte, 0, min(limit, r.ContentLength+1, maxPrealloc))
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := br.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			br.release()
			return nil, nil, readErr(err, "body")
		}
	}
	return buf, br.release, nil
}

// acquireUpload takes an upload slot, waiting for one at most Options.UploadSlotWait or
// until ctx ends (ErrOverloaded either way). The caller calls the returned func to give
// the slot back.
func (h *Handler) acquireUpload(ctx context.Context) (release func(), err error) {
	release = func() { <-h.uploads }
	select {
	case h.uploads <- struct{}{}:
		return release, nil
	default:
	}
	t := time.NewTimer(h.opts.UploadSlotWait)
	defer t.Stop()
	select {
	case h.uploads <- struct{}{}:
		return release, nil
	case <-t.C:
	case <-ctx.Done():
	}
	return nil, fmt.Errorf("%w: %d uploads in flight", sn.ErrOverloaded, cap(h.uploads))
}
