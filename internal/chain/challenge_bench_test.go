package chain

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/redstuff"
)

// challengeBenchEnv is a chain with challenges (default s = 263) on 1000 shards and a
// committee of 10 nodes whose index holds nBlobs certified blobs, seeded directly into the
// state (no transactions), in epoch 1 with every member revealed, so the seed is fixed.
// chainBytes is the bytes (keys and values) the chain wrote for the epoch's challenge: the
// reveals and, with settle, one certificate per member and the epoch change that settles
// it (then the chain is in epoch 2).
type challengeBenchEnv struct {
	env        *scriptEnv
	certs      []*ChallengeCertificate
	nodes      []ObjectID
	chainBytes int
}

func newChallengeBenchEnv(tb testing.TB, nBlobs uint64, settle bool) *challengeBenchEnv {
	env := newScriptEnv(tb)
	env.out = new(strings.Builder)
	body := []string{"account alice 1000000WAL"}
	for i := range 10 {
		body = append(body, fmt.Sprintf("account n%d-op 1000WAL", i), fmt.Sprintf("node n%d stake=100WAL capacity=1TiB", i))
	}
	env.run(scriptCase{cmd: "genesis challenges shards=1000 epoch=24h max-ahead=5", body: body})

	// Seed the index: positions 0..nBlobs-1, all counted from epoch 1 (they "were certified"
	// in epoch 0), live for 1000 epochs.
	object := func(pos uint64) ObjectID {
		var obj ObjectID
		binary.LittleEndian.PutUint64(obj[:], pos)
		obj[31] = 0xb1
		return obj
	}
	seedIndex(env.store, nBlobs, func(pos uint64) redstuff.BlobID { return redstuff.BlobID(object(pos)) })
	for pos := range nBlobs {
		obj := object(pos)
		ib := IndexedBlob{Object: obj, BlobID: redstuff.BlobID(obj), EndEpoch: 1000}
		env.store.Set(keyIndexed(pos), encodeBCS(&ib))
		env.store.Set(keyIndexPos(obj), encodeBCS(&u64Value{pos}))
		env.store.Set(keyIndexEnd(ib.EndEpoch, pos), nil)
	}
	rec, _ := get[ChallengeRecord](env.store, keyChalRecord(0))
	rec.NextPosition = nBlobs
	env.store.Set(keyChalRecord(0), encodeBCS(&rec))

	env.run(scriptCase{cmd: "advance 24h step=12h"})
	env.run(scriptCase{cmd: "sync-all"})
	be := &challengeBenchEnv{env: env}
	sys := env.system()
	cmt, _ := getCommittee(env.store, sys.Epoch)
	var reveals, attests []string
	for _, m := range cmt.Members {
		n := env.nodes[env.names[m.NodeID]]
		reveals = append(reveals, fmt.Sprintf("%s reveal %s", n.operator, n.name))
		attests = append(attests, fmt.Sprintf("alice attest %s", n.name))
		be.nodes = append(be.nodes, m.NodeID)
	}
	be.chainBytes += be.blockBytes(reveals)
	st, err := env.app.View().Challenge(ChallengeRequest{Epoch: sys.Epoch})
	if err != nil || st.Phase != PhaseAnswer || st.Blobs != nBlobs {
		tb.Fatalf("challenge state %+v, %v", st, err)
	}
	for _, l := range attests {
		p, _ := env.payload("alice", "attest", parseArgs(strings.Fields(l)[2:]))
		be.certs = append(be.certs, p.(*ChallengeCertificate))
	}
	if settle {
		be.chainBytes += be.blockBytes(attests)
		be.chainBytes += be.advanceBytes(24 * time.Hour)
	}
	return be
}

// blockBytes runs and commits a block of transactions, which must all succeed, and returns
// the bytes of its write set.
func (be *challengeBenchEnv) blockBytes(txs []string) int {
	e := be.env
	e.height++
	e.now += int64(time.Second)
	if _, err := e.app.BeginBlock(BlockHeader{Height: e.height, Time: e.now}); err != nil {
		e.t.Fatal(err)
	}
	for _, l := range txs {
		raw, _ := e.buildTx(strings.Fields(l))
		if r := e.app.DeliverTx(raw); r.Code != CodeOK {
			e.t.Fatalf("%s", r.Log)
		}
	}
	ws, err := e.app.EndBlock()
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.app.Commit(); err != nil {
		e.t.Fatal(err)
	}
	return writeBytes(ws)
}

// advanceBytes runs empty blocks over d and returns the bytes they wrote.
func (be *challengeBenchEnv) advanceBytes(d time.Duration) int {
	e := be.env
	n := 0
	for _, step := range []time.Duration{d / 2, d / 2} {
		e.height++
		e.now += int64(step)
		res, err := e.app.FinalizeBlock(BlockHeader{Height: e.height, Time: e.now}, nil)
		if err != nil {
			e.t.Fatal(err)
		}
		if _, err := e.app.Commit(); err != nil {
			e.t.Fatal(err)
		}
		n += writeBytes(res.Writes)
	}
	return n
}

func writeBytes(ws WriteSet) int {
	n := 0
	for _, w := range ws {
		n += len(w.Key) + len(w.Value)
	}
	return n
}

// BenchmarkChallengeEpoch measures one epoch's challenge work of the chain with 10^3,
// 10^4 and 10^5 certified blobs: the selection of every member's items (the QueryChallenge
// answer each member and verifier fetches) and the verification of one certificate per
// member, for a committee of 10 on 1000 shards with s = 263. It reports the time for the
// whole committee (ns/op), the bytes of one member's answer (node-B) and the bytes the
// chain writes for the epoch's challenge (chain-B/epoch: reveals, certificates and the
// settling epoch change, measured once on a second chain) and the store reads of the
// selection and verification (reads/op). Every iteration does the same work: the
// certificates run on an overlay that is discarded. CPU time (cpu-ns/op) is the process's
// user and system time with the garbage collector off.
func BenchmarkChallengeEpoch(b *testing.B) {
	for _, n := range []uint64{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("blobs=%d", n), func(b *testing.B) {
			chainBytes := newChallengeBenchEnv(b, n, true).chainBytes
			be := newChallengeBenchEnv(b, n, false)
			var nodeBytes int
			counter := &readCountingStore{Store: be.env.store}
			// The collector is off while timed: its work depends on the benchmark's own
			// heap (the in-memory chain store and the second chain), not on the challenge.
			runtime.GC()
			defer debug.SetGCPercent(debug.SetGCPercent(-1))
			cpu0 := cpuTime()
			b.ResetTimer()
			for range b.N {
				nodeBytes, _ = be.epochWork(b, be.env.app, counter)
			}
			b.StopTimer()
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(counter.reads)/float64(b.N), "reads/op")
			b.ReportMetric(float64(nodeBytes), "node-B")
			b.ReportMetric(float64(chainBytes), "chain-B/epoch")
		})
	}
}

// epochWork selects every member's items and verifies one certificate per member, on an
// overlay of kv that is discarded, with app (an App over kv's store). It returns the bytes
// of one member's answer and every member's items, in committee order.
func (be *challengeBenchEnv) epochWork(tb testing.TB, app *App, kv *readCountingStore) (int, [][]ChallengeItem) {
	e := be.env
	view := NewView(kv)
	sys, err := view.System()
	if err != nil {
		tb.Fatal(err)
	}
	nodeBytes := 0
	items := make([][]ChallengeItem, 0, len(be.nodes))
	for _, node := range be.nodes {
		st, err := view.Challenge(ChallengeRequest{Epoch: sys.Epoch, HasNode: true, Node: node})
		if err != nil || len(st.Items) == 0 {
			tb.Fatalf("items: %v", err)
		}
		nodeBytes = len(encodeBCS(&st))
		items = append(items, st.Items)
	}
	over := NewOverlay(kv)
	c, err := app.newCtx(over, BlockHeader{Height: e.height + 1, Time: e.now + 1}, [32]byte{})
	if err != nil {
		tb.Fatal(err)
	}
	for _, cert := range be.certs {
		if err := c.execChallengeCertificate(cert); err != nil {
			tb.Fatal(err)
		}
	}
	over.Discard()
	return nodeBytes, items
}

// readCountingStore counts the reads of a Store: Get and Iterate calls, and each key of a
// GetSorted, which it passes on if the Store has it.
type readCountingStore struct {
	Store
	reads int
}

func (s *readCountingStore) Get(k []byte) ([]byte, bool) { s.reads++; return s.Store.Get(k) }
func (s *readCountingStore) GetSorted(keys [][]byte) [][]byte {
	s.reads += len(keys)
	if g, ok := s.Store.(SortedGetter); ok {
		return g.GetSorted(keys)
	}
	return getSorted(s.Store, keys)
}

func (s *readCountingStore) Iterate(start, end []byte, fn func(k, v []byte) bool) {
	s.reads++
	s.Store.Iterate(start, end, fn)
}

// cpuTime returns the CPU time (user and system) of the process in nanoseconds: on a
// loaded machine it varies less than wall time.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
