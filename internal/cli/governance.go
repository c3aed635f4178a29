package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/internal/base58"
	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
)

// governance propose|vote|list: committee members vote, weighted by shards, on proposals to
// change the governed parameters (docs/challenges.md); an accepted proposal applies at the
// next epoch start. propose and vote are sent by a node's operator wallet.

// proposalOutput is one proposal in governance's --json output.
type proposalOutput struct {
	ProposalID string              `json:"proposalId"`
	Epoch      uint32              `json:"epoch"`
	Proposer   string              `json:"proposer"`
	Changes    []paramChangeOutput `json:"changes"`
	Yes        uint32              `json:"yesShards"`
	No         uint32              `json:"noShards"`
	// Status is "open", "accepted", "rejected" or "applied".
	Status string `json:"status"`
	// ApplyEpoch is the epoch an accepted proposal applies at, ApplyTime its expected start
	// (RFC 3339 UTC).
	ApplyEpoch uint32 `json:"applyEpoch"`
	ApplyTime  string `json:"applyTime,omitempty"`
	TxDigest   string `json:"txDigest,omitempty"`
}

type paramChangeOutput struct {
	Name  string `json:"name"`
	Value uint64 `json:"value"`
}

// governanceListOutput is governance list's --json output.
type governanceListOutput struct {
	Epoch      uint32            `json:"epoch"`
	Parameters []parameterOutput `json:"parameters"`
	Proposals  []proposalOutput  `json:"proposals"`
}

type parameterOutput struct {
	Name        string `json:"name"`
	Value       uint64 `json:"value"`
	Description string `json:"description"`
}

func governanceCommand(ce *clientEnv) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "governance",
		Short: "Propose, vote on and list changes of the governed parameters",
		Long: "Committee members vote, weighted by their shards, on proposals to change named parameters\n" +
			"(challenge sample size, slashing rate, stake-shift penalty, price bounds, epoch duration) and\n" +
			"the protocol version. Members holding 2f+1 shards accept a proposal; it applies at the start\n" +
			"of the next epoch. Proposals are voted on in the epoch they are made in.",
	}
	cmd.AddCommand(governanceProposeCommand(ce), governanceVoteCommand(ce), governanceListCommand(ce))
	return cmd
}

// parseChanges parses NAME=VALUE operands; epoch-duration also takes a Go duration.
func parseChanges(args []string) ([]chain.ParamChange, error) {
	known := map[string]bool{}
	for _, g := range chain.GovernedParams() {
		known[g[0]] = true
	}
	var out []chain.ParamChange
	for _, a := range args {
		name, value, ok := strings.Cut(a, "=")
		if !ok {
			return nil, usageError{fmt.Errorf("%q: want NAME=VALUE", a)}
		}
		if !known[name] {
			return nil, withHint(usageError{fmt.Errorf("unknown parameter %q", name)}, "'walrus governance list' lists the parameters")
		}
		v, err := strconv.ParseUint(value, 10, 64)
		if err != nil && name == "epoch-duration" {
			d, derr := time.ParseDuration(value)
			if derr == nil && d > 0 {
				v, err = uint64(d), nil
			}
		}
		if err != nil {
			return nil, usageError{fmt.Errorf("%s: %q is not a number", name, value)}
		}
		out = append(out, chain.ParamChange{Name: name, Value: v})
	}
	return out, nil
}

func parseProposalID(s string) ([32]byte, error) {
	id, err := chain.ParseObjectID(s)
	if err != nil {
		return [32]byte{}, usageError{fmt.Errorf("invalid proposal ID %q: want 64 hex digits", s)}
	}
	return id, nil
}

func (s *session) proposalOutput(p chain.Proposal, clock epochClock) proposalOutput {
	out := proposalOutput{ProposalID: chain.ObjectID(p.ID).String(), Epoch: p.Epoch, Proposer: p.Proposer.String(),
		Changes: []paramChangeOutput{}, Yes: p.Yes, No: p.No, Status: p.Status.String(), ApplyEpoch: p.Epoch + 1}
	for _, c := range p.Changes {
		out.Changes = append(out.Changes, paramChangeOutput{Name: c.Name, Value: c.Value})
	}
	out.ApplyTime = clock.date(p.Epoch + 1)
	return out
}

func printProposal(ce *clientEnv, p proposalOutput) {
	var changes []string
	for _, c := range p.Changes {
		changes = append(changes, fmt.Sprintf("%s=%d", c.Name, c.Value))
	}
	fmt.Fprintf(ce.stdout, "Proposal %s (epoch %d, by node %s): %s\n", p.ProposalID, p.Epoch, p.Proposer, strings.Join(changes, " "))
	fmt.Fprintf(ce.stdout, "  %s: yes %d shards, no %d shards", p.Status, p.Yes, p.No)
	switch p.Status {
	case "accepted", "open":
		fmt.Fprintf(ce.stdout, "; applies at epoch %d (%s) if accepted", p.ApplyEpoch, p.ApplyTime)
	case "applied":
		fmt.Fprintf(ce.stdout, "; applied at epoch %d", p.ApplyEpoch)
	}
	fmt.Fprintln(ce.stdout)
}

// findProposal returns the proposal with the given ID among those of the current epoch.
func findProposal(ce *clientEnv, s *session, epoch uint32, id [32]byte) (chain.Proposal, bool, error) {
	props, err := s.chain.Proposals(ce.ctx, epoch)
	if err != nil {
		return chain.Proposal{}, false, explain(err, s)
	}
	for _, p := range props {
		if p.ID == id {
			return p, true, nil
		}
	}
	return chain.Proposal{}, false, nil
}

func governanceProposeCommand(ce *clientEnv) *cobra.Command {
	var nodeArg string
	cmd := &cobra.Command{
		Use:   "propose --node NODE_ID NAME=VALUE...",
		Short: "Propose new values of governed parameters (as a committee member's operator)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			node, err := parseObjectIDArg("--node", nodeArg)
			if err != nil {
				return err
			}
			changes, err := parseChanges(args)
			if err != nil {
				return err
			}
			s, err := ce.connect(ce.ctx, true)
			if err != nil {
				return err
			}
			defer s.close()
			id, res, err := s.chain.Propose(ce.ctx, s.signer, node, changes)
			if err != nil {
				return explainGovernance(err, s)
			}
			return printProposalTx(ce, s, id, res)
		},
	}
	cmd.Flags().StringVar(&nodeArg, "node", "", "node ID of the proposing committee member (the wallet must be its operator)")
	_ = cmd.MarkFlagRequired("node")
	return cmd
}

func governanceVoteCommand(ce *clientEnv) *cobra.Command {
	var nodeArg string
	cmd := &cobra.Command{
		Use:   "vote --node NODE_ID PROPOSAL_ID yes|no",
		Short: "Vote on a proposal of the current epoch (as a committee member's operator)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			node, err := parseObjectIDArg("--node", nodeArg)
			if err != nil {
				return err
			}
			id, err := parseProposalID(args[0])
			if err != nil {
				return err
			}
			var approve bool
			switch args[1] {
			case "yes":
				approve = true
			case "no":
			default:
				return usageError{fmt.Errorf("vote %q: want yes or no", args[1])}
			}
			s, err := ce.connect(ce.ctx, true)
			if err != nil {
				return err
			}
			defer s.close()
			res, err := s.chain.Vote(ce.ctx, s.signer, node, id, approve)
			if err != nil {
				return explainGovernance(err, s)
			}
			return printProposalTx(ce, s, id, res)
		},
	}
	cmd.Flags().StringVar(&nodeArg, "node", "", "node ID of the voting committee member (the wallet must be its operator)")
	_ = cmd.MarkFlagRequired("node")
	return cmd
}

func governanceListCommand(ce *clientEnv) *cobra.Command {
	var epochArg int64 = -1
	cmd := &cobra.Command{
		Use:   "list [--epoch N]",
		Short: "List the governed parameters and the proposals of the current (or a given) epoch",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if epochArg < -1 || epochArg > int64(^uint32(0)) {
				return usageError{fmt.Errorf("--epoch %d out of range", epochArg)}
			}
			s, err := ce.connect(ce.ctx, false)
			if err != nil {
				return err
			}
			defer s.close()
			clock, err := s.clock(ce.ctx)
			if err != nil {
				return err
			}
			epoch := clock.sys.Epoch
			if epochArg >= 0 {
				epoch = uint32(epochArg)
			}
			settings, err := s.chain.Settings(ce.ctx)
			if err != nil {
				return explain(err, s)
			}
			props, err := s.chain.Proposals(ce.ctx, epoch)
			if err != nil {
				return explain(err, s)
			}
			out := governanceListOutput{Epoch: epoch, Parameters: []parameterOutput{}, Proposals: []proposalOutput{}}
			for _, g := range chain.GovernedParams() {
				v, _ := settings.GovernedValue(g[0])
				out.Parameters = append(out.Parameters, parameterOutput{Name: g[0], Value: v, Description: g[1]})
			}
			for _, p := range props {
				out.Proposals = append(out.Proposals, s.proposalOutput(p, clock))
			}
			if ce.json {
				return ce.printJSON(out)
			}
			fmt.Fprintln(ce.stdout, "Governed parameters:")
			for _, p := range out.Parameters {
				fmt.Fprintf(ce.stdout, "  %-24s %-16d %s\n", p.Name, p.Value, p.Description)
			}
			if len(out.Proposals) == 0 {
				fmt.Fprintf(ce.stdout, "No proposals in epoch %d.\n", epoch)
				return nil
			}
			fmt.Fprintf(ce.stdout, "Proposals of epoch %d:\n", epoch)
			for _, p := range out.Proposals {
				printProposal(ce, p)
			}
			return nil
		},
	}
	cmd.Flags().Int64Var(&epochArg, "epoch", -1, "list the proposals of this epoch (default: the current one)")
	return cmd
}

// explainGovernance adds hints to the chain's refusals of proposals and votes.
func explainGovernance(err error, s *session) error {
	switch {
	case errors.Is(err, chain.ErrNotOperator):
		return withHint(explain(err, s), "use the wallet of the node's operator (--wallet)")
	case errors.Is(err, chain.ErrNotCommitteeMember):
		return withHint(explain(err, s), "only members of the current committee propose and vote")
	case errors.Is(err, chain.ErrUnknownProposal), errors.Is(err, chain.ErrProposalClosed):
		return withHint(explain(err, s), "'walrus governance list' lists the proposals open in this epoch")
	case errors.Is(err, chain.ErrChallengesDisabled):
		return withHint(explain(err, s), "this chain has no storage challenges; their parameters cannot be governed")
	}
	return explain(err, s)
}

// printProposalTx prints proposal id as it stands after the transaction res (a proposal or
// a vote), with the transaction's digest.
func printProposalTx(ce *clientEnv, s *session, id [32]byte, res *chainclient.TxResult) error {
	clock, err := s.clock(ce.ctx)
	if err != nil {
		return err
	}
	p, _, err := findProposal(ce, s, clock.sys.Epoch, id)
	if err != nil {
		return err
	}
	out := s.proposalOutput(p, clock)
	out.TxDigest = base58.Encode(res.Digest[:])
	if ce.json {
		return ce.printJSON(out)
	}
	printProposal(ce, out)
	fmt.Fprintf(ce.stdout, "Transaction digest: %s\n", out.TxDigest)
	return nil
}
