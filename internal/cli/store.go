package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// storeOutput is one element of store's --json output (Walrus's BlobStoreResultWithPath).
type storeOutput struct {
	BlobStoreResult *client.StoreResult `json:"blobStoreResult"`
	Path            string              `json:"path"`
}

// dryRunOutput is one element of store --dry-run's --json output.
type dryRunOutput struct {
	Path string `json:"path"`
	*client.DryRun
}

type storeFlags struct {
	epochs    string
	endEpoch  int64
	permanent bool
	deletable bool
	force     bool
	dryRun    bool
}

func storeCommand(ce *clientEnv) *cobra.Command {
	var f storeFlags
	cmd := &cobra.Command{
		Use:     "store FILE...",
		Aliases: []string{"write"},
		Short:   "Store files as blobs",
		Long: "Store each file as a blob: encode it, register it on chain (paying for storage), upload its\n" +
			"slivers to the storage nodes and certify it. Blobs are deletable unless --permanent is given.\n" +
			"Without --epochs or --end-epoch a blob is stored until the end of the current epoch (--epochs 1).\n" +
			"A blob already certified for long enough is not stored again unless --force is given.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStore(ce, cmd, args, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.epochs, "epochs", "", "number of epochs to store for, counting the current one, or 'max'")
	fl.Int64Var(&f.endEpoch, "end-epoch", 0, "epoch at which the blob expires (exclusive)")
	fl.BoolVar(&f.permanent, "permanent", false, "store a permanent blob (it cannot be deleted before it expires)")
	fl.BoolVar(&f.deletable, "deletable", false, "store a deletable blob (the default)")
	fl.BoolVar(&f.force, "force", false, "store even if the blob is already certified")
	fl.BoolVar(&f.dryRun, "dry-run", false, "only print the blob ID and the cost; send nothing")
	return cmd
}

// storeOptions validates the epoch flags; the maximum is checked with the chain's
// parameters.
func (f storeFlags) options(cmd *cobra.Command, maxAhead uint32) (client.StoreOptions, error) {
	o := client.StoreOptions{Permanent: f.permanent, Force: f.force, DryRun: f.dryRun}
	switch {
	case cmd.Flags().Changed("end-epoch"):
		if f.endEpoch <= 0 || f.endEpoch > 1<<32-1 {
			return o, usageError{fmt.Errorf("--end-epoch %d: must be a future epoch", f.endEpoch)}
		}
		o.EndEpoch = uint32(f.endEpoch)
	case f.epochs == "max":
		o.Epochs = maxAhead
	case cmd.Flags().Changed("epochs"):
		n, err := strconv.ParseInt(strings.TrimSpace(f.epochs), 10, 64)
		if err != nil {
			return o, usageError{fmt.Errorf("--epochs %q: want a number of epochs or 'max'", f.epochs)}
		}
		if n <= 0 {
			return o, usageError{withHint(fmt.Errorf("--epochs %d: must be at least 1", n), "--epochs 1 stores until the end of the current epoch")}
		}
		if n > int64(maxAhead) {
			return o, usageError{withHint(fmt.Errorf("--epochs %d: more than the maximum of %d epochs ahead", n, maxAhead), "use --epochs max")}
		}
		o.Epochs = uint32(n)
	default:
		o.Epochs = 1
	}
	return o, nil
}

func runStore(ce *clientEnv, cmd *cobra.Command, paths []string, f storeFlags) error {
	if cmd.Flags().Changed("epochs") && cmd.Flags().Changed("end-epoch") {
		return usageError{errors.New("give either --epochs or --end-epoch, not both")}
	}
	if f.permanent && f.deletable {
		return usageError{errors.New("give either --permanent or --deletable, not both")}
	}
	// Epoch values that can never be right are refused before anything else.
	if cmd.Flags().Changed("epochs") && f.epochs != "max" {
		if _, err := f.options(cmd, ^uint32(0)); err != nil {
			return err
		}
	}
	if cmd.Flags().Changed("end-epoch") && f.endEpoch <= 0 {
		return usageError{fmt.Errorf("--end-epoch %d: must be a future epoch", f.endEpoch)}
	}
	s, err := ce.connect(ce.ctx, !f.dryRun)
	if err != nil {
		return err
	}
	defer s.close()
	opts, err := f.options(cmd, s.params.MaxEpochsAhead)
	if err != nil {
		return err
	}
	enc, err := s.client.Encoding(int(s.params.NShards))
	if err != nil {
		return err
	}
	var results []storeOutput
	var dry []dryRunOutput
	// fail reports the files stored before a failure all the same.
	fail := func(err error) error {
		if ce.json && len(results) > 0 {
			_ = ce.printJSON(results)
		}
		return err
	}
	for _, path := range paths {
		var res *client.StoreResult
		if f := openChunked(path, enc.MaxBlobSize()); f != nil {
			res, err = storeChunked(ce, s, f, path, opts)
		} else {
			var data []byte
			if data, err = readInput(path, enc.MaxBlobSize()); err != nil {
				if errors.Is(err, redstuff.ErrDataTooLarge) {
					return fail(withHint(err, fmt.Sprintf("the network has %d shards; larger blobs need more shards", s.params.NShards)))
				}
				return fail(err)
			}
			bar := ce.newProgressBar(path)
			opts.Progress = bar.callback()
			res, err = s.client.Store(ce.ctx, data, opts)
			bar.finish()
		}
		if err != nil {
			return fail(explain(fmt.Errorf("storing %s: %w", path, err), s))
		}
		if res.DryRun != nil {
			dry = append(dry, dryRunOutput{Path: path, DryRun: res.DryRun})
			if !ce.json {
				printDryRun(ce, path, res.DryRun)
			}
			continue
		}
		results = append(results, storeOutput{BlobStoreResult: res, Path: path})
		if !ce.json {
			printStoreResult(ce, path, res)
		}
	}
	if ce.json {
		if f.dryRun {
			return ce.printJSON(dry)
		}
		return ce.printJSON(results)
	}
	return nil
}

func printDryRun(ce *clientEnv, path string, d *client.DryRun) {
	w := ce.stdout
	fmt.Fprintf(w, "Dry run: %s\n", path)
	fmt.Fprintf(w, "Blob ID: %s\n", d.BlobID)
	fmt.Fprintf(w, "Unencoded size: %s\n", humanBytes(d.UnencodedSize))
	fmt.Fprintf(w, "Encoded size (including replicated metadata): %s\n", humanBytes(d.EncodedSize))
	fmt.Fprintf(w, "Cost (excluding fees): %s (storage %s for %d epochs, write %s)\n",
		humanWAL(d.StorageCost+d.WriteCost), humanWAL(d.StorageCost), d.Epochs, humanWAL(d.WriteCost))
}

func printStoreResult(ce *clientEnv, path string, res *client.StoreResult) {
	w := ce.stdout
	switch {
	case res.AlreadyCertified != nil:
		ac := res.AlreadyCertified
		fmt.Fprintf(w, "Blob was already available and certified within Walrus, for a sufficient number of epochs.\n")
		fmt.Fprintf(w, "Path: %s\n", path)
		fmt.Fprintf(w, "Blob ID: %s\n", ac.BlobID)
		if ac.Object != "" {
			fmt.Fprintf(w, "Owned blob object ID: %s\n", ac.Object)
		}
		if ac.Event != nil {
			fmt.Fprintf(w, "Certification event: tx %s, event %s\n", ac.Event.TxDigest, ac.Event.EventSeq)
		}
		fmt.Fprintf(w, "Expiry epoch (exclusive): %d\n", ac.EndEpoch)
	case res.NewlyCreated != nil:
		nc := res.NewlyCreated
		b := nc.BlobObject
		kind := "Deletable"
		if !b.Deletable {
			kind = "Permanent"
		}
		op := "storage was purchased, and a new blob object was registered"
		switch {
		case nc.ResourceOperation.ReuseStorage != nil:
			op = "an owned storage resource was reused"
		case nc.ResourceOperation.ReuseRegistration != nil:
			op = "an owned registration was reused"
		}
		fmt.Fprintf(w, "Success: %s blob stored successfully.\n", kind)
		fmt.Fprintf(w, "Path: %s\n", path)
		fmt.Fprintf(w, "Blob ID: %s\n", b.BlobID)
		fmt.Fprintf(w, "Object ID: %s\n", b.ID)
		fmt.Fprintf(w, "Unencoded size: %s\n", humanBytes(b.Size))
		fmt.Fprintf(w, "Encoded size (including replicated metadata): %s\n", humanBytes(b.Storage.StorageSize))
		fmt.Fprintf(w, "Cost (excluding fees): %s (%s)\n", humanWAL(nc.Cost), op)
		fmt.Fprintf(w, "Expiry epoch (exclusive): %d\n", b.Storage.EndEpoch)
		fmt.Fprintf(w, "Encoding type: %s\n", b.EncodingType)
	}
	if f := res.File; f != nil {
		fmt.Fprintf(w, "File size: %s, stored as %d chunks of up to %s and the manifest above\n", humanBytes(f.Size), len(f.Chunks), humanBytes(uint64(f.ChunkSize)))
		fmt.Fprintf(w, "File SHA-256: %s\n", f.SHA256)
		fmt.Fprintf(w, "Chunks cost (excluding fees): %s\n", humanWAL(f.Cost))
	}
}

// humanBytes formats a size with binary units.
func humanBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.2f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// humanWAL formats FROST as WAL.
func humanWAL(frost uint64) string {
	return fmt.Sprintf("%d.%09d WAL", frost/chain.FrostPerWAL, frost%chain.FrostPerWAL)
}
