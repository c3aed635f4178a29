package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/testnet"
)

// TestCLIStakeCommands stakes, lists, requests withdrawals and withdraws on a network with
// short epochs: stake not counted yet is paid back at once, counted stake becomes
// withdrawable at its withdrawal epoch. Bad input: unknown and foreign stakes, malformed
// IDs, early withdrawal, an ambiguous request.
func TestCLIStakeCommands(t *testing.T) {
	n := newCLINet(t, testnet.Options{EpochDuration: 10 * time.Second})
	other := secondWallet(t, n, "staker")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cfg := []string{"--config", n.config}
	c := func(args ...string) []string { return append(append([]string{}, cfg...), args...) }

	out, _, code := n.walrus(t, "list-staked-wal")
	if code != 0 || !strings.Contains(string(out), "No StakedWal objects found") {
		t.Fatalf("list-staked-wal of a wallet without stakes: %d %q", code, out)
	}
	out, errs, code := n.walrus(t, "health", "--json")
	var h healthOutput
	if code != 0 || json.Unmarshal(out, &h) != nil || len(h.HealthInfo) == 0 {
		t.Fatalf("health: %d %q %q", code, out, errs)
	}
	node := h.HealthInfo[0].NodeID
	stake := func() string {
		t.Helper()
		out, errs, code := n.walrus(t, "stake", "--json", "--node-ids", node, "--amounts", "2000000000")
		var s []stakeOutput
		if code != 0 || json.Unmarshal(out, &s) != nil || len(s) != 1 {
			t.Fatalf("stake: %d %q %q", code, out, errs)
		}
		return s[0].StakedWalID
	}
	list := func(args ...string) []stakedWalJSON {
		t.Helper()
		out, errs, code := n.walrus(t, append([]string{"list-staked-wal", "--json"}, args...)...)
		var l listStakedWalOutput
		if code != 0 || json.Unmarshal(out, &l) != nil {
			t.Fatalf("list-staked-wal: %d %q %q", code, out, errs)
		}
		return l.StakedWals
	}

	// Stake the selection has not counted yet is paid back at once. Whether a stake is
	// counted depends on where in the epoch it lands, so the network is first brought to
	// the start of an epoch (the selection happens mid-epoch).
	sys, err := n.Chain.System(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.WaitEpoch(ctx, sys.Epoch+1); err != nil {
		t.Fatal(err)
	}
	s1, s2 := stake(), stake()
	if l := list(); len(l) != 2 || l[0].NodeID != node || l[0].State.withdrawing {
		t.Fatalf("list-staked-wal after two stakes: %+v", l)
	}
	out, errs, code = n.walrus(t, "request-withdraw-stake", node)
	if code != 2 || !strings.Contains(errs, "2 StakedWal objects with node") || !strings.Contains(string(out), s1) || !strings.Contains(string(out), s2) {
		t.Fatalf("request-withdraw-stake with two stakes and no ID: %d %q %q", code, out, errs)
	}
	out, errs, code = n.walrus(t, "request-withdraw-stake", "--dry-run", node, s1)
	if code != 0 || !strings.Contains(string(out), "Dry run") {
		t.Fatalf("request-withdraw-stake --dry-run: %d %q %q", code, out, errs)
	}
	if l := list(); len(l) != 2 {
		t.Fatalf("a dry run withdrew: %+v", l)
	}
	wantFail(t, 2, "invalid object ID", c("request-withdraw-stake", "node")...)
	wantFail(t, 1, "no stake with node", c("request-withdraw-stake", "0x"+strings.Repeat("cd", 32))...)
	wantFail(t, 1, "no such stake", c("request-withdraw-stake", node, "0x"+strings.Repeat("cd", 32))...)
	wantFail(t, 1, "no stake with node", "--config", other, "request-withdraw-stake", node, s1)
	wantFail(t, 1, "is not owned by the wallet", "--config", other, "withdraw-stake", s1)
	wantFail(t, 1, "no StakedWal", c("withdraw-stake", "0x"+strings.Repeat("cd", 32))...)
	wantFail(t, 2, "requires at least 1 arg", c("withdraw-stake")...)

	sys, err = n.Chain.System(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out, errs, code = n.walrus(t, "request-withdraw-stake", "--json", node, s1)
	var rw requestWithdrawOutput
	if code != 0 || json.Unmarshal(out, &rw) != nil || len(rw.StakedWals) != 1 || rw.TxDigest == "" {
		t.Fatalf("request-withdraw-stake: %d %q %q", code, out, errs)
	}
	if sys.EpochState != chain.StateNextParamsSelected && rw.PaidBack != 2_000_000_000 {
		t.Fatalf("a stake made before the selection was not paid back at once: %+v", rw)
	}

	// Counted stake: once the selection counted s2, its withdrawal waits for an epoch.
	if err := n.WaitEpochState(ctx, sys.Epoch+1, chain.StateNextParamsSelected); err != nil {
		t.Fatal(err)
	}
	out, errs, code = n.walrus(t, "request-withdraw-stake", node, s2)
	if code != 0 || !strings.Contains(string(out), "withdraw it with 'walrus withdraw-stake' from epoch") {
		t.Fatalf("request-withdraw-stake of counted stake: %d %q %q", code, out, errs)
	}
	l := list("--withdrawing-only")
	if len(l) != 1 || l[0].ID != s2 || !l[0].State.withdrawing {
		t.Fatalf("list-staked-wal --withdrawing-only: %+v", l)
	}
	raw, _, _ := n.walrus(t, "list-staked-wal", "--json")
	if !strings.Contains(string(raw), `"state": {`+"\n"+`        "Withdrawing": `) {
		t.Fatalf("a withdrawing stake's state is not Walrus's {\"Withdrawing\": epoch}: %s", raw)
	}
	if len(list("--staked-only")) != 0 {
		t.Fatal("list-staked-wal --staked-only lists a withdrawing stake")
	}
	wantFail(t, 2, "either --staked-only or --withdrawing-only", c("list-staked-wal", "--staked-only", "--withdrawing-only")...)
	wantFail(t, 1, "not being withdrawn already", c("request-withdraw-stake", node, s2)...)
	w := l[0].State.epoch
	before, err := n.Chain.System(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, errs, code = n.walrus(t, "withdraw-stake", s2)
	after, err := n.Chain.System(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if before.Epoch < w && after.Epoch < w && (code != 1 || !strings.Contains(errs, "can be withdrawn from epoch")) {
		t.Fatalf("early withdraw-stake: %d %q", code, errs)
	}
	if code != 0 {
		if err := n.WaitEpoch(ctx, w); err != nil {
			t.Fatal(err)
		}
		out, errs, code = n.walrus(t, "withdraw-stake", "--json", s2)
		var wo withdrawStakeOutput
		if code != 0 || json.Unmarshal(out, &wo) != nil || len(wo.StakedWalIDs) != 1 || wo.StakedWalIDs[0] != s2 || wo.Amount < 2_000_000_000 {
			t.Fatalf("withdraw-stake: %d %q %q", code, out, errs)
		}
	}
	if l := list(); len(l) != 0 {
		t.Fatalf("stakes left after withdrawing all: %+v", l)
	}
}
