package chain

import "testing"

// ChallengeBench is the chain of BenchmarkChallengeEpoch (newChallengeBenchEnv), for the
// benchmarks of package chain_test that run it on another Store.
type ChallengeBench struct{ be *challengeBenchEnv }

// NewChallengeBench builds the benchmark chain with nBlobs certified blobs in an in-memory
// store, in epoch 1 with every member revealed and one certificate per member prepared.
func NewChallengeBench(tb testing.TB, nBlobs uint64) ChallengeBench {
	return ChallengeBench{newChallengeBenchEnv(tb, nBlobs, false)}
}

// CopyState writes every key of the chain's committed state to dst.
func (b ChallengeBench) CopyState(dst Store) {
	b.be.env.store.Iterate(nil, nil, func(k, v []byte) bool {
		dst.Set(k, v)
		return true
	})
}

// DropState releases the in-memory chain (store and App): EpochWork needs only the
// certificates and the committee, and the benchmark's heap then holds no state that grows
// with the number of blobs.
func (b ChallengeBench) DropState() { b.be.env.store, b.be.env.app = nil, nil }

// Height is the height of the chain's last commit.
func (b ChallengeBench) Height() uint64 { return b.be.env.height }

// AppHash is the app hash of the chain's last commit.
func (b ChallengeBench) AppHash() [32]byte { return b.be.env.appHash }

// ReadCounter counts the reads (Get and Iterate calls) of a Store.
type ReadCounter = readCountingStore

// NewReadCounter wraps s.
func NewReadCounter(s Store) *ReadCounter { return &readCountingStore{Store: s} }

// Reads returns the reads so far.
func (s *ReadCounter) Reads() int { return s.reads }

// EpochWork does one epoch's chain work (the selection of every member's items and the
// verification of one certificate per member) on kv with app, an App over the same state
// as kv: see challengeBenchEnv.epochWork. It returns the bytes of one member's
// QueryChallenge answer and every member's items.
func (b ChallengeBench) EpochWork(tb testing.TB, app *App, kv *ReadCounter) (int, [][]ChallengeItem) {
	return b.be.epochWork(tb, app, kv)
}
