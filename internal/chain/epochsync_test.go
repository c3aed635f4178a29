package chain

import (
	"strings"
	"testing"
	"time"
)

// TestEpochSyncDeadline is issue 11, finding 2: committee members holding more than a third
// of the shards never send EpochSyncDone. The epoch change completes at the sync deadline (in
// block time), later epochs proceed, and the members that did not sync lose that epoch's
// rewards, which are burned.
func TestEpochSyncDeadline(t *testing.T) {
	env := newScriptEnv(t)
	env.out = &strings.Builder{}
	run := func(cmd string, body ...string) string {
		t.Helper()
		env.out.Reset()
		env.run(scriptCase{cmd: cmd, body: body})
		if err := env.invariants(); err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		return env.out.String()
	}
	pool := func(name string) Pool {
		t.Helper()
		p, err := env.app.View().Pool(env.object(name))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	run("genesis shards=10 epoch=1h sync-timeout=20m max-ahead=5",
		"account alice 1000WAL",
		"account n1-op 1WAL", "account n2-op 1WAL", "account n3-op 1WAL", "account n4-op 1WAL",
		"node n1 stake=100WAL", "node n2 stake=100WAL", "node n3 stake=100WAL", "node n4 stake=100WAL")
	run("block", "alice reserve 1MiB 5 as=s1")
	run("advance 1h step=30m")
	sys := env.system()
	if sys.Epoch != 1 || sys.EpochState != StateEpochChangeSync {
		t.Fatalf("not in the change to epoch 1: %+v", sys)
	}
	if want := sys.Time + int64(20*time.Minute); sys.SyncDeadline != want {
		t.Fatalf("sync deadline %d, want %d", sys.SyncDeadline, want)
	}
	cmt, _ := getCommittee(env.store, 1)

	// The laggards: the members holding the most shards, until they hold more than a third.
	laggards := map[string]bool{}
	held := 0
	for held*3 <= int(cmt.NShards) {
		best := -1
		for i, m := range cmt.Members {
			if !laggards[env.names[m.NodeID]] && (best < 0 || len(m.Shards) > len(cmt.Members[best].Shards)) {
				best = i
			}
		}
		laggards[env.names[cmt.Members[best].NodeID]] = true
		held += len(cmt.Members[best].Shards)
	}
	var syncs []string
	for _, m := range cmt.Members {
		if n := env.names[m.NodeID]; !laggards[n] {
			syncs = append(syncs, n+"-op sync-done "+n)
		}
	}
	run("block", syncs...)
	before := map[string]Pool{}
	for _, m := range cmt.Members {
		before[env.names[m.NodeID]] = pool(env.names[m.NodeID])
	}

	// Just before the deadline the change is still open; the first block at or after it
	// completes the change.
	deadline := env.system().SyncDeadline
	run("block +" + time.Duration(deadline-env.now-1).String())
	if sys := env.system(); sys.EpochState != StateEpochChangeSync {
		t.Fatalf("change completed before the deadline: %+v", sys)
	}
	if out := run("block +1ns"); !strings.Contains(out, "EpochChangeDone epoch=1") {
		t.Fatalf("no EpochChangeDone at the deadline:\n%s", out)
	}

	// Epoch 1 ends: only the members that synced in time are paid.
	burnedBefore := env.system().Burned
	out := run("advance 1h step=30m")
	if !strings.Contains(out, "EpochChangeStart epoch=2") {
		t.Fatalf("epoch 2 did not start:\n%s", out)
	}
	for name, b := range before {
		a := pool(name)
		paid := a.Wal > b.Wal || a.Commission > b.Commission
		if paid == laggards[name] {
			t.Errorf("%s (laggard %v): paid %v for epoch 1 (wal %d -> %d, commission %d -> %d)",
				name, laggards[name], paid, b.Wal, a.Wal, b.Commission, a.Commission)
		}
	}
	if env.system().Burned == burnedBefore {
		t.Errorf("nothing burned at the end of epoch 1")
	}

	// Later epochs proceed.
	run("sync-all")
	if out := run("advance 1h step=30m"); !strings.Contains(out, "EpochChangeStart epoch=3") {
		t.Fatalf("epoch 3 did not start:\n%s", out)
	}
}
