package cli

import (
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/internal/base58"
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
				data, err := readInput(file, enc.MaxBlobSize(), ce.stdin)
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
		return fmt.Sprintf("Blob ID %s is invalid (event %s #%d).", id, base58.Encode(st.Event.TxDigest[:]), st.Event.Seq)
	case sn.BlobStatusPermanent:
		state := "registered but not certified"
		if st.IsCertified {
			state = "certified"
		}
		return fmt.Sprintf("Blob ID %s is %s and permanent.\nExpiry epoch (exclusive): %s\nRelated event: tx %s, event %d\nDeletable registrations: %s",
			id, state, clock.endEpoch(st.EndEpoch), base58.Encode(st.Event.TxDigest[:]), st.Event.Seq, counts(st.Deletable))
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
