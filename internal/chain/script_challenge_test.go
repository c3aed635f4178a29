package chain

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Script commands and operations of storage challenges and governance (see script_test.go).
//
// Genesis options: challenges (enable with the defaults), samples=N, fail-limit=K,
// slash=BP, min-epochs=M, penalty=BP, penalty-burn=BP.
//
// Commands:
//
//	reveal-all [except=a,b]     a block in which every current member except those reveals
//	attest-all [except=a,b]     a block with a challenge certificate for every member except those
//	challenge [epoch=N] [node=X]  the challenge state (and X's items)
//	settings | proposals [epoch=N]

// challengeGenesis applies the genesis options of challenges to p.
func (e *scriptEnv) challengeGenesis(a *args, p *Params) {
	if a.flag("challenges") {
		p.Challenge = DefaultChallengeParams()
	}
	opt := func(k string, set func(uint32)) {
		if v, ok := a.opt(k); ok {
			set(e.u32(v))
		}
	}
	c := &p.Challenge
	opt("samples", func(v uint32) { c.SampleSize = v })
	opt("fail-limit", func(v uint32) { c.FailureLimit = v })
	opt("slash", func(v uint32) { c.SlashBasisPoints = uint16(v) })
	opt("min-epochs", func(v uint32) { c.StakeMinEpochs = v })
	opt("penalty", func(v uint32) { c.StakePenaltyBasisPoints = uint16(v) })
	opt("penalty-burn", func(v uint32) { c.StakePenaltyBurnBasisPoints = uint16(v) })
}

// members returns the names of the current committee's members not in the except option.
func (e *scriptEnv) members(a *args) []*testNode {
	var except []string
	if v, ok := a.opt("except"); ok {
		except = strings.Split(v, ",")
	}
	sys := e.system()
	cmt, _ := getCommittee(e.store, sys.Epoch)
	var out []*testNode
	for _, m := range cmt.Members {
		n := e.nodes[e.names[m.NodeID]]
		if !slices.Contains(except, n.name) {
			out = append(out, n)
		}
	}
	return out
}

func (e *scriptEnv) challengeCommand(cmd string, a *args) bool {
	switch cmd {
	case "reveal-all":
		var body []string
		for _, n := range e.members(a) {
			body = append(body, fmt.Sprintf("%s reveal %s", n.operator, n.name))
		}
		e.block(int64(time.Second), body)
	case "attest-all":
		var body []string
		for _, n := range e.members(a) {
			body = append(body, fmt.Sprintf("alice attest %s", n.name))
		}
		e.block(int64(time.Second), body)
	case "challenge":
		r := ChallengeRequest{Epoch: e.optEpochOr(a, e.system().Epoch)}
		if v, ok := a.opt("node"); ok {
			r.HasNode, r.Node = true, e.object(v)
		}
		out, err := e.app.Query(QueryChallenge, r.Encode())
		if err != nil {
			e.printf("error: %v\n", e.nameIDs(err.Error()))
			return true
		}
		st, err := DecodeChallengeState(out)
		if err != nil {
			e.fatalf("%v", err)
		}
		e.printf("epoch=%d phase=%s start=+%s reveal-deadline=+%s blobs=%d samples=%d revealed=%d seed=%x\n",
			st.Epoch, st.Phase, time.Duration(st.Start-genesisTime), time.Duration(st.RevealDeadline-genesisTime),
			st.Blobs, st.SampleSize, st.Revealed, st.Seed[:4])
		for _, m := range st.Members {
			e.printf("  %s shards=%d revealed=%v passed=%v consecutive=%d\n", e.name32(m.Node), m.Shards, m.Revealed, m.Passed, m.Consecutive)
		}
		for _, it := range st.Items {
			e.printf("  item blob=%s shard=%d axis=%d symbol=%d\n", e.name32(it.Blob), it.Shard, it.Axis, it.Symbol)
		}
	case "settings":
		out, err := e.app.Query(QuerySettings, nil)
		if err != nil {
			e.fatalf("%v", err)
		}
		s, err := DecodeSettings(out)
		if err != nil {
			e.fatalf("%v", err)
		}
		for _, g := range GovernedParams() {
			v, _ := s.GovernedValue(g[0])
			e.printf("%s=%d ", g[0], v)
		}
		e.printf("\n")
	case "proposals":
		out, err := e.app.Query(QueryProposals, be32le(e.optEpochOr(a, e.system().Epoch)))
		if err != nil {
			e.fatalf("%v", err)
		}
		l, err := DecodeProposalList(out)
		if err != nil {
			e.fatalf("%v", err)
		}
		for _, p := range l.Proposals {
			e.printf("%s: epoch=%d proposer=%s changes=%s yes=%d no=%d status=%s\n", e.name32(p.ID), p.Epoch,
				e.name32(p.Proposer), formatChanges(p.Changes), p.Yes, p.No, p.Status)
		}
		if len(l.Proposals) == 0 {
			e.printf("(none)\n")
		}
	default:
		return false
	}
	return true
}

// challengePayload builds the operations:
//
//	reveal NODE [epoch=N] [wrong-epoch] [impostor]   NODE's reveal (signed over another epoch, or with another key)
//	attest NODE [epoch=N] [signers=a,b] [impostor=X] [bitmap=HEX] [signed-for=Y] [signed-epoch=N]
//	    a challenge certificate for NODE (its signatures made over Y's or epoch N's message)
//	propose NODE NAME=VALUE... [as=P]                a proposal (its ID is named P)
//	vote NODE PROPOSAL yes|no
func (e *scriptEnv) challengePayload(op string, a *args) (Payload, []string, bool) {
	sys := mustSystem(e.app.pending())
	switch op {
	case "reveal":
		n := e.node(e.arg(a, 0))
		epoch := e.optEpochOr(a, sys.Epoch)
		msgEpoch := epoch
		if a.flag("wrong-epoch") {
			msgEpoch++
		}
		sk := n.sk
		if a.flag("impostor") {
			sk = testBLSKey(e.t, "impostor-"+n.name)
		}
		sig := sk.Sign(ChallengeRevealMessage(e.app.params.ChainID, msgEpoch))
		return &ChallengeReveal{Node: e.object(n.name), Epoch: epoch, Signature: sig.Bytes()}, nil, true
	case "attest":
		node := e.object(e.arg(a, 0))
		epoch := e.optEpochOr(a, sys.Epoch)
		signed, signedEpoch := node, epoch
		if v, ok := a.opt("signed-for"); ok { // the attestations are about another node
			signed = e.object(v)
		}
		if v, ok := a.opt("signed-epoch"); ok { // the attestations are about another epoch
			signedEpoch = e.u32(v)
		}
		cert := e.certificate(a, ChallengePassedMessage(signedEpoch, signed))
		return &ChallengeCertificate{Epoch: epoch, Node: node, Signers: cert.Signers, Signature: cert.Signature}, nil, true
	case "propose":
		var changes []ParamChange
		var names []string
		for k := range a.opts { // sorted below
			if !slices.Contains([]string{"as", "nonce", "fee", "chain"}, k) {
				names = append(names, k)
			}
		}
		slices.Sort(names)
		for _, k := range names {
			v, _ := a.opt(k)
			x, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				d, derr := time.ParseDuration(v)
				if derr != nil {
					e.fatalf("bad value %q", v)
				}
				x = uint64(d)
			}
			changes = append(changes, ParamChange{Name: k, Value: x})
		}
		return &GovernancePropose{Node: e.object(e.arg(a, 0)), Changes: changes}, e.as(a, ""), true
	case "vote":
		prop := e.object(e.arg(a, 1))
		return &GovernanceVote{Node: e.object(e.arg(a, 0)), Proposal: prop, Approve: e.arg(a, 2) == "yes"}, nil, true
	}
	return nil, nil, false
}

// checkChallengeIndex checks the challenge index: the ranks count exactly the indexed
// positions not pending insertion, each once and with its blob, and none of them has
// expired.
func checkChallengeIndex(kv Store) error {
	sys := mustSystem(kv)
	var indexed, pending uint64
	var err error
	iteratePrefix(kv, []byte(prefixIndexed), func(k, v []byte) bool {
		ib, derr := decodeBCS[IndexedBlob](v)
		if derr != nil {
			err = derr
			return false
		}
		pos := k[len(prefixIndexed):]
		if _, ok := kv.Get(key(prefixIndexNew, pos)); ok {
			pending++
		} else if ib.EndEpoch <= sys.Epoch {
			err = fmt.Errorf("challenge index counts %s, expired at epoch %d", ib.Object, ib.EndEpoch)
			return false
		} else {
			r, ok := get[u64Value](kv, key(prefixRankOf, pos))
			rb, _ := get[RankedBlob](kv, keyRank(r.v))
			if !ok || rb.Position != binary.BigEndian.Uint64(pos) || rb.BlobID != ib.BlobID {
				err = fmt.Errorf("challenge index: %s is not at its rank (%v, %+v)", ib.Object, ok, rb)
				return false
			}
		}
		indexed++
		return true
	})
	if err != nil {
		return err
	}
	if total := indexTotal(kv); total != indexed-pending {
		return fmt.Errorf("challenge index: %d ranks, %d positions counted", total, indexed-pending)
	}
	return nil
}
