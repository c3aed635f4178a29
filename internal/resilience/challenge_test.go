package resilience

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/bits"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/faultproxy"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/daemon"
	"github.com/walrus-go/walrus/internal/testnet"
	"github.com/walrus-go/walrus/internal/testvec"
)

var challengeEpochs = flag.Int("challenge-epochs", 2, "challenged epochs TestChallenges runs (10 for the full run: make challenges)")

// Node indices (in the network's genesis order) of the faulty nodes of TestChallenges, and
// of the honest node that never submits its own certificate (others must).
const (
	lazyIndex   = 3
	forgerIndex = 2
	noCertIndex = 1
	lazyQ       = 0.1
)

// TestChallenges runs storage challenges on a network of processes: two honest nodes, a
// lazy node (it drops 10% of its slivers after certification) and a forger (it answers
// with forged symbols). Every challenged epoch the honest nodes pass and the faulty ones
// fail; after K = 2 failures the faulty nodes' stake is slashed.
//
//   - One honest node never submits its own certificate: the others submit it. In the
//     first challenged epoch it is killed once the others attested it, and still passes.
//   - The lazy node tries by itself, once the seed is known, to rebuild the challenged
//     slivers it dropped, from recovery symbols and by a client read: every attempt
//     fails during the window, and so does its challenge.
//   - The first challenged epoch's settlement, read from the chain's events: the reward
//     pool is split by shards, the honest nodes get their whole share, the failed nodes'
//     shares are forfeited and burned.
//   - In the second challenged epoch an honest node is killed and restarted mid-challenge
//     while the fault proxies delay and drop requests; during the window the lazy node's
//     challenged blobs can be rebuilt neither from recovery symbols nor by a client read
//     made by the test.
func TestChallenges(t *testing.T) {
	if testing.Short() {
		t.Skip("a network of processes")
	}
	if testvec.Race {
		t.Skip("runs without the race detector (make resilience); its processes are not race-instrumented anyway")
	}
	params := chain.DefaultChallengeParams()
	c := newCluster(t, clusterOptions{
		nodes: 4, shards: 10, epoch: 20 * time.Second, challenge: params,
		config: func(i int, cfg *daemon.Config) {
			cfg.ChallengePoll = 300 * time.Millisecond
			cfg.RetryMax = 2 * time.Second
			switch i {
			case lazyIndex:
				cfg.TestFaults.LazyFraction = lazyQ
				cfg.TestFaults.RebuildChallenged = true
			case noCertIndex:
				cfg.TestFaults.NoOwnCertificate = true
			case forgerIndex:
				cfg.TestFaults.ForgeChallengeAnswers = true
			}
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmt, nodes := c.committee(ctx)
	ids := map[int]chain.ObjectID{}
	var lazyShards []uint16
	byIndex := map[int]*testnet.ClusterNode{}
	for i, nd := range nodes {
		ids[nd.Index] = cmt.Members[i].NodeID
		byIndex[nd.Index] = nd
		if nd.Index == lazyIndex {
			lazyShards = cmt.Members[i].Shards
		}
	}

	// Store blobs until the lazy node drops at least three (blob, shard) pairs.
	dropped, pairs := 0, 0
	for i := 0; dropped < 3 || i < 8; i++ {
		if i >= 200 {
			t.Fatalf("the lazy node drops %d of %d pairs", dropped, pairs)
		}
		s, err := c.store(ctx, c.randomBlob(1500+i))
		if err != nil {
			t.Fatal(err)
		}
		for _, sh := range lazyShards {
			pairs++
			if sn.LazyDrop(s.id, sh, lazyQ) {
				dropped++
			}
		}
	}
	t.Logf("%s: stored %d blobs; the lazy node drops %d of its %d (blob, shard) pairs", time.Now().Format(time.TimeOnly), len(c.certified()), dropped, pairs)
	stored := uint64(len(c.certified()))

	// The first epoch whose index holds every blob stored above.
	sys, err := c.net.Chain.System(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first := sys.Epoch + 1
	waitEpoch(t, c, first)
	if st := challengeOf(t, ctx, c, first); st.Blobs < stored {
		t.Fatalf("epoch %d challenges %d blobs, want at least %d", first, st.Blobs, stored)
	}
	walBefore := wal(t, ctx, c, ids)

	for e := first; e < first+uint32(*challengeEpochs); e++ {
		if e == first {
			killAfterAttested(t, ctx, c, e, byIndex, ids)
		}
		if e == first+1 {
			rebuildAttempts(t, ctx, c, e, ids[lazyIndex])
			restartMidChallenge(t, c)
		}
		waitEpoch(t, c, e+1)
		c.healAll()
		st := challengeOf(t, ctx, c, e)
		for idx, id := range ids {
			m, ok := st.Member(id)
			if !ok {
				t.Fatalf("epoch %d: node %d is not a member", e, idx)
			}
			honest := idx != lazyIndex && idx != forgerIndex
			if m.Passed != honest {
				t.Errorf("epoch %d: node %d (honest %v) passed = %v", e, idx, honest, m.Passed)
			}
		}
		if e == first {
			checkSettlement(t, ctx, c, e, cmt, ids)
			checkRebuildFailed(t, c, byIndex[lazyIndex])
			after := wal(t, ctx, c, ids)
			if after[lazyIndex] > walBefore[lazyIndex] || after[forgerIndex] > walBefore[forgerIndex] {
				t.Errorf("a failed node earned rewards in epoch %d: %v -> %v", e, walBefore, after)
			}
			for idx := range ids {
				if idx != lazyIndex && idx != forgerIndex && after[idx] < walBefore[idx] {
					t.Errorf("honest node %d lost stake in epoch %d: %d -> %d", idx, e, walBefore[idx], after[idx])
				}
			}
		}
	}
	final := wal(t, ctx, c, ids)
	for _, idx := range []int{lazyIndex, forgerIndex} {
		if *challengeEpochs >= int(params.FailureLimit) && final[idx] >= walBefore[idx] {
			t.Errorf("node %d failed %d epochs and was not slashed: %d -> %d", idx, *challengeEpochs, walBefore[idx], final[idx])
		}
	}
	// The honest nodes' own view: every epoch passed, answers verified.
	var verified, failed float64
	for _, nd := range c.net.Nodes {
		if nd.Index == lazyIndex || nd.Index == forgerIndex {
			continue
		}
		h, err := c.net.Client(nd.Addr).Health(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		passed := 0
		for _, r := range h.Challenges {
			if r.Passed {
				passed++
			}
		}
		if passed == 0 {
			t.Errorf("node %d reports no passed epoch: %+v", nd.Index, h.Challenges)
		}
		// Counters restart with the process (node 0 was restarted); sum them.
		m := c.metrics(nd)
		verified += m["walrus_node_challenge_verified_total"]
		failed += m["walrus_node_challenge_failed_total"]
	}
	if verified == 0 || failed == 0 {
		t.Errorf("honest nodes' challenge metrics: verified %v failed %v", verified, failed)
	}
	m := c.metrics(byIndex[lazyIndex])
	if n := m["walrus_node_test_rebuild_recovery_rebuilt_total"] + m["walrus_node_test_rebuild_read_rebuilt_total"]; n != 0 {
		t.Errorf("the lazy node rebuilt %v challenged blobs during a window", n)
	}
}

// killAfterAttested waits until every other member serves an attestation that node
// noCertIndex (which never submits its own certificate) passed epoch e, kills it, waits
// for the chain to record its pass (a certificate submitted by another member) and
// starts it again.
func killAfterAttested(t *testing.T, ctx context.Context, c *cluster, e uint32, nodes map[int]*testnet.ClusterNode, ids map[int]chain.ObjectID) {
	t.Helper()
	target := ids[noCertIndex]
	for idx, nd := range nodes {
		if idx == noCertIndex {
			continue
		}
		testnet.WaitFor(t, 2*time.Minute, fmt.Sprintf("%s to attest node %d in epoch %d", nd.Name, noCertIndex, e), func() (bool, error) {
			_, err := c.net.Client(nd.Addr).Attestation(ctx, e, sn.ObjectID(target))
			return err == nil, nil
		})
	}
	victim := nodes[noCertIndex]
	c.kill(victim)
	t.Logf("%s: killed node %d after the others attested it", time.Now().Format(time.TimeOnly), noCertIndex)
	testnet.WaitFor(t, 2*time.Minute, fmt.Sprintf("a certificate for node %d in epoch %d", noCertIndex, e), func() (bool, error) {
		st, err := c.net.Chain.Challenge(ctx, e, nil)
		if err != nil {
			return false, nil
		}
		m, _ := st.Member(target)
		return m.Passed, nil
	})
	c.start(victim)
}

// checkSettlement checks the rewards of epoch e from the chain's events: the pool after
// the usual burn is split by shards; each honest node is paid its whole share (its
// rewards are unaffected by the others' failures), each failed node forfeits exactly its
// share (ChallengeFailed), and the burned amount is the usual burn plus the forfeited
// shares (RewardsDistributed).
func checkSettlement(t *testing.T, ctx context.Context, c *cluster, e uint32, cmt chain.CommitteeInfo, ids map[int]chain.ObjectID) {
	t.Helper()
	params, err := c.net.Chain.Params(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var rd *chain.RewardsDistributed
	failed := map[chain.ObjectID]*chain.ChallengeFailed{}
	for cursor := uint64(0); ; {
		page, _, err := c.net.Chain.Events(ctx, cursor, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range page.Events {
			switch b := ev.Body.(type) {
			case *chain.RewardsDistributed:
				if b.Epoch == e {
					rd = b
				}
			case *chain.ChallengeFailed:
				if b.Epoch == e {
					failed[b.Node] = b
				}
			}
		}
		if len(page.Events) == 0 || page.Next == cursor {
			break
		}
		cursor = page.Next
	}
	if rd == nil || rd.Total == 0 {
		t.Fatalf("epoch %d: no rewards to check (%+v)", e, rd)
	}
	shards := map[chain.ObjectID]uint64{}
	for _, m := range cmt.Members {
		shards[m.NodeID] = uint64(len(m.Shards))
	}
	dist := rd.Total - mulDiv(rd.Total, uint64(params.BurnBasisPoints), 10_000)
	share := func(idx int) uint64 { return mulDiv(dist, shards[ids[idx]], uint64(cmt.NShards)) }
	burned, paid := rd.Total-dist, uint64(0)
	for idx, id := range ids {
		f, ok := failed[id]
		if idx == lazyIndex || idx == forgerIndex {
			if !ok || f.Forfeited != share(idx) {
				t.Errorf("epoch %d: failed node %d forfeited %+v, want its whole share %d", e, idx, f, share(idx))
			}
			burned += share(idx)
			continue
		}
		if ok {
			t.Errorf("epoch %d: honest node %d failed: %+v", e, idx, f)
		}
		paid += share(idx)
	}
	if rd.Burned != burned || rd.Distributed != paid {
		t.Errorf("epoch %d: rewards %+v, want burned %d (usual burn %d + failed shares) and distributed %d (the honest shares)",
			e, *rd, burned, rd.Total-dist, paid)
	}
	t.Logf("epoch %d: reward pool %d, burned %d (of it forfeited by failed nodes %d), paid to honest nodes %d",
		e, rd.Total, rd.Burned, burned-(rd.Total-dist), rd.Distributed)
}

// checkRebuildFailed waits until the lazy node has made both rebuild attempts of the
// epoch that just ended (they end with the window), and checks that neither got a
// sliver back.
func checkRebuildFailed(t *testing.T, c *cluster, lazy *testnet.ClusterNode) {
	t.Helper()
	var m map[string]float64
	testnet.WaitFor(t, 2*time.Minute, "the lazy node's rebuild attempts to end", func() (bool, error) {
		m = c.metrics(lazy)
		return m["walrus_node_test_rebuild_recovery_failed_total"] > 0 && m["walrus_node_test_rebuild_read_failed_total"] > 0, nil
	})
	if n := m["walrus_node_test_rebuild_recovery_rebuilt_total"] + m["walrus_node_test_rebuild_read_rebuilt_total"]; n != 0 {
		t.Errorf("the lazy node rebuilt %v challenged blobs during the window", n)
	}
	t.Logf("lazy node's rebuild attempts: recovery failed %v, read failed %v", m["walrus_node_test_rebuild_recovery_failed_total"], m["walrus_node_test_rebuild_read_failed_total"])
}

// mulDiv is ⌊a·b/d⌋ (the chain's rounding).
func mulDiv(a, b, d uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	q, _ := bits.Div64(hi, lo, d)
	return q
}

// rebuildAttempts waits for the answer phase of epoch e and tries what a lazy node would
// do to rebuild a challenged sliver: ask the other nodes for recovery symbols, and read
// the blob as a client. Both must fail during the window.
func rebuildAttempts(t *testing.T, ctx context.Context, c *cluster, e uint32, lazy chain.ObjectID) {
	t.Helper()
	var st chain.ChallengeState
	testnet.WaitFor(t, time.Minute, fmt.Sprintf("the answer phase of epoch %d", e), func() (bool, error) {
		var err error
		st, err = c.net.Chain.Challenge(ctx, e, &lazy)
		return err == nil && st.Phase == chain.PhaseAnswer, nil
	})
	if len(st.Items) == 0 {
		t.Fatal("the lazy node has no items")
	}
	it := st.Items[0]
	_, nodes := c.committee(ctx)
	// Every node's window is installed within a poll; wait for it, then try.
	for _, nd := range nodes {
		testnet.WaitFor(t, time.Minute, nd.Name+" to refuse a challenged blob", func() (bool, error) {
			_, err := c.net.Client(nd.Addr).RecoverySymbolsFor(ctx, it.Blob, redstuff.Primary, 0)
			return errors.Is(err, sn.ErrChallenged), nil
		})
		_, err := c.net.Client(nd.Addr).Sliver(ctx, it.Blob, 0, redstuff.Secondary)
		if !errors.Is(err, sn.ErrChallenged) {
			t.Errorf("%s served a sliver of a challenged blob: %v", nd.Name, err)
		}
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := c.client.Read(rctx, it.Blob, client.ReadOptions{}); err == nil {
		t.Error("a client read of a challenged blob succeeded during the window")
	}
}

// restartMidChallenge kills an honest node in the answer phase (it has revealed), starts
// it again, and has the fault proxies delay and drop requests for the rest of the epoch.
func restartMidChallenge(t *testing.T, c *cluster) {
	t.Helper()
	victim := c.net.Nodes[0]
	c.kill(victim)
	c.start(victim)
	for i, nd := range c.net.Nodes {
		f := faultproxy.Fault{Kind: faultproxy.Delay, Delay: 200 * time.Millisecond}
		if i%2 == 1 {
			f = faultproxy.Fault{Kind: faultproxy.Drop, Rate: 0.3, Seed: uint64(i)}
		}
		c.proxy(nd).Set(f)
	}
}

// waitEpoch waits until the chain is in epoch e or later.
func waitEpoch(t *testing.T, c *cluster, e uint32) {
	t.Helper()
	testnet.WaitFor(t, 3*time.Minute, fmt.Sprintf("epoch %d", e), func() (bool, error) {
		sys, err := c.net.Chain.System(context.Background())
		return err == nil && sys.Epoch >= e, nil
	})
}

func challengeOf(t *testing.T, ctx context.Context, c *cluster, e uint32) chain.ChallengeState {
	t.Helper()
	st, err := c.net.Chain.Challenge(ctx, e, nil)
	if err != nil {
		t.Fatalf("challenge of epoch %d: %v", e, err)
	}
	return st
}

// wal returns the stake (WAL) of each node's pool.
func wal(t *testing.T, ctx context.Context, c *cluster, ids map[int]chain.ObjectID) map[int]uint64 {
	t.Helper()
	out := map[int]uint64{}
	for idx, id := range ids {
		p, err := c.net.Chain.Pool(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		out[idx] = p.Wal
	}
	return out
}
