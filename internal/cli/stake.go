package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/internal/base58"
	"github.com/walrus-go/walrus/internal/chain"
)

// stakeOutput is one stake of stake's --json output.
type stakeOutput struct {
	StakedWalID     string `json:"stakedWalId"`
	NodeID          string `json:"nodeId"`
	Amount          uint64 `json:"amount"`
	ActivationEpoch uint32 `json:"activationEpoch"`
}

func stakeCommand(ce *clientEnv) *cobra.Command {
	var nodeIDs []string
	var amountArgs []string
	cmd := &cobra.Command{
		Use:   "stake --node-ids ID... [--amounts FROST...]",
		Short: "Stake WAL with storage nodes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(nodeIDs) == 0 {
				return usageError{errors.New("--node-ids: give at least one node ID")}
			}
			amounts := []uint64{chain.FrostPerWAL}
			if len(amountArgs) > 0 {
				amounts = amounts[:0]
				for _, a := range amountArgs {
					v, err := strconv.ParseUint(a, 10, 64)
					if err != nil {
						return usageError{fmt.Errorf("--amounts %q: want a number of FROST", a)}
					}
					amounts = append(amounts, v)
				}
			}
			if len(amounts) != 1 && len(amounts) != len(nodeIDs) {
				return usageError{fmt.Errorf("%d amounts for %d nodes: give one amount, or one per node", len(amounts), len(nodeIDs))}
			}
			nodes := make([]chain.ObjectID, len(nodeIDs))
			for i, s := range nodeIDs {
				id, err := chain.ParseObjectID(s)
				if err != nil {
					return usageError{fmt.Errorf("invalid node ID %q: want 64 hex digits", s)}
				}
				nodes[i] = id
			}
			for _, a := range amounts {
				if a == 0 {
					return usageError{errors.New("--amounts: a stake must be more than 0 FROST")}
				}
			}
			s, err := ce.connect(ce.ctx, true)
			if err != nil {
				return err
			}
			defer s.close()
			var out []stakeOutput
			for i, node := range nodes {
				amount := amounts[0]
				if len(amounts) > 1 {
					amount = amounts[i]
				}
				sw, err := s.client.Stake(ce.ctx, node, amount)
				if err != nil {
					return explain(err, s)
				}
				out = append(out, stakeOutput{StakedWalID: sw.ID.String(), NodeID: sw.NodeID.String(), Amount: sw.Principal, ActivationEpoch: sw.ActivationEpoch})
				if !ce.json {
					fmt.Fprintf(ce.stdout, "Staked %s with node %s: StakedWal %s, active from epoch %d\n",
						humanWAL(sw.Principal), sw.NodeID, sw.ID, sw.ActivationEpoch)
				}
			}
			if ce.json {
				return ce.printJSON(out)
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&nodeIDs, "node-ids", nil, "storage node IDs to stake with")
	cmd.Flags().StringSliceVar(&amountArgs, "amounts", nil, "amounts in FROST, one for all nodes or one per node (default 1 WAL)")
	return cmd
}

// stakedWalJSON is a StakedWal in Walrus's JSON form (its Rust field names): state is
// "Staked" or {"Withdrawing": epoch}.
type stakedWalJSON struct {
	ID              string         `json:"id"`
	State           stakedWalState `json:"state"`
	NodeID          string         `json:"node_id"`
	Principal       uint64         `json:"principal"`
	ActivationEpoch uint32         `json:"activation_epoch"`
}

// stakedWalState is "Staked" or {"Withdrawing": epoch} in JSON.
type stakedWalState struct {
	withdrawing bool
	epoch       uint32
}

// MarshalJSON implements json.Marshaler.
func (s stakedWalState) MarshalJSON() ([]byte, error) {
	if !s.withdrawing {
		return json.Marshal("Staked")
	}
	return json.Marshal(map[string]uint32{"Withdrawing": s.epoch})
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *stakedWalState) UnmarshalJSON(b []byte) error {
	var name string
	if json.Unmarshal(b, &name) == nil {
		if name != "Staked" {
			return fmt.Errorf("staked WAL state %q", name)
		}
		*s = stakedWalState{}
		return nil
	}
	var w struct {
		Withdrawing *uint32 `json:"Withdrawing"`
	}
	if err := json.Unmarshal(b, &w); err != nil || w.Withdrawing == nil {
		return fmt.Errorf("staked WAL state %s: want \"Staked\" or {\"Withdrawing\": epoch}", b)
	}
	*s = stakedWalState{withdrawing: true, epoch: *w.Withdrawing}
	return nil
}

func newStakedWalJSON(sw *chain.StakedWal) stakedWalJSON {
	return stakedWalJSON{ID: sw.ID.String(), State: stakedWalState{withdrawing: sw.Withdrawing, epoch: sw.WithdrawEpoch},
		NodeID: sw.NodeID.String(), Principal: sw.Principal, ActivationEpoch: sw.ActivationEpoch}
}

// describeStakedWal is the human form of a StakedWal.
func describeStakedWal(sw *chain.StakedWal, clock epochClock) string {
	state := "staked"
	if sw.Withdrawing {
		state = "withdrawing, withdrawable from epoch " + clock.endEpoch(sw.WithdrawEpoch)
		if sw.WithdrawEpoch <= clock.sys.Epoch {
			state = fmt.Sprintf("withdrawing, withdrawable now (since epoch %d)", sw.WithdrawEpoch)
		}
	}
	return fmt.Sprintf("StakedWal %s\n  node: %s\n  principal: %s\n  activation epoch: %d\n  state: %s\n",
		sw.ID, sw.NodeID, humanWAL(sw.Principal), sw.ActivationEpoch, state)
}

// listStakedWalOutput is list-staked-wal's --json output (Walrus's ListStakedWalOutput).
type listStakedWalOutput struct {
	StakedWals []stakedWalJSON `json:"stakedWals"`
}

func listStakedWalCommand(ce *clientEnv) *cobra.Command {
	var stakedOnly, withdrawingOnly bool
	cmd := &cobra.Command{
		Use:   "list-staked-wal [--staked-only | --withdrawing-only]",
		Short: "List the StakedWal objects the wallet owns",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if stakedOnly && withdrawingOnly {
				return usageError{errors.New("give either --staked-only or --withdrawing-only, not both")}
			}
			s, err := ce.connect(ce.ctx, true)
			if err != nil {
				return err
			}
			defer s.close()
			all, err := s.client.StakedWals(ce.ctx)
			if err != nil {
				return explain(err, s)
			}
			out := listStakedWalOutput{StakedWals: []stakedWalJSON{}}
			var shown []*chain.StakedWal
			for _, sw := range all {
				if (stakedOnly && sw.Withdrawing) || (withdrawingOnly && !sw.Withdrawing) {
					continue
				}
				shown = append(shown, sw)
				out.StakedWals = append(out.StakedWals, newStakedWalJSON(sw))
			}
			if ce.json {
				return ce.printJSON(out)
			}
			if len(shown) == 0 {
				fmt.Fprintln(ce.stdout, "No StakedWal objects found in this wallet.")
				return nil
			}
			clock, err := s.clock(ce.ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(ce.stdout, "Found %s:\n", plural(len(shown), "StakedWal object", "StakedWal objects"))
			for _, sw := range shown {
				fmt.Fprint(ce.stdout, describeStakedWal(sw, clock))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&stakedOnly, "staked-only", false, "only stakes not being withdrawn")
	cmd.Flags().BoolVar(&withdrawingOnly, "withdrawing-only", false, "only stakes being withdrawn")
	return cmd
}

// requestWithdrawOutput is request-withdraw-stake's --json output (Walrus's
// RequestWithdrawStakeOutput, with the dry-run and list forms carrying only stakedWals).
// Each StakedWal is withdrawn by its own transaction: txDigest is the last one's,
// txDigests all of them.
type requestWithdrawOutput struct {
	StakedWals []stakedWalJSON `json:"stakedWals"`
	TxDigest   string          `json:"txDigest,omitempty"`
	TxDigests  []string        `json:"txDigests,omitempty"`
	// PaidBack is the FROST paid back at once for stake that was not active yet.
	PaidBack uint64 `json:"paidBack,omitempty"`
}

func requestWithdrawStakeCommand(ce *clientEnv) *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "request-withdraw-stake NODE_ID [STAKED_WAL_ID...] [--dry-run]",
		Short: "Request to withdraw staked WAL from a storage node",
		Long: "Start withdrawing the wallet's stake with a storage node. With only the node ID, the wallet's\n" +
			"one StakedWal for that node is withdrawn; if there are several, they are listed and their IDs\n" +
			"must be given. Stake that is not active yet is paid back at once; active stake can be\n" +
			"withdrawn with 'walrus withdraw-stake' from the epoch the request names.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			node, err := parseObjectIDArg("NODE_ID", args[0])
			if err != nil {
				return err
			}
			want, err := parseObjectIDArgs("STAKED_WAL_ID", args[1:])
			if err != nil {
				return err
			}
			s, err := ce.connect(ce.ctx, true)
			if err != nil {
				return err
			}
			defer s.close()
			all, err := s.client.StakedWals(ce.ctx)
			if err != nil {
				return explain(err, s)
			}
			var staked []*chain.StakedWal
			for _, sw := range all {
				if sw.NodeID == node && !sw.Withdrawing {
					staked = append(staked, sw)
				}
			}
			if len(staked) == 0 {
				return withHint(fmt.Errorf("the wallet has no stake with node %s that is not being withdrawn already", node), "'walrus list-staked-wal' lists the wallet's stakes")
			}
			targets := staked
			if len(want) > 0 {
				targets = nil
				for _, id := range want {
					i := indexStaked(staked, id)
					if i < 0 {
						return withHint(fmt.Errorf("StakedWal %s: the wallet has no such stake with node %s that is not being withdrawn already", id, node), "'walrus list-staked-wal' lists the wallet's stakes")
					}
					targets = append(targets, staked[i])
				}
			} else if len(staked) > 1 {
				out := requestWithdrawOutput{}
				for _, sw := range staked {
					out.StakedWals = append(out.StakedWals, newStakedWalJSON(sw))
				}
				if ce.json {
					if err := ce.printJSON(out); err != nil {
						return err
					}
				} else {
					clock, err := s.clock(ce.ctx)
					if err != nil {
						return err
					}
					fmt.Fprintf(ce.stdout, "The wallet has %d StakedWal objects with node %s:\n", len(staked), node)
					for _, sw := range staked {
						fmt.Fprint(ce.stdout, describeStakedWal(sw, clock))
					}
				}
				return usageError{withHint(fmt.Errorf("%d StakedWal objects with node %s: say which to withdraw", len(staked), node),
					"give their IDs after the node ID")}
			}
			out := requestWithdrawOutput{}
			for _, sw := range targets {
				out.StakedWals = append(out.StakedWals, newStakedWalJSON(sw))
			}
			clock, err := s.clock(ce.ctx)
			if err != nil {
				return err
			}
			if dryRun {
				if ce.json {
					return ce.printJSON(out)
				}
				fmt.Fprintf(ce.stdout, "Dry run: would request the withdrawal of %s:\n", plural(len(targets), "StakedWal object", "StakedWal objects"))
				for _, sw := range targets {
					fmt.Fprint(ce.stdout, describeStakedWal(sw, clock))
				}
				return nil
			}
			txs, err := s.client.RequestWithdrawStake(ce.ctx, targets)
			for _, tx := range txs {
				out.TxDigests = append(out.TxDigests, base58.Encode(tx.Digest[:]))
				out.TxDigest = out.TxDigests[len(out.TxDigests)-1]
				out.PaidBack += tx.Paid
				if !ce.json {
					if tx.PaidOut {
						fmt.Fprintf(ce.stdout, "StakedWal %s was not active yet: %s paid back to the wallet.\n", tx.StakedWal.ID, humanWAL(tx.Paid))
					} else {
						fmt.Fprintf(ce.stdout, "Requested the withdrawal of StakedWal %s: withdraw it with 'walrus withdraw-stake' from epoch %s.\n",
							tx.StakedWal.ID, clock.endEpoch(tx.WithdrawEpoch))
					}
				}
			}
			if err != nil {
				if ce.json && len(txs) > 0 {
					_ = ce.printJSON(out)
				}
				return explain(err, s)
			}
			if ce.json {
				return ce.printJSON(out)
			}
			fmt.Fprintf(ce.stdout, "Transaction digest: %s\n", out.TxDigest)
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only print what would be withdrawn")
	return cmd
}

func indexStaked(l []*chain.StakedWal, id chain.ObjectID) int {
	for i, sw := range l {
		if sw.ID == id {
			return i
		}
	}
	return -1
}

// withdrawStakeOutput is withdraw-stake's --json output (Walrus's WithdrawStakeOutput);
// txDigest is the last transaction's, txDigests all of them (one per StakedWal).
type withdrawStakeOutput struct {
	StakedWalIDs []string `json:"stakedWalIds"`
	TxDigest     string   `json:"txDigest"`
	TxDigests    []string `json:"txDigests"`
	// Amount is the FROST paid out to the wallet.
	Amount uint64 `json:"amount"`
	// Penalty (ours) is the stake-shift penalty kept back, in FROST: stake withdrawn after
	// fewer active epochs than the chain's minimum pays it (docs/challenges.md).
	Penalty uint64 `json:"penalty"`
}

func withdrawStakeCommand(ce *clientEnv) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "withdraw-stake STAKED_WAL_ID...",
		Short: "Withdraw staked WAL whose withdrawal was requested",
		Long: "Pay out StakedWal objects whose withdrawal was requested ('walrus request-withdraw-stake') and\n" +
			"whose withdrawal epoch has come: the principal plus the rewards of the epochs it served.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ids, err := parseObjectIDArgs("STAKED_WAL_ID", args)
			if err != nil {
				return err
			}
			s, err := ce.connect(ce.ctx, true)
			if err != nil {
				return err
			}
			defer s.close()
			clock, err := s.clock(ce.ctx)
			if err != nil {
				return err
			}
			var targets []*chain.StakedWal
			for _, id := range ids {
				sw, err := s.client.StakedWal(ce.ctx, id)
				switch {
				case errors.Is(err, chain.ErrNotFound):
					return withHint(fmt.Errorf("no StakedWal %s (never staked, or already withdrawn)", id), "'walrus list-staked-wal' lists the wallet's stakes")
				case err != nil:
					return explain(err, s)
				case sw.Owner != s.signer.Address():
					return fmt.Errorf("StakedWal %s is not owned by the wallet %s", id, s.signer.Address())
				case sw.Withdrawing && sw.WithdrawEpoch > clock.sys.Epoch:
					return fmt.Errorf("StakedWal %s can be withdrawn from epoch %s; the current epoch is %d", id, clock.endEpoch(sw.WithdrawEpoch), clock.sys.Epoch)
				}
				targets = append(targets, sw)
			}
			txs, err := s.client.WithdrawStake(ce.ctx, targets)
			out := withdrawStakeOutput{StakedWalIDs: []string{}, TxDigests: []string{}}
			for _, tx := range txs {
				out.StakedWalIDs = append(out.StakedWalIDs, tx.StakedWal.ID.String())
				out.TxDigests = append(out.TxDigests, base58.Encode(tx.Digest[:]))
				out.TxDigest = out.TxDigests[len(out.TxDigests)-1]
				out.Amount += tx.Paid
				out.Penalty += tx.Penalty
				if !ce.json {
					fmt.Fprintf(ce.stdout, "Withdrew StakedWal %s: %s paid to the wallet.\n", tx.StakedWal.ID, humanWAL(tx.Paid))
					if tx.Penalty > 0 {
						fmt.Fprintf(ce.stdout, "Stake-shift penalty: %s kept back (the stake was active for %d epochs, fewer than the minimum).\n",
							humanWAL(tx.Penalty), tx.ActiveEpochs)
					}
				}
			}
			if err != nil {
				if ce.json && len(txs) > 0 {
					_ = ce.printJSON(out)
				}
				if errors.Is(err, chain.ErrNotWithdrawable) {
					return withHint(explain(err, s), "request the withdrawal first with 'walrus request-withdraw-stake NODE_ID STAKED_WAL_ID'")
				}
				return explain(err, s)
			}
			if ce.json {
				return ce.printJSON(out)
			}
			fmt.Fprintf(ce.stdout, "Transaction digest: %s\n", out.TxDigest)
			return nil
		},
	}
	return cmd
}
