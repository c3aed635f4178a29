package storagenode

import (
	"sync"
	"time"

	"github.com/walrus-go/walrus/internal/redstuff"
)

// ingestTracker records, per blob, the uploads in progress and when the last one ended.
// The daemon asks it before recovering a certified blob: a client's upload to this node
// may still be streaming in when the certificate lands (the store needed only a quorum of
// confirmations, and its tail goes on), and recovering slivers that are about to arrive
// wastes the download.
type ingestTracker struct {
	mu    sync.Mutex
	blobs map[redstuff.BlobID]*ingestState
}

type ingestState struct {
	active int
	ended  time.Time
}

// ingestForget is how long an idle blob's entry is kept.
const ingestForget = time.Minute

func (t *ingestTracker) begin(id redstuff.BlobID, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.blobs == nil {
		t.blobs = map[redstuff.BlobID]*ingestState{}
	}
	if len(t.blobs) >= 1024 {
		for k, s := range t.blobs {
			if s.active == 0 && now.Sub(s.ended) > ingestForget {
				delete(t.blobs, k)
			}
		}
	}
	s := t.blobs[id]
	if s == nil {
		s = &ingestState{}
		t.blobs[id] = s
	}
	s.active++
}

func (t *ingestTracker) end(id redstuff.BlobID, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := t.blobs[id]; s != nil && s.active > 0 {
		s.active--
		s.ended = now
	}
}

// UploadActivity reports the uploads of blob id in progress on this node and when the
// last one ended (the zero time if none has; an idle blob may be forgotten a minute after
// its last upload).
func (n *Node) UploadActivity(id redstuff.BlobID) (active int, lastEnded time.Time) {
	t := &n.ingest
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := t.blobs[id]; s != nil {
		return s.active, s.ended
	}
	return 0, time.Time{}
}
