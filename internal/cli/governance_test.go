package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walrus-go/walrus/internal/testvec"
)

// TestGovernanceCommands runs a one-validator chain with storage challenges and drives
// governance through the CLI: list, propose, votes up to acceptance, and the refusals a user
// meets (a wallet that is not the operator, a closed proposal, an unknown parameter). It
// also checks the challenge section of info.
func TestGovernanceCommands(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "chain")
	rpc := testvec.FreeAddr(t)
	if out, errs, code := run(t, "chain", "init", "--home", home, "--challenges", "--addresses", testvec.FreeAddr(t), "--rpc-addresses", rpc); code != 0 {
		t.Fatalf("chain init: code %d, %q, %q", code, out, errs)
	}
	startTestValidator(t, home, rpc)

	out, errs, code := run(t, "info", "--rpc", rpc, "--json")
	var info infoOutput
	if code != 0 || json.Unmarshal([]byte(out), &info) != nil || info.CommitteeInfo == nil || info.ChallengeInfo == nil {
		t.Fatalf("info: code %d, %q, %q", code, out, errs)
	}
	if c := info.ChallengeInfo; !c.Enabled || c.Phase != "unchallenged" || c.Epoch != 0 || len(c.Members) != 4 || c.FailureLimit != 2 {
		t.Errorf("challenge info %+v", c)
	}
	if out, _, _ := run(t, "info", "challenge", "--rpc", rpc); !strings.Contains(out, "Epoch 0: unchallenged phase") {
		t.Errorf("info challenge:\n%s", out)
	}
	// Node IDs and operator wallets by name; shards decide who can reach 2f+1 (7 of 10).
	type member struct {
		id     string
		shards int
		wallet string
	}
	var members []member
	for _, n := range info.CommitteeInfo.CurrentStorageNodes {
		members = append(members, member{n.NodeID, n.NShards, filepath.Join(home, "storage-nodes", n.Name, "operator.json")})
	}

	out, _, code = run(t, "governance", "list", "--rpc", rpc, "--json")
	var list governanceListOutput
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil || len(list.Proposals) != 0 || len(list.Parameters) == 0 {
		t.Fatalf("list: code %d, %q", code, out)
	}

	p0 := members[0]
	out, errs, code = run(t, "governance", "propose", "--rpc", rpc, "--wallet", p0.wallet, "--node", p0.id, "--json",
		"protocol-version=2", "epoch-duration=2h")
	var prop proposalOutput
	if code != 0 || json.Unmarshal([]byte(out), &prop) != nil || prop.Status != "open" || prop.Yes != uint32(p0.shards) || len(prop.Changes) != 2 {
		t.Fatalf("propose: code %d, %q, %q", code, out, errs)
	}
	// Votes until the proposal is accepted.
	yes := p0.shards
	for _, m := range members[1:] {
		if 3*yes >= 2*10+1 {
			break
		}
		out, errs, code = run(t, "governance", "vote", "--rpc", rpc, "--wallet", m.wallet, "--node", m.id, "--json", prop.ProposalID, "yes")
		if code != 0 || json.Unmarshal([]byte(out), &prop) != nil {
			t.Fatalf("vote: code %d, %q, %q", code, out, errs)
		}
		yes += m.shards
	}
	if prop.Status != "accepted" || prop.ApplyEpoch != 1 || prop.ApplyTime == "" {
		t.Errorf("after the votes: %+v", prop)
	}
	out, _, _ = run(t, "governance", "list", "--rpc", rpc)
	if !strings.Contains(out, "accepted: yes") || !strings.Contains(out, "protocol-version") {
		t.Errorf("list:\n%s", out)
	}

	last := members[len(members)-1]
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"governance", "vote", "--wallet", p0.wallet, "--node", last.id, prop.ProposalID, "yes"}, 1, "hint: use the wallet of the node's operator"},
		{[]string{"governance", "vote", "--wallet", last.wallet, "--node", last.id, prop.ProposalID, "yes"}, 1, "proposal closed"},
		{[]string{"governance", "vote", "--wallet", last.wallet, "--node", last.id, prop.ProposalID, "maybe"}, 2, "want yes or no"},
		{[]string{"governance", "propose", "--wallet", last.wallet, "--node", last.id, "colour=3"}, 2, "unknown parameter"},
		{[]string{"governance", "propose", "--wallet", last.wallet, "--node", last.id, "challenge-slash-bps=20000"}, 1, "above 10000"},
		{[]string{"governance", "propose", "--wallet", last.wallet, "challenge-samples=3"}, 2, "required flag"},
	} {
		_, errs, code := run(t, append(tc.args, "--rpc", rpc)...)
		if code != tc.code || !strings.HasPrefix(errs, "walrus: error: ") || !strings.Contains(errs, tc.msg) {
			t.Errorf("%v: code %d, stderr %q; want code %d and %q", tc.args, code, errs, tc.code, tc.msg)
		}
	}
}
