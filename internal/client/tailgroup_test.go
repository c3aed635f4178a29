package client_test

import (
	"sync"
	"testing"

	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/testnet"
)

// Stores under an upload group count their uploads, tails included, in it: the group's
// Wait returns once they ended, for stores that run concurrently as for one alone, and
// the data stays readable (the group neither ends uploads nor keeps them).
func TestUploadGroup(t *testing.T) {
	net := testnet.New(t, testnet.Options{})
	c := newClient(t, net)
	var all sync.WaitGroup
	groups := make([]sync.WaitGroup, 3)
	ids := make([]string, len(groups))
	data := make([][]byte, len(groups))
	for i := range groups {
		data[i] = randomBlob(100_000+i, uint64(40+i))
		all.Add(1)
		go func() {
			defer all.Done()
			res, err := c.Store(client.WithUploadGroup(testContext(t), &groups[i]), data[i], client.StoreOptions{Epochs: 1})
			if err != nil {
				t.Errorf("store %d: %v", i, err)
				return
			}
			ids[i] = res.NewlyCreated.BlobObject.BlobID
		}()
	}
	all.Wait()
	for i := range groups {
		groups[i].Wait()
	}
	c.WaitTail()
	for i, id := range ids {
		if id != "" {
			mustRead(t, c, id, data[i])
		}
	}
}
