package chain_test

import (
	"fmt"
	"runtime"
	"sync"
	"syscall"
	"testing"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/abciapp"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
)

// challengeBlobSize is the size of the blob whose slivers answer every challenged item
// in BenchmarkChallengeEpochPebble: 1 MiB, 5-byte symbols on 1000 shards.
const challengeBlobSize = 1 << 20

var challengeBlob = sync.OnceValues(func() (*redstuff.EncodedBlob, error) {
	enc, err := redstuff.NewConfig(1000)
	if err != nil {
		return nil, err
	}
	data := make([]byte, challengeBlobSize)
	for i := range data {
		data[i] = byte(i*131 + i>>8)
	}
	return enc.Encode(data)
})

// BenchmarkChallengeEpochPebble is BenchmarkChallengeEpoch on the store a deployed chain
// uses, with the storage nodes' side of the challenge added. The seeded state is copied into
// the ABCI adapter's pebble store (abciapp.Store, default options, on disk in a temporary
// directory), committed, and the store reopened, so that the state is read from flushed
// tables through the block cache as a running node reads it; one epoch's work runs once
// before timing (as a running chain has verified certificates of the committee before).
// For each number of blobs, two sub-benchmarks time one epoch of a committee of 10 on 1000
// shards (s = 263) each:
//
//   - chain: every member's QueryChallenge selection and the verification of one
//     certificate per member, on an overlay that is discarded (chain-cpu-ns/op), with its
//     store reads (reads/op) and the bytes of one member's selection (node-B);
//   - nodes: every member answers its items (decode the stored sliver, expand it, take the
//     symbol and its Merkle proof, encode the answers; answer-B is one member's encoded
//     answers) and each of the 9 other members decodes and verifies them against the blob's
//     metadata (node-cpu-ns/op, the whole committee's).
//
// The nodes answer every challenged blob from the slivers of one 1 MiB blob (the sampled
// blob IDs only choose the sliver pair), held in memory: their sliver and metadata reads
// from their own stores are not counted. The nodes' work is about twenty times the
// chain's: run it with fewer iterations (-bench 'ChallengeEpochPebble/.*/nodes'
// -benchtime 2x). CPU times are the process's user and system time, garbage collection
// included: once the state is in pebble the in-memory chain is dropped, so the heap holds
// nothing that grows with the number of blobs but pebble's block cache (at most 32 MiB).
func BenchmarkChallengeEpochPebble(b *testing.B) {
	blob, err := challengeBlob()
	if err != nil {
		b.Fatal(err)
	}
	enc, err := redstuff.NewConfig(1000)
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []uint64{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("blobs=%d", n), func(b *testing.B) {
			bench := chain.NewChallengeBench(b, n)
			dir := b.TempDir()
			st, err := abciapp.OpenStore(dir, abciapp.StoreOptions{})
			if err != nil {
				b.Fatal(err)
			}
			bench.CopyState(st)
			bench.DropState()
			if err := st.CommitBlock(abciapp.Commit{Height: int64(bench.Height()), AppHash: bench.AppHash()}, nil); err != nil {
				b.Fatal(err)
			}
			st.Close()
			if st, err = abciapp.OpenStore(dir, abciapp.StoreOptions{}); err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			app, err := chain.New(st)
			if err != nil {
				b.Fatal(err)
			}
			_, items := bench.EpochWork(b, app, chain.NewReadCounter(st))

			b.Run("chain", func(b *testing.B) {
				counter := chain.NewReadCounter(st)
				var nodeBytes int
				cpu := timeCPU(b, func() {
					for range b.N {
						nodeBytes, _ = bench.EpochWork(b, app, counter)
					}
				})
				b.ReportMetric(float64(cpu)/float64(b.N), "chain-cpu-ns/op")
				b.ReportMetric(float64(counter.Reads())/float64(b.N), "reads/op")
				b.ReportMetric(float64(nodeBytes), "node-B")
			})
			b.Run("nodes", func(b *testing.B) {
				var answerBytes int
				cpu := timeCPU(b, func() {
					for range b.N {
						answerBytes = answerAndVerify(b, enc, blob, items)
					}
				})
				b.ReportMetric(float64(cpu)/float64(b.N), "node-cpu-ns/op")
				b.ReportMetric(float64(answerBytes), "answer-B")
			})
		})
	}
}

// timeCPU runs f as the timed part of a benchmark and returns the CPU time it took.
func timeCPU(b *testing.B, f func()) int64 {
	runtime.GC()
	cpu0 := cpuTime()
	b.ResetTimer()
	f()
	b.StopTimer()
	return cpuTime() - cpu0
}

// answerAndVerify does the nodes' work of one epoch for the members' items: each member
// answers its items from blob's slivers, and every other member verifies the answers. It
// returns the bytes of one member's encoded answers.
func answerAndVerify(tb testing.TB, enc *redstuff.Config, blob *redstuff.EncodedBlob, items [][]chain.ChallengeItem) int {
	nShards := enc.NShards()
	size := 0
	for m, own := range items {
		snItems := make([]sn.ChallengeItem, len(own))
		answers := make([]sn.ChallengeAnswer, len(own))
		for i, it := range own {
			snItems[i] = sn.ChallengeItem{Blob: it.Blob, Shard: it.Shard, Axis: redstuff.Axis(it.Axis), Symbol: uint16(it.Symbol)}
			pair := &blob.Pairs[it.Blob.ShardPair(int(it.Shard), nShards)]
			sliver := &pair.Primary
			if snItems[i].Axis == redstuff.Secondary {
				sliver = &pair.Secondary
			}
			stored := sliver.Bytes()
			s, err := redstuff.DecodeSliver(stored, sliver.Axis, len(stored))
			if err != nil {
				tb.Fatal(err)
			}
			x, err := enc.Expand(blob.Metadata, s)
			if err != nil {
				tb.Fatal(err)
			}
			sym, err := x.RecoverySymbol(int(it.Symbol))
			if err != nil {
				tb.Fatal(err)
			}
			answers[i].Symbol = &sym
		}
		body := sn.EncodeChallengeAnswers(answers)
		size = len(body)
		for v := range items {
			if v == m {
				continue
			}
			got, err := sn.DecodeChallengeAnswers(body, len(snItems), redstuff.MaxSymbolSize)
			if err != nil {
				tb.Fatal(err)
			}
			for i, a := range got {
				if err := sn.VerifyChallengeAnswer(enc, blob.Metadata, snItems[i], a); err != nil {
					tb.Fatal(err)
				}
			}
		}
	}
	return size
}

// cpuTime returns the CPU time (user and system) of the process in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
