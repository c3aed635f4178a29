package cli

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/chain/chainclient"
	"github.com/walrus-go/walrus/internal/storagenode/daemon"
)

// nodeChallengeRow is one epoch of `walrus node challenges`.
type nodeChallengeRow struct {
	Epoch       uint32 `json:"epoch"`
	Phase       string `json:"phase"`
	Member      bool   `json:"member"`
	Revealed    bool   `json:"revealed"`
	Passed      bool   `json:"passed"`
	Blobs       uint64 `json:"challengedBlobs"`
	SampleSize  uint32 `json:"sampleSize"`
	Consecutive uint32 `json:"consecutiveFailures"`
}

// nodeChallengesOutput is the --json output of `walrus node challenges`.
type nodeChallengesOutput struct {
	NodeID string             `json:"nodeId"`
	Epochs []nodeChallengeRow `json:"epochs"`
}

func nodeChallengesCommand(e *env) *cobra.Command {
	var config, nodeID, rpc string
	var epochs uint32
	cmd := &cobra.Command{
		Use:   "challenges (--config FILE | --node-id ID --chain-rpc URL) [--epochs N]",
		Short: "List a storage node's challenge results by epoch",
		Long: "List the storage challenge results of a node for the last N epochs, as the chain\n" +
			"records them: the challenge's phase, whether the node revealed its seed share and\n" +
			"passed (a certificate of 2f+1 shards), and its count of consecutive failures now.\n" +
			"The node is the one configured by FILE (found by its BLS key in the current\n" +
			"committee) or the one with node ID ID.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runNodeChallenges(e, config, nodeID, rpc, epochs)
		},
	}
	f := cmd.Flags()
	f.StringVar(&config, "config", "", "storage node configuration file")
	f.StringVar(&nodeID, "node-id", "", "node ID (0x-prefixed hex) instead of --config")
	f.StringVar(&rpc, "chain-rpc", "", "chain validator JSON-RPC address (with --node-id)")
	f.Uint32Var(&epochs, "epochs", 10, "number of epochs to list, newest last")
	return cmd
}

func runNodeChallenges(e *env, config, nodeID, rpc string, epochs uint32) error {
	if (config == "") == (nodeID == "") {
		return usageError{errors.New("give either --config or --node-id")}
	}
	if epochs == 0 || epochs > 1000 {
		return usageError{fmt.Errorf("--epochs %d: 1 to 1000", epochs)}
	}
	var self *[48]byte
	var id chain.ObjectID
	if config != "" {
		cfg, err := loadNodeConfig(config)
		if err != nil {
			return err
		}
		key, err := daemon.LoadBLSKey(cfg.BLSKeyFile)
		if err != nil {
			return err
		}
		pk := key.PublicKey().Bytes()
		self, rpc = &pk, cfg.ChainRPC
	} else {
		var err error
		if id, err = chain.ParseObjectID(nodeID); err != nil {
			return usageError{fmt.Errorf("--node-id: %w", err)}
		}
		if rpc == "" {
			return usageError{errors.New("--node-id needs --chain-rpc")}
		}
	}
	c, err := chainclient.Dial(rpc, chainclient.Options{})
	if err != nil {
		return fmt.Errorf("chain rpc: %w", err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(e.ctx, chainTimeout)
	defer cancel()
	if self != nil {
		cmt, err := c.Committee(ctx)
		if err != nil {
			return withHint(err, "is a validator running at "+rpc+"?")
		}
		found := false
		for _, m := range cmt.Members {
			if m.PublicKey == *self {
				id, found = m.NodeID, true
			}
		}
		if !found {
			return withHint(errors.New("the node is not in the current committee"), "use --node-id to name a node outside the committee")
		}
	}
	sys, err := c.System(ctx)
	if err != nil {
		return err
	}
	out := nodeChallengesOutput{NodeID: id.String(), Epochs: []nodeChallengeRow{}}
	first := uint32(0)
	if sys.Epoch+1 > epochs {
		first = sys.Epoch + 1 - epochs
	}
	for ep := first; ep <= sys.Epoch; ep++ {
		st, err := c.Challenge(ctx, ep, nil)
		if errors.Is(err, chain.ErrNotFound) {
			continue
		}
		if errors.Is(err, chain.ErrChallengesDisabled) {
			return withHint(errors.New("storage challenges are disabled on this chain"), "they are enabled in the genesis parameters")
		}
		if err != nil {
			return err
		}
		row := nodeChallengeRow{Epoch: ep, Phase: st.Phase.String(), Blobs: st.Blobs, SampleSize: st.SampleSize}
		if m, ok := st.Member(id); ok {
			row.Member, row.Revealed, row.Passed, row.Consecutive = true, m.Revealed, m.Passed, m.Consecutive
		}
		out.Epochs = append(out.Epochs, row)
	}
	if e.json {
		return e.printJSON(out)
	}
	fmt.Fprintf(e.stdout, "Storage node %s\n", out.NodeID)
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EPOCH\tPHASE\tMEMBER\tREVEALED\tPASSED\tBLOBS\tSAMPLE")
	for _, r := range out.Epochs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%d\n", r.Epoch, r.Phase, yesNo(r.Member), yesNo(r.Revealed), yesNo(r.Passed), r.Blobs, r.SampleSize)
	}
	tw.Flush()
	if len(out.Epochs) > 0 {
		fmt.Fprintf(e.stdout, "Consecutive failed epochs now: %d\n", out.Epochs[len(out.Epochs)-1].Consecutive)
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
