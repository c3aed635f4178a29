package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
)

// blobIdentity names what one delete target was given as (Walrus's BlobIdentity): a file
// (with the blob ID computed from it), a blob ID or a blob object ID.
type blobIdentity struct {
	BlobID   string `json:"blobId,omitempty"`
	File     string `json:"file,omitempty"`
	ObjectID string `json:"objectId,omitempty"`
}

func (b blobIdentity) String() string {
	switch {
	case b.File != "":
		return fmt.Sprintf("%s (file: %s)", b.BlobID, b.File)
	case b.ObjectID != "":
		return "blob object " + b.ObjectID
	}
	return "blob " + b.BlobID
}

// deleteOutput is the result of one delete target (Walrus's DeleteOutput); delete's
// --json output is an array of them, one per target in the order given.
type deleteOutput struct {
	BlobIdentity       blobIdentity        `json:"blobIdentity"`
	DeletedBlobs       []client.BlobObject `json:"deletedBlobs"`
	PostDeletionStatus *sn.BlobStatus      `json:"postDeletionStatus,omitempty"`
	NoBlobFound        bool                `json:"noBlobFound"`
	Error              string              `json:"error,omitempty"`
	Aborted            bool                `json:"aborted"`
	// DeletedChunks are the chunk blob objects deleted with a file stored as chunks (ours;
	// Walrus has no chunked files).
	DeletedChunks []string `json:"deletedChunks,omitempty"`
}

// deleteTarget is one target to delete: by blob ID (every owned deletable object of it)
// or by object ID.
type deleteTarget struct {
	identity blobIdentity
	blobID   redstuff.BlobID
	object   chain.ObjectID
	byObject bool
}

// flagAliases maps Walrus's singular flag names to the plural ones.
func flagAliases(aliases map[string]string) func(*pflag.FlagSet, string) pflag.NormalizedName {
	return func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if to, ok := aliases[name]; ok {
			return pflag.NormalizedName(to)
		}
		return pflag.NormalizedName(name)
	}
}

func deleteCommand(ce *clientEnv) *cobra.Command {
	var files, blobIDs, objectIDs []string
	var yes, noStatusCheck bool
	cmd := &cobra.Command{
		Use:   "delete (--files FILE... | --blob-ids ID... | --object-ids ID...) [--yes]",
		Short: "Delete owned deletable blobs",
		Long: "Delete the wallet's deletable blob objects: every owned deletable object of a blob ID (or of a\n" +
			"file's blob ID), or one blob object. Their storage resources return to the wallet and are\n" +
			"reused by later stores. Targets may be mixed; each flag may be repeated (IDs may also be\n" +
			"comma-separated). Asks for confirmation unless --yes is given. Every target is tried; the\n" +
			"command fails if any could not be deleted.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(files)+len(blobIDs)+len(objectIDs) == 0 {
				return usageError{errors.New("give what to delete: --files, --blob-ids or --object-ids")}
			}
			var targets []deleteTarget
			for _, b := range blobIDs {
				id, err := parseBlobIDArg(b)
				if err != nil {
					return err
				}
				targets = append(targets, deleteTarget{identity: blobIdentity{BlobID: id.String()}, blobID: id})
			}
			for _, o := range objectIDs {
				obj, err := parseObjectIDArg("--object-ids", o)
				if err != nil {
					return err
				}
				targets = append(targets, deleteTarget{identity: blobIdentity{ObjectID: obj.String()}, object: obj, byObject: true})
			}
			s, err := ce.connect(ce.ctx, true)
			if err != nil {
				return err
			}
			defer s.close()
			if len(files) > 0 {
				enc, err := s.client.Encoding(int(s.params.NShards))
				if err != nil {
					return err
				}
				if err := checkInputs(files, enc.MaxBlobSize()); err != nil {
					return err
				}
				var fromFiles []deleteTarget
				for _, f := range files {
					data, err := readInput(f, enc.MaxBlobSize(), ce.stdin)
					if err != nil {
						return err
					}
					m, err := enc.ComputeMetadata(data)
					if err != nil {
						return err
					}
					fromFiles = append(fromFiles, deleteTarget{identity: blobIdentity{BlobID: m.BlobID.String(), File: f}, blobID: m.BlobID})
				}
				targets = append(fromFiles, targets...)
			}
			if !yes {
				if !isTerminal(ce.stdin) {
					return withHint(fmt.Errorf("refusing to delete %s without confirmation", describeTargets(targets)), "pass --yes")
				}
				fmt.Fprintf(ce.stderr, "Delete %s? This cannot be undone. [y/N] ", describeTargets(targets))
				line, _ := bufio.NewReader(ce.stdin).ReadString('\n')
				if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
					return errors.New("deletion cancelled")
				}
			}
			var outs []deleteOutput
			failed := 0
			for _, t := range targets {
				o := deleteOne(ce.ctx, s, t, !noStatusCheck)
				if o.Error != "" {
					failed++
				}
				outs = append(outs, o)
			}
			if ce.json {
				if err := ce.printJSON(outs); err != nil {
					return err
				}
			} else if len(outs) > 1 || failed == 0 {
				for _, o := range outs {
					printDeleteOutput(ce, o)
				}
			}
			if failed > 0 {
				first := ""
				for _, o := range outs {
					if o.Error != "" {
						first = o.BlobIdentity.String() + ": " + o.Error
						break
					}
				}
				if len(outs) == 1 {
					return cliError{msg: outs[0].Error}
				}
				return cliError{msg: fmt.Sprintf("%d of %d deletions failed; the first: %s", failed, len(outs), first)}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&files, "files", nil, "delete the blobs of these files (repeat the flag for several)")
	fl.StringSliceVar(&blobIDs, "blob-ids", nil, "delete every owned deletable blob object of these blob IDs")
	fl.StringSliceVar(&objectIDs, "object-ids", nil, "delete these blob objects")
	fl.BoolVar(&yes, "yes", false, "do not ask for confirmation")
	fl.BoolVar(&noStatusCheck, "no-status-check", false, "do not ask the storage nodes for the blob's status after deletion")
	fl.SetNormalizeFunc(flagAliases(map[string]string{"file": "files", "blob-id": "blob-ids", "object-id": "object-ids"}))
	return cmd
}

// parseObjectIDArgs parses object IDs given with flag (or as the operand named flag).
func parseObjectIDArgs(flag string, args []string) ([]chain.ObjectID, error) {
	var ids []chain.ObjectID
	for _, a := range args {
		id, err := parseObjectIDArg(flag, a)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// parseObjectIDArg parses an object ID given with flag.
func parseObjectIDArg(flag, s string) (chain.ObjectID, error) {
	id, err := chain.ParseObjectID(s)
	if err != nil {
		return id, usageError{withHint(fmt.Errorf("%s: invalid object ID %q", flag, s),
			"an object ID is 64 hex digits, optionally after 0x, as 'walrus list-blobs' prints it")}
	}
	return id, nil
}

func describeTargets(ts []deleteTarget) string {
	if len(ts) == 1 {
		return ts[0].identity.String()
	}
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = t.identity.String()
	}
	return fmt.Sprintf("%d targets (%s)", len(ts), strings.Join(parts, ", "))
}

// deleteOne deletes one target and reports the outcome; it never returns an error, the
// output carries it.
func deleteOne(ctx context.Context, s *session, t deleteTarget, statusCheck bool) deleteOutput {
	out := deleteOutput{BlobIdentity: t.identity, DeletedBlobs: []client.BlobObject{}}
	var victims []*chain.Blob
	if t.byObject {
		b, err := s.client.BlobObject(ctx, t.object)
		if err != nil {
			out.Error = explain(err, s).Error()
			if errors.Is(err, chain.ErrNotFound) {
				out.NoBlobFound = true
			}
			return out
		}
		if b.Owner != s.signer.Address() {
			out.Error = fmt.Sprintf("blob object %s is not owned by the wallet %s", b.ID, s.signer.Address())
			return out
		}
		if !b.Deletable {
			out.Error = fmt.Sprintf("blob object %s is permanent: only deletable blobs can be deleted", b.ID)
			return out
		}
		victims = []*chain.Blob{b}
		t.blobID = b.BlobID
		out.BlobIdentity.BlobID = b.BlobID.String()
	} else {
		owned, err := s.client.ListBlobs(ctx, false)
		if err != nil {
			out.Error = explain(err, s).Error()
			return out
		}
		permanent := 0
		for _, b := range owned {
			if b.BlobID != t.blobID {
				continue
			}
			if !b.Deletable {
				permanent++
				continue
			}
			victims = append(victims, b)
		}
		if len(victims) == 0 {
			out.NoBlobFound = true
			if permanent > 0 {
				out.Error = fmt.Sprintf("the wallet owns %s of blob %s and no deletable one", plural(permanent, "permanent blob object", "permanent blob objects"), t.blobID)
			} else {
				out.Error = fmt.Sprintf("the wallet owns no deletable blob object of blob %s", t.blobID)
			}
			return out
		}
	}
	for _, b := range victims {
		chunks, err := s.client.DeleteFile(ctx, b.ID)
		for _, c := range chunks {
			out.DeletedChunks = append(out.DeletedChunks, c.String())
		}
		if err != nil {
			out.Error = explain(err, s).Error()
			return out
		}
		out.DeletedBlobs = append(out.DeletedBlobs, client.NewBlobObject(b))
	}
	if statusCheck {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if st, err := s.client.Status(sctx, t.blobID); err == nil {
			out.PostDeletionStatus = &st
		}
	}
	return out
}

func printDeleteOutput(ce *clientEnv, o deleteOutput) {
	w := ce.stdout
	fmt.Fprintf(w, "Delete result for %s:\n", o.BlobIdentity)
	switch {
	case o.Error != "":
		fmt.Fprintf(w, "  Error: %s\n", o.Error)
	case o.Aborted:
		fmt.Fprintln(w, "  Aborted: nothing was deleted.")
	}
	for _, b := range o.DeletedBlobs {
		fmt.Fprintf(w, "  Deleted blob object %s (blob %s)\n", b.ID, b.BlobID)
	}
	for _, c := range o.DeletedChunks {
		fmt.Fprintf(w, "  Deleted blob object %s (a chunk of the file)\n", c)
	}
	if st := o.PostDeletionStatus; st != nil && len(o.DeletedBlobs) > 0 {
		switch st.Kind {
		case sn.BlobStatusNonexistent:
			fmt.Fprintln(w, "  Note: the blob no longer exists on Walrus (anyone who read it before may still have it).")
		case sn.BlobStatusPermanent:
			fmt.Fprintln(w, "  Note: the blob objects were removed, but permanent copies of the blob remain.")
		case sn.BlobStatusDeletable:
			fmt.Fprintf(w, "  Note: the blob objects were removed, but %s of the blob remain.\n",
				plural(int(st.Deletable.Total), "deletable registration", "deletable registrations"))
		}
	}
}
