package cli

import (
	"errors"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

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
	// EstimatedExpiryTimestamp is when a permanent blob is expected to expire.
	EstimatedExpiryTimestamp *time.Time `json:"estimatedExpiryTimestamp,omitempty"`
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
			clock, err := s.clock(ce.ctx)
			if err != nil {
				return err
			}
			if ce.json {
				out := blobStatusOutput{BlobID: id.String(), File: file, Status: st}
				if st.Kind == sn.BlobStatusPermanent {
					out.EstimatedExpiryTimestamp = clock.expiryTimestamp(st.EndEpoch)
				}
				return ce.printJSON(out)
			}
			fmt.Fprintln(ce.stdout, describeStatus(id, st, clock))
			return nil
		},
	}
	cmd.Flags().StringVar(&blobID, "blob-id", "", "the blob ID")
	cmd.Flags().StringVar(&file, "file", "", "a file whose blob ID to compute")
	return cmd
}

// describeStatus is blob-status's human output; end epochs are shown with their expected
// dates.
func describeStatus(id redstuff.BlobID, st sn.BlobStatus, clock epochClock) string {
	counts := func(d sn.DeletableCounts) string {
		return fmt.Sprintf("%s (%d certified)", plural(int(d.Total), "deletable registration", "deletable registrations"), d.Certified)
	}
	switch st.Kind {
	case sn.BlobStatusInvalid:
		return fmt.Sprintf("Blob ID %s is invalid (event %x #%d).", id, st.Event.TxDigest, st.Event.Seq)
	case sn.BlobStatusPermanent:
		state := "registered but not certified"
		if st.IsCertified {
			state = "certified"
		}
		return fmt.Sprintf("Blob ID %s is %s and permanent.\nExpiry epoch (exclusive): %s\nRelated event: tx %x, event %d\nDeletable registrations: %s",
			id, state, clock.endEpoch(st.EndEpoch), st.Event.TxDigest, st.Event.Seq, counts(st.Deletable))
	case sn.BlobStatusDeletable:
		state := "registered as deletable"
		if st.Deletable.Certified > 0 {
			state = "certified as deletable"
		}
		return fmt.Sprintf("Blob ID %s is %s: %s.", id, state, counts(st.Deletable))
	}
	return fmt.Sprintf("Blob ID %s does not exist (never stored, deleted or expired).", id)
}

// plural returns "1 thing" or "n things".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
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
			clock, err := s.clock(ce.ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(ce.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "BLOB ID\tSIZE\tDELETABLE\tCERTIFIED\tEXPIRY EPOCH\tOBJECT ID")
			for _, b := range out {
				cert := "no"
				if b.CertifiedEpoch != nil {
					cert = fmt.Sprintf("epoch %d", *b.CertifiedEpoch)
				}
				fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\t%s\n", b.BlobID, humanBytes(b.Size), b.Deletable, cert, clock.endEpoch(b.Storage.EndEpoch), b.ID)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&includeExpired, "include-expired", false, "also list expired blobs")
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
