package client

import (
	"sync"
	"testing"
)

// One Client shared by concurrent stores: a store's WaitTail runs while another store's
// tail starts from a count of zero. With a sync.WaitGroup that is a misuse the race
// detector reports (TestEpochChangeMovesShards did, under -race); the counter allows it,
// and wait returns only once the count is zero.
func TestTailCounterWaitWhileAdding(t *testing.T) {
	var tc tailCounter
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 500 {
				tc.add()
				go tc.done()
				tc.wait()
			}
		}()
	}
	wg.Wait()
	tc.wait()
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.n != 0 || tc.zero != nil {
		t.Fatalf("after every tail ended: count %d, zero channel %v", tc.n, tc.zero)
	}
}

// wait blocks while a tail is in flight and returns when the last one ends.
func TestTailCounterWaitBlocks(t *testing.T) {
	var tc tailCounter
	tc.wait() // none in flight: returns at once
	tc.add()
	tc.add()
	returned := make(chan struct{})
	go func() { tc.wait(); close(returned) }()
	tc.done()
	select {
	case <-returned:
		t.Fatal("wait returned with a tail still in flight")
	default:
	}
	tc.done()
	<-returned
	defer func() {
		if recover() == nil {
			t.Error("done below zero did not panic")
		}
	}()
	tc.done()
}
