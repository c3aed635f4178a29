package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/internal/chain"
)

// shareOutput is share's --json output (Walrus's ShareBlobOutput).
type shareOutput struct {
	SharedBlobObjectID string  `json:"sharedBlobObjectId"`
	Amount             *uint64 `json:"amount"`
}

// fundSharedOutput is fund-shared-blob's --json output (Walrus's FundSharedBlobOutput)
// and the shared blob's funds after funding.
type fundSharedOutput struct {
	Amount uint64 `json:"amount"`
	Funds  uint64 `json:"funds"`
}

// ownedBlobArg loads the blob object obj and checks that the wallet owns it (a shared
// blob is owned by nobody).
func ownedBlobArg(ce *clientEnv, s *session, obj chain.ObjectID) (*chain.Blob, error) {
	b, err := s.client.BlobObject(ce.ctx, obj)
	switch {
	case errors.Is(err, chain.ErrNotFound):
		return nil, withHint(fmt.Errorf("no blob object %s (never created, deleted, burned or expired and destroyed)", obj), "'walrus list-blobs' lists the wallet's blob objects")
	case errors.Is(err, chain.ErrWrongObjectKind):
		return nil, fmt.Errorf("object %s is not a blob object", obj)
	case err != nil:
		return nil, explain(err, s)
	case b.Shared:
		return nil, fmt.Errorf("blob object %s is shared: it has no owner, so it cannot be changed this way", obj)
	case b.Owner != s.signer.Address():
		return nil, fmt.Errorf("blob object %s is not owned by the wallet %s", obj, s.signer.Address())
	}
	return b, nil
}

func shareCommand(ce *clientEnv) *cobra.Command {
	var objectID string
	var amount uint64
	cmd := &cobra.Command{
		Use:   "share --blob-obj-id ID [--amount FROST]",
		Short: "Share an owned blob object so that anyone can fund and extend it",
		Long: "Make an owned blob object shared: it keeps its object ID, nobody owns it any more, and anyone\n" +
			"can add funds to it ('walrus fund-shared-blob') and extend it from them ('walrus extend\n" +
			"--shared'). A shared blob cannot be deleted. --amount funds it at once from the wallet.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			obj, err := parseObjectIDArg("--blob-obj-id", objectID)
			if err != nil {
				return err
			}
			s, err := ce.connect(ce.ctx, true)
			if err != nil {
				return err
			}
			defer s.close()
			if _, err := ownedBlobArg(ce, s, obj); err != nil {
				return err
			}
			b, err := s.client.Share(ce.ctx, obj, amount)
			if err != nil {
				return explain(err, s)
			}
			out := shareOutput{SharedBlobObjectID: b.ID.String()}
			if cmd.Flags().Changed("amount") {
				out.Amount = &amount
			}
			if ce.json {
				return ce.printJSON(out)
			}
			fmt.Fprintf(ce.stdout, "The blob has been shared, object ID: %s", b.ID)
			if out.Amount != nil {
				fmt.Fprintf(ce.stdout, ", funded with %s", humanWAL(amount))
			}
			fmt.Fprintln(ce.stdout)
			return nil
		},
	}
	cmd.Flags().StringVar(&objectID, "blob-obj-id", "", "the owned blob object to share")
	cmd.Flags().Uint64Var(&amount, "amount", 0, "FROST to fund the shared blob with")
	_ = cmd.MarkFlagRequired("blob-obj-id")
	return cmd
}

func fundSharedBlobCommand(ce *clientEnv) *cobra.Command {
	var objectID string
	var amount uint64
	cmd := &cobra.Command{
		Use:   "fund-shared-blob --shared-blob-obj-id ID --amount FROST",
		Short: "Add funds to a shared blob, for its extensions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			obj, err := parseObjectIDArg("--shared-blob-obj-id", objectID)
			if err != nil {
				return err
			}
			if amount == 0 {
				return usageError{errors.New("--amount: fund with more than 0 FROST")}
			}
			s, err := ce.connect(ce.ctx, true)
			if err != nil {
				return err
			}
			defer s.close()
			b, err := s.client.BlobObject(ce.ctx, obj)
			switch {
			case errors.Is(err, chain.ErrNotFound):
				return fmt.Errorf("no blob object %s", obj)
			case err != nil:
				return explain(err, s)
			case !b.Shared:
				return withHint(fmt.Errorf("blob object %s is not shared", obj), "share it first with 'walrus share --blob-obj-id "+obj.String()+"'")
			}
			b, err = s.client.FundShared(ce.ctx, obj, amount)
			if err != nil {
				return explain(err, s)
			}
			if ce.json {
				return ce.printJSON(fundSharedOutput{Amount: amount, Funds: b.Funds})
			}
			fmt.Fprintf(ce.stdout, "The blob has been funded with %s; it holds %s.\n", humanWAL(amount), humanWAL(b.Funds))
			return nil
		},
	}
	cmd.Flags().StringVar(&objectID, "shared-blob-obj-id", "", "the shared blob object to fund")
	cmd.Flags().Uint64Var(&amount, "amount", 0, "FROST to add")
	_ = cmd.MarkFlagRequired("shared-blob-obj-id")
	_ = cmd.MarkFlagRequired("amount")
	return cmd
}
