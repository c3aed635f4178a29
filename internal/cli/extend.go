package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
)

// extendOutput is extend's --json output: Walrus's ExtendBlobOutput (epochsExtended) and
// the extended blob object with its expected expiry.
type extendOutput struct {
	EpochsExtended           uint32            `json:"epochsExtended"`
	BlobObject               client.BlobObject `json:"blobObject"`
	EstimatedExpiryTimestamp *time.Time        `json:"estimatedExpiryTimestamp,omitempty"`
}

func extendCommand(ce *clientEnv) *cobra.Command {
	var objectID string
	var epochs int64
	var shared bool
	cmd := &cobra.Command{
		Use:   "extend --blob-obj-id ID --epochs-extended N [--shared]",
		Short: "Extend the lifetime of a certified blob object, owned or shared",
		Long: "Extend an owned certified blob object by N epochs, paid by the wallet, or, with --shared, a\n" +
			"shared blob object, paid from the blob's own funds (see 'walrus fund-shared-blob').",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			obj, err := parseObjectIDArg("--blob-obj-id", objectID)
			if err != nil {
				return err
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
			b, err := s.client.BlobObject(ce.ctx, obj)
			if err != nil {
				return explain(err, s)
			}
			switch {
			case b.Shared && !shared:
				return withHint(fmt.Errorf("blob object %s is shared", obj), "pass --shared to extend it from its funds")
			case !b.Shared && shared:
				return withHint(fmt.Errorf("blob object %s is not shared", obj), "extend it without --shared, or share it first with 'walrus share'")
			case !b.Shared && b.Owner != s.signer.Address():
				return fmt.Errorf("blob object %s is not owned by the wallet %s", obj, s.signer.Address())
			case !b.Certified:
				return withHint(fmt.Errorf("blob object %s is not certified; only certified blobs can be extended", obj), "store the blob again to certify it")
			}
			if shared {
				b, err = s.client.ExtendShared(ce.ctx, obj, uint32(epochs))
			} else {
				b, err = s.client.Extend(ce.ctx, obj, uint32(epochs))
			}
			if err != nil {
				return explainExtend(err, s, shared)
			}
			clock, err := s.clock(ce.ctx)
			if err != nil {
				return err
			}
			if ce.json {
				return ce.printJSON(extendOutput{EpochsExtended: uint32(epochs), BlobObject: client.NewBlobObject(b), EstimatedExpiryTimestamp: clock.expiryTimestamp(b.EndEpoch())})
			}
			fmt.Fprintf(ce.stdout, "Blob object %s (blob %s) extended by %s.\nExpiry epoch (exclusive): %s\n",
				b.ID, b.BlobID, plural(int(epochs), "epoch", "epochs"), clock.endEpoch(b.EndEpoch()))
			if b.Shared {
				fmt.Fprintf(ce.stdout, "Funds left in the shared blob: %s\n", humanWAL(b.Funds))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&objectID, "blob-obj-id", "", "the blob object to extend")
	cmd.Flags().Int64Var(&epochs, "epochs-extended", 0, "number of epochs to add")
	cmd.Flags().BoolVar(&shared, "shared", false, "the blob object is shared: pay from its funds")
	_ = cmd.MarkFlagRequired("blob-obj-id")
	_ = cmd.MarkFlagRequired("epochs-extended")
	return cmd
}

// explainExtend adds the hints of a failed extension to explain's.
func explainExtend(err error, s *session, shared bool) error {
	if shared && errors.Is(err, chain.ErrInsufficientFunds) {
		return withHint(cliError{err: err, msg: explain(err, s).Error()}, "add funds with 'walrus fund-shared-blob'")
	}
	return explain(err, s)
}
