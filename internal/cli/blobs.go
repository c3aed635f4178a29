package cli

import (
	"bufio"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
)

// blobStatusOutput is blob-status's --json output.
type blobStatusOutput struct {
	BlobID string        `json:"blobId"`
	File   string        `json:"file,omitempty"`
	Status sn.BlobStatus `json:"status"`
}

func blobStatusCommand(ce *clientEnv) *cobra.Command {
	var blobID, file string
	cmd := &cobra.Command{
		Use:   "blob-status (--blob-id ID | --file FILE)",
		Short: "Show a blob's status as the storage nodes report it",
		Long: "Ask every storage node of the committee for the blob's status and print the latest status\n" +
			"reported by nodes holding more than a third of the shards.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (blobID == "") == (file == "") {
				return usageError{errors.New("give exactly one of --blob-id and --file")}
			}
			var id redstuff.BlobID
			var err error
			if blobID != "" {
				if id, err = parseBlobIDArg(blobID); err != nil {
					return err
				}
			}
			s, err := ce.connect(ce.ctx, false)
			if err != nil {
				return err
			}
			defer s.close()
			if file != "" {
				enc, err := s.client.Encoding(int(s.params.NShards))
				if err != nil {
					return err
				}
				data, err := readInput(file, enc.MaxBlobSize())
				if err != nil {
					return err
				}
				m, err := enc.ComputeMetadata(data)
				if err != nil {
					return err
				}
				id = m.BlobID
			}
			st, err := s.client.Status(ce.ctx, id)
			if err != nil {
				return explain(err, s)
			}
			if ce.json {
				return ce.printJSON(blobStatusOutput{BlobID: id.String(), File: file, Status: st})
			}
			fmt.Fprintln(ce.stdout, describeStatus(id, st))
			return nil
		},
	}
	cmd.Flags().StringVar(&blobID, "blob-id", "", "the blob ID")
	cmd.Flags().StringVar(&file, "file", "", "a file whose blob ID to compute")
	return cmd
}

func describeStatus(id redstuff.BlobID, st sn.BlobStatus) string {
	switch st.Kind {
	case sn.BlobStatusInvalid:
		return fmt.Sprintf("Blob ID %s is invalid (event %x #%d).", id, st.Event.TxDigest, st.Event.Seq)
	case sn.BlobStatusPermanent:
		state := "registered but not certified"
		if st.IsCertified {
			state = "certified"
		}
		return fmt.Sprintf("Blob ID %s is %s and permanent.\nExpiry epoch (exclusive): %d\nRelated event: tx %x, event %d\nDeletable registrations: %d (%d certified)",
			id, state, st.EndEpoch, st.Event.TxDigest, st.Event.Seq, st.Deletable.Total, st.Deletable.Certified)
	case sn.BlobStatusDeletable:
		state := "registered as deletable"
		if st.Deletable.Certified > 0 {
			state = "certified as deletable"
		}
		return fmt.Sprintf("Blob ID %s is %s: %d deletable registrations (%d certified).", id, state, st.Deletable.Total, st.Deletable.Certified)
	}
	return fmt.Sprintf("Blob ID %s does not exist (never stored, deleted or expired).", id)
}

func listBlobsCommand(ce *clientEnv) *cobra.Command {
	var includeExpired bool
	cmd := &cobra.Command{
		Use:   "list-blobs",
		Short: "List the blob objects the wallet owns",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := ce.connect(ce.ctx, true)
			if err != nil {
				return err
			}
			defer s.close()
			blobs, err := s.client.ListBlobs(ce.ctx, includeExpired)
			if err != nil {
				return explain(err, s)
			}
			out := make([]client.BlobObject, len(blobs))
			for i, b := range blobs {
				out[i] = client.NewBlobObject(b)
			}
			if ce.json {
				return ce.printJSON(out)
			}
			if len(out) == 0 {
				fmt.Fprintln(ce.stderr, "The wallet owns no blobs.")
				return nil
			}
			tw := tabwriter.NewWriter(ce.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "BLOB ID\tSIZE\tDELETABLE\tCERTIFIED\tEXPIRY EPOCH\tOBJECT ID")
			for _, b := range out {
				cert := "no"
				if b.CertifiedEpoch != nil {
					cert = fmt.Sprintf("epoch %d", *b.CertifiedEpoch)
				}
				fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%d\t%s\n", b.BlobID, humanBytes(b.Size), b.Deletable, cert, b.Storage.EndEpoch, b.ID)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&includeExpired, "include-expired", false, "also list expired blobs")
	return cmd
}

// deleteOutput is delete's --json output.
type deleteOutput struct {
	BlobID       string   `json:"blobId,omitempty"`
	DeletedBlobs []string `json:"deletedBlobs"`
}

func deleteCommand(ce *clientEnv) *cobra.Command {
	var blobID, objectID string
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete (--blob-id ID | --object-id ID) [--yes]",
		Short: "Delete owned deletable blobs",
		Long: "Delete the wallet's deletable blob objects of a blob ID (or one blob object). Their storage\n" +
			"resources return to the wallet and are reused by later stores. Asks for confirmation unless\n" +
			"--yes is given.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (blobID == "") == (objectID == "") {
				return usageError{errors.New("give exactly one of --blob-id and --object-id")}
			}
			var id redstuff.BlobID
			var obj chain.ObjectID
			var err error
			what := ""
			if blobID != "" {
				if id, err = parseBlobIDArg(blobID); err != nil {
					return err
				}
				what = "blob " + id.String()
			} else {
				if obj, err = chain.ParseObjectID(objectID); err != nil {
					return usageError{fmt.Errorf("invalid object ID %q: want 64 hex digits", objectID)}
				}
				what = "blob object " + obj.String()
			}
			if !yes {
				if !isTerminal(ce.stdin) {
					return withHint(fmt.Errorf("refusing to delete %s without confirmation", what), "pass --yes")
				}
				fmt.Fprintf(ce.stderr, "Delete %s? This cannot be undone. [y/N] ", what)
				line, _ := bufio.NewReader(ce.stdin).ReadString('\n')
				if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
					return errors.New("deletion cancelled")
				}
			}
			s, err := ce.connect(ce.ctx, true)
			if err != nil {
				return err
			}
			defer s.close()
			out := deleteOutput{DeletedBlobs: []string{}}
			if blobID != "" {
				out.BlobID = id.String()
				objs, err := s.client.DeleteBlobID(ce.ctx, id)
				for _, o := range objs {
					out.DeletedBlobs = append(out.DeletedBlobs, o.String())
				}
				if err != nil {
					return explain(err, s)
				}
			} else {
				if err := s.client.Delete(ce.ctx, obj); err != nil {
					return explain(err, s)
				}
				out.DeletedBlobs = append(out.DeletedBlobs, obj.String())
			}
			if ce.json {
				return ce.printJSON(out)
			}
			for _, o := range out.DeletedBlobs {
				fmt.Fprintf(ce.stdout, "Deleted blob object %s\n", o)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&blobID, "blob-id", "", "delete every owned deletable blob object of this blob ID")
	cmd.Flags().StringVar(&objectID, "object-id", "", "delete this blob object")
	cmd.Flags().BoolVar(&yes, "yes", false, "do not ask for confirmation")
	return cmd
}

func extendCommand(ce *clientEnv) *cobra.Command {
	var objectID string
	var epochs int64
	cmd := &cobra.Command{
		Use:   "extend --blob-obj-id ID --epochs-extended N",
		Short: "Extend the lifetime of a certified blob object",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			obj, err := chain.ParseObjectID(objectID)
			if err != nil {
				return usageError{fmt.Errorf("invalid --blob-obj-id %q: want 64 hex digits", objectID)}
			}
			if epochs <= 0 {
				return usageError{fmt.Errorf("--epochs-extended %d: must be at least 1", epochs)}
			}
			if epochs > 1<<32-1 {
				return usageError{fmt.Errorf("--epochs-extended %d: too large", epochs)}
			}
			s, err := ce.connect(ce.ctx, true)
			if err != nil {
				return err
			}
			defer s.close()
			b, err := s.client.Extend(ce.ctx, obj, uint32(epochs))
			if err != nil {
				return explain(err, s)
			}
			if ce.json {
				return ce.printJSON(client.NewBlobObject(b))
			}
			fmt.Fprintf(ce.stdout, "Blob object %s (blob %s) extended by %d epochs.\nExpiry epoch (exclusive): %d\n", b.ID, b.BlobID, epochs, b.EndEpoch())
			return nil
		},
	}
	cmd.Flags().StringVar(&objectID, "blob-obj-id", "", "the blob object to extend")
	cmd.Flags().Int64Var(&epochs, "epochs-extended", 0, "number of epochs to add")
	_ = cmd.MarkFlagRequired("blob-obj-id")
	_ = cmd.MarkFlagRequired("epochs-extended")
	return cmd
}

// healthOutput is one node of health's --json output.
type healthOutput struct {
	NodeID     string         `json:"nodeId"`
	NodeName   string         `json:"nodeName"`
	NodeURL    string         `json:"nodeUrl"`
	Shards     int            `json:"shards"`
	HealthInfo *sn.HealthInfo `json:"healthInfo,omitempty"`
	Error      string         `json:"error,omitempty"`
}

func healthCommand(ce *clientEnv) *cobra.Command {
	var detail bool
	cmd := &cobra.Command{
		Use:   "health",
		Short: "Show the health of the committee's storage nodes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := ce.connect(ce.ctx, false)
			if err != nil {
				return err
			}
			defer s.close()
			epoch, nodes, err := s.client.Health(ce.ctx, detail)
			if err != nil {
				return explain(err, s)
			}
			out := make([]healthOutput, len(nodes))
			for i, n := range nodes {
				out[i] = healthOutput{NodeID: n.NodeID.String(), NodeName: n.Name, NodeURL: client.NodeURL(n.NetworkAddress), Shards: n.Shards, HealthInfo: n.Health}
				if n.Err != nil {
					out[i].Error = explain(n.Err, s).Error()
				}
			}
			if ce.json {
				return ce.printJSON(out)
			}
			fmt.Fprintf(ce.stdout, "Epoch %d, %d storage nodes\n", epoch, len(out))
			tw := tabwriter.NewWriter(ce.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NODE\tURL\tSHARDS\tSTATUS\tEPOCH\tEVENTS\tREADY SHARDS")
			for _, n := range out {
				if n.HealthInfo == nil {
					fmt.Fprintf(tw, "%s\t%s\t%d\tunreachable: %s\t\t\t\n", n.NodeName, n.NodeURL, n.Shards, n.Error)
					continue
				}
				h := n.HealthInfo
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\t%d/%d\n", n.NodeName, n.NodeURL, n.Shards, h.NodeStatus, h.Epoch,
					h.EventProgress.Persisted, h.ShardSummary.OwnedShardStatus.Ready, h.ShardSummary.Owned)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&detail, "detail", false, "include every shard's status (JSON)")
	return cmd
}

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
