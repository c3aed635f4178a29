package chain

import (
	"fmt"
	"strings"
	"testing"
)

// TestFlashStake is the attack of issue 11, finding 1, against the state machine: four honest
// nodes with 100 WAL each; the attacker registers pools, stakes 3,000 WAL in each before the
// selection of epoch 1 and tries to withdraw everything one block after it. The withdrawal is
// refused; the stake is counted for epoch 1, stays in the pools through epoch 1 and comes back
// (with epoch 1's rewards) only at epoch 2. No selected committee ever holds a pool without
// stake.
func TestFlashStake(t *testing.T) {
	for _, pools := range []int{3, 1} {
		t.Run(fmt.Sprintf("%d-pools", pools), func(t *testing.T) {
			testFlashStake(t, pools)
		})
	}
}

func testFlashStake(t *testing.T, pools int) {
	const stake = 3000 * FrostPerWAL
	env := newScriptEnv(t)
	env.out = &strings.Builder{}
	// run runs a script command, checks the invariants (supply, no stakeless committee
	// member) and returns its output.
	run := func(cmd string, body ...string) string {
		t.Helper()
		env.out.Reset()
		env.run(scriptCase{cmd: cmd, body: body})
		if err := env.invariants(); err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		return env.out.String()
	}
	// each returns one transaction line per attacker pool or stake.
	each := func(format string) []string {
		var l []string
		for i := 1; i <= pools; i++ {
			l = append(l, strings.ReplaceAll(format, "%d", fmt.Sprint(i)))
		}
		return l
	}
	balance := func() uint64 { return env.app.View().Account(env.account("mallory")).Balance }
	staked := func(i int) *StakedWal {
		t.Helper()
		o, err := env.app.View().Object(env.object(fmt.Sprintf("sw%d", i)))
		if err != nil {
			t.Fatalf("sw%d: %v", i, err)
		}
		return o.(*StakedWal)
	}
	attackerShards := func(epoch uint32) (shards int) {
		t.Helper()
		cmt, ok := getCommittee(env.store, epoch)
		if !ok {
			t.Fatalf("no committee for epoch %d", epoch)
		}
		for i := 1; i <= pools; i++ {
			shards += cmt.Weight(env.object(fmt.Sprintf("m%d", i)))
		}
		return shards
	}

	run("genesis shards=10 epoch=1h max-ahead=5",
		"account alice 1000WAL", fmt.Sprintf("account mallory %dWAL", 3000*pools+100),
		"account n1-op 1WAL", "account n2-op 1WAL", "account n3-op 1WAL", "account n4-op 1WAL",
		"node n1 stake=100WAL", "node n2 stake=100WAL", "node n3 stake=100WAL", "node n4 stake=100WAL")
	run("block", "alice reserve 1MiB 3 as=s1")
	run("block", append(each("mallory register-node m%d"), each("mallory stake m%d 3000WAL as=sw%d")...)...)
	if got := balance(); got >= 100*FrostPerWAL {
		t.Fatalf("attacker balance %d after staking", got)
	}
	run("advance 30m")
	if sys := env.system(); sys.Epoch != 0 || sys.EpochState != StateNextParamsSelected {
		t.Fatalf("not at the selection of epoch 1: %+v", sys)
	}
	counted := attackerShards(1)
	if counted < 4 {
		t.Fatalf("the attacker's pools hold %d shards of epoch 1, want at least 4 (the attack needs them)", counted)
	}

	// One block after the selection: withdraw everything.
	before := balance()
	out := run("block", each("mallory withdraw sw%d")...)
	if n := strings.Count(out, "error NotWithdrawable"); n != pools {
		t.Fatalf("%d of %d withdrawals refused:\n%s", n, pools, out)
	}
	if got := balance(); got != before-uint64(pools)*1000 {
		t.Fatalf("attacker balance %d after the refused withdrawals, want %d (fees only)", got, before-uint64(pools)*1000)
	}
	// Requesting is allowed; the stake is due at epoch 2, after it served epoch 1.
	out = run("block", each("mallory request-withdraw sw%d")...)
	if n := strings.Count(out, "withdraw-epoch=2"); n != pools {
		t.Fatalf("%d of %d requests for epoch 2:\n%s", n, pools, out)
	}
	for i := 1; i <= pools; i++ {
		if sw := staked(i); !sw.Withdrawing || sw.WithdrawEpoch != 2 || sw.Principal != stake {
			t.Fatalf("sw%d after the request: %+v", i, sw)
		}
	}

	// Epoch 1: the selected committee takes over; the attacker's stake is active in it.
	run("advance 30m")
	if sys := env.system(); sys.Epoch != 1 {
		t.Fatalf("epoch %d, want 1", sys.Epoch)
	}
	if got := attackerShards(1); got != counted {
		t.Fatalf("attacker shards %d, want %d", got, counted)
	}
	for i := 1; i <= pools; i++ {
		p, err := env.app.View().Pool(env.object(fmt.Sprintf("m%d", i)))
		if err != nil || p.Wal != stake {
			t.Fatalf("pool m%d in epoch 1: %+v, %v; want its %d FROST active", i, p, err, stake)
		}
	}
	before = balance()
	out = run("block", each("mallory withdraw sw%d")...)
	if n := strings.Count(out, "withdrawable from epoch 2"); n != pools {
		t.Fatalf("%d of %d withdrawals in epoch 1 refused:\n%s", n, pools, out)
	}
	if got := balance(); got != before-uint64(pools)*1000 || got >= 100*FrostPerWAL {
		t.Fatalf("attacker balance %d in epoch 1, want %d (fees only)", got, before-uint64(pools)*1000)
	}
	run("sync-all")

	// Epoch 2: the stake has left the committee and comes back with the rewards of epoch 1.
	run("advance 1h step=30m")
	if sys := env.system(); sys.Epoch != 2 {
		t.Fatalf("epoch %d, want 2", sys.Epoch)
	}
	if got := attackerShards(2); got != 0 {
		t.Fatalf("the attacker's withdrawn pools hold %d shards of epoch 2", got)
	}
	before = balance()
	out = run("block", each("mallory withdraw sw%d")...)
	if n := strings.Count(out, "StakeWithdrawn"); n != pools {
		t.Fatalf("%d of %d withdrawals in epoch 2:\n%s", n, pools, out)
	}
	if got, want := balance(), before+uint64(pools)*(stake-1000); got <= want {
		t.Fatalf("attacker balance %d after the withdrawals, want more than %d (principal and epoch 1 rewards)", got, want)
	}
}
