package s3

import (
	"encoding/xml"
	"io"
	"net/http"
	"sync"
	"time"
)

// keepAlive keeps a long operation's connection alive: if the operation is still
// running after Config.KeepAlive, it sends the 200 status line and the XML declaration,
// then a space every KeepAlive; the result (or S3's error document) follows in the body.
// Quick operations answer normally.
type keepAlive struct {
	q    *request
	mu   sync.Mutex // guards q.status and writes to q.w until stop
	done chan struct{}
	wg   sync.WaitGroup
}

func (s *Server) keepAlive(q *request) *keepAlive {
	k := &keepAlive{q: q, done: make(chan struct{})}
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		t := time.NewTicker(s.cfg.KeepAlive)
		defer t.Stop()
		for {
			select {
			case <-k.done:
				return
			case <-t.C:
			}
			k.mu.Lock()
			if q.status == 0 {
				q.w.Header().Set("Content-Type", "application/xml")
				q.w.WriteHeader(http.StatusOK)
				q.status = http.StatusOK
				io.WriteString(q.w, xml.Header)
			} else {
				io.WriteString(q.w, " ")
			}
			if f, ok := q.w.(http.Flusher); ok {
				f.Flush()
			}
			k.mu.Unlock()
		}
	}()
	return k
}

// stop ends the keep-alive writes; the caller then owns the response again.
func (k *keepAlive) stop() {
	close(k.done)
	k.wg.Wait()
}

// finish answers v, after stop.
func (k *keepAlive) finish(v any) error {
	if k.q.status == 0 {
		return writeXML(k.q, v)
	}
	return xml.NewEncoder(k.q.w).Encode(v)
}
