package cli

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/uploadrelay"
)

// storeOutput is one element of store's --json output (Walrus's BlobStoreResultWithPath).
type storeOutput struct {
	BlobStoreResult *client.StoreResult `json:"blobStoreResult"`
	Path            string              `json:"path"`
	// Encryption is "age" when the CLI encrypted the file before storing it.
	Encryption string `json:"encryption,omitempty"`
}

// dryRunOutput is one element of store --dry-run's --json output.
type dryRunOutput struct {
	Path string `json:"path"`
	*client.DryRun
}

type storeFlags struct {
	epochs    string
	expiry    string
	endEpoch  int64
	permanent bool
	deletable bool
	force     bool
	dryRun    bool
	share     bool
	stdin     bool
	enc       encryptFlags
	// uploadRelay is the URL of an upload relay to send the blobs through;
	// skipTipConfirmation pays the tip it asks, whatever it is.
	uploadRelay         string
	skipTipConfirmation bool
}

// The flags that say how long to store a blob; exactly one is required, as in Walrus.
const (
	flagEpochs   = "epochs"
	flagExpiry   = "earliest-expiry-time"
	flagEndEpoch = "end-epoch"
)

func storeCommand(ce *clientEnv) *cobra.Command {
	var f storeFlags
	cmd := &cobra.Command{
		Use:     "store (--epochs N|max | --earliest-expiry-time TIME | --end-epoch EPOCH) (FILE... | - | --stdin)",
		Aliases: []string{"write"},
		Short:   "Store files as blobs",
		Long: "Store each file as a blob: encode it, register it on chain (paying for storage), upload its\n" +
			"slivers to the storage nodes and certify it. Blobs are deletable unless --permanent is given.\n" +
			"How long to store is required: --epochs N counts the current epoch (--epochs 1 ends with it),\n" +
			"--earliest-expiry-time keeps the blob until at least that time, --end-epoch names the first\n" +
			"epoch without it. Every file is checked before anything is stored. A blob already certified\n" +
			"for long enough is not stored again unless --force is given; an owned certified blob object\n" +
			"that ends too early is extended instead.\n" +
			"FILE '-' or --stdin reads the blob from standard input. --encrypt-to, --encrypt-to-file and\n" +
			"--passphrase encrypt each file with age before anything leaves the machine.",
		RunE: func(cmd *cobra.Command, args []string) error {
			paths, err := storePaths(args, f.stdin)
			if err != nil {
				return err
			}
			return runStore(ce, cmd, paths, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.epochs, flagEpochs, "", "number of epochs to store for, counting the current one, or 'max'")
	fl.StringVar(&f.expiry, flagExpiry, "", "earliest time the blob may expire (RFC 3339, or '2006-01-02 15:04:05' in UTC)")
	fl.Int64Var(&f.endEpoch, flagEndEpoch, 0, "epoch at which the blob expires (exclusive)")
	fl.BoolVar(&f.permanent, "permanent", false, "store a permanent blob (it cannot be deleted before it expires)")
	fl.BoolVar(&f.deletable, "deletable", false, "store a deletable blob (the default)")
	fl.BoolVar(&f.force, "force", false, "store even if the blob is already certified")
	fl.BoolVar(&f.dryRun, "dry-run", false, "only print the blob ID and the cost; send nothing")
	fl.BoolVar(&f.share, "share", false, "share the new blob object once certified (see 'walrus share')")
	fl.BoolVar(&f.stdin, "stdin", false, "read the blob from standard input (as FILE '-')")
	fl.StringVar(&f.uploadRelay, "upload-relay", "", "send each blob once to this upload relay (URL), which uploads it to the storage nodes")
	fl.BoolVar(&f.skipTipConfirmation, "skip-tip-confirmation", false, "pay the tip the upload relay asks without asking (without it, a relay asking a tip is refused)")
	f.enc.register(fl)
	return cmd
}

// uploadRelayTimeout bounds one request to an upload relay (it answers once the nodes
// confirmed).
const uploadRelayTimeout = 10 * time.Minute

// check checks the flags that every store command shares, before anything is sent.
func (f storeFlags) check(cmd *cobra.Command) error {
	if f.permanent && f.deletable {
		return usageError{errors.New("give either --permanent or --deletable, not both")}
	}
	return f.checkDuration(cmd)
}

// storeSetup is what a store command resolves once before it stores anything.
type storeSetup struct {
	opts  client.StoreOptions
	enc   *redstuff.Config
	clock epochClock
}

// storeSession connects for a store (with the wallet unless it is a dry run) and resolves
// the store options against the chain's clock and the network's encoding. On success the
// caller owns the session and closes it.
func (ce *clientEnv) storeSession(cmd *cobra.Command, f storeFlags) (*session, storeSetup, error) {
	var st storeSetup
	s, err := ce.connect(ce.ctx, !f.dryRun)
	if err != nil {
		return nil, st, err
	}
	if st.clock, err = s.clock(ce.ctx); err == nil {
		if st.opts, err = f.options(cmd, st.clock); err == nil {
			st.enc, err = s.client.Encoding(int(s.params.NShards))
		}
	}
	if err != nil {
		s.close()
		return nil, st, err
	}
	return s, st, nil
}

// checkDuration checks, before anything is sent, that exactly one of the duration flags is
// given and that its value can be right at all.
func (f storeFlags) checkDuration(cmd *cobra.Command) error {
	n := 0
	for _, name := range []string{flagEpochs, flagExpiry, flagEndEpoch} {
		if cmd.Flags().Changed(name) {
			n++
		}
	}
	switch {
	case n == 0:
		return usageError{withHint(errors.New("how long to store is required: give one of --epochs N|max, --earliest-expiry-time TIME and --end-epoch EPOCH"),
			"--epochs 1 ends with the current epoch; 'walrus info epoch' shows when epochs end")}
	case n > 1:
		return usageError{errors.New("give only one of --epochs, --earliest-expiry-time and --end-epoch")}
	}
	switch {
	case cmd.Flags().Changed(flagEpochs) && f.epochs != "max":
		if _, err := f.epochCount(^uint32(0)); err != nil {
			return err
		}
	case cmd.Flags().Changed(flagEndEpoch):
		if f.endEpoch <= 0 || f.endEpoch > 1<<32-1 {
			return usageError{fmt.Errorf("--end-epoch %d: must be a future epoch", f.endEpoch)}
		}
	case cmd.Flags().Changed(flagExpiry):
		if _, err := parseExpiryTime(f.expiry); err != nil {
			return err
		}
	}
	return nil
}

// epochCount parses --epochs N (not 'max') against the maximum number of epochs ahead.
func (f storeFlags) epochCount(maxAhead uint32) (uint32, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(f.epochs), 10, 64)
	if err != nil {
		return 0, usageError{fmt.Errorf("--epochs %q: want a number of epochs or 'max'", f.epochs)}
	}
	if n <= 0 {
		return 0, usageError{withHint(fmt.Errorf("--epochs %d: must be at least 1", n), "--epochs 1 stores until the end of the current epoch")}
	}
	if n > int64(maxAhead) {
		return 0, usageError{withHint(fmt.Errorf("--epochs %d: more than the maximum of %d epochs ahead", n, maxAhead), "use --epochs max")}
	}
	return uint32(n), nil
}

// options turns the flags into store options against the chain's parameters and current
// epoch (clock); checkDuration has passed.
func (f storeFlags) options(cmd *cobra.Command, clock epochClock) (client.StoreOptions, error) {
	o := client.StoreOptions{Permanent: f.permanent, Force: f.force, DryRun: f.dryRun, Share: f.share}
	if f.uploadRelay != "" {
		u, err := url.Parse(f.uploadRelay)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return o, usageError{fmt.Errorf("--upload-relay %q: want an http or https URL", f.uploadRelay)}
		}
		o.UploadRelay = uploadrelay.NewClient(f.uploadRelay, &http.Client{Timeout: uploadRelayTimeout})
		if f.skipTipConfirmation {
			o.MaxTip = math.MaxUint64
		}
	}
	maxAhead := clock.params.MaxEpochsAhead
	switch {
	case cmd.Flags().Changed(flagEndEpoch):
		o.EndEpoch = uint32(f.endEpoch)
	case cmd.Flags().Changed(flagExpiry):
		t, err := parseExpiryTime(f.expiry)
		if err != nil {
			return o, err
		}
		if !t.After(time.Now()) {
			return o, usageError{fmt.Errorf("--earliest-expiry-time %s is in the past", t.UTC().Format(time.RFC3339))}
		}
		end := chain.EpochsUntil(clock.params, clock.sys, t.UnixNano())
		if uint64(end) > uint64(clock.sys.Epoch)+uint64(maxAhead) {
			latest := clock.sys.Epoch + maxAhead
			return o, usageError{withHint(fmt.Errorf("--earliest-expiry-time %s: needs end epoch %d, more than the maximum of %d epochs ahead", t.UTC().Format(time.RFC3339), end, maxAhead),
				fmt.Sprintf("the latest possible expiry is epoch %s", clock.endEpoch(latest)))}
		}
		o.EndEpoch = end
	case f.epochs == "max":
		o.Epochs = maxAhead
	default:
		n, err := f.epochCount(maxAhead)
		if err != nil {
			return o, err
		}
		o.Epochs = n
	}
	return o, nil
}

// checkInputs checks that every input can be stored before any is: it exists, is readable,
// is not a directory and (if a regular file and max > 0) is not larger than max; standard
// input ("-") may appear once. store passes 0: a file larger than a blob is stored as chunks.
func checkInputs(paths []string, max uint64) error {
	stdin := 0
	for _, path := range paths {
		if path == "-" {
			if stdin++; stdin > 1 {
				return usageError{errors.New("standard input (-) can be stored only once")}
			}
			continue
		}
		f, err := os.Open(path)
		if err != nil {
			return withHint(fmt.Errorf("cannot read %s: %w", path, unwrapPathError(err)), "nothing was stored")
		}
		st, err := f.Stat()
		f.Close()
		switch {
		case err != nil:
			return withHint(fmt.Errorf("cannot read %s: %w", path, unwrapPathError(err)), "nothing was stored")
		case st.IsDir():
			return withHint(fmt.Errorf("%s is a directory", path), "nothing was stored; give the files in it")
		case max > 0 && st.Mode().IsRegular() && uint64(st.Size()) > max:
			return withHint(fmt.Errorf("%s is %d bytes, larger than the maximum blob size %d: %w", path, st.Size(), max, redstuff.ErrDataTooLarge),
				"nothing was stored; larger blobs need more shards")
		}
	}
	return nil
}

func runStore(ce *clientEnv, cmd *cobra.Command, paths []string, f storeFlags) error {
	if err := f.check(cmd); err != nil {
		return err
	}
	var recipients []age.Recipient
	if f.enc.enabled() {
		var err error
		if recipients, err = f.enc.recipients(defaultPassphraseSource()); err != nil {
			return err
		}
	}
	s, st, err := ce.storeSession(cmd, f)
	if err != nil {
		return err
	}
	defer s.close()
	opts, enc, clock := st.opts, st.enc, st.clock
	if err := checkInputs(paths, 0); err != nil {
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
		var f *os.File
		if recipients == nil {
			f = openChunked(path, enc.MaxBlobSize())
		}
		switch {
		case f != nil:
			res, err = storeChunked(ce, s, f, path, opts)
		case streamedInput(path, enc.MaxBlobSize(), recipients != nil):
			res, err = storeStreamed(ce, s, path, recipients, opts)
		default:
			var data []byte
			if recipients != nil {
				data, err = sealInput(path, ce.stdin, recipients, enc.MaxBlobSize())
			} else {
				data, err = readInput(path, enc.MaxBlobSize(), ce.stdin)
			}
			if err != nil {
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
				printDryRun(ce, path, res.DryRun, clock)
			}
			continue
		}
		results = append(results, storeOutput{BlobStoreResult: res, Path: path})
		if recipients != nil {
			results[len(results)-1].Encryption = "age"
		}
		if !ce.json {
			printStoreResult(ce, path, res, clock)
			printEncrypted(ce.stdout, recipients)
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

func printDryRun(ce *clientEnv, path string, d *client.DryRun, clock epochClock) {
	w := ce.stdout
	fmt.Fprintf(w, "Dry run: %s\n", path)
	fmt.Fprintf(w, "Blob ID: %s\n", d.BlobID)
	fmt.Fprintf(w, "Unencoded size: %s\n", humanBytes(d.UnencodedSize))
	fmt.Fprintf(w, "Encoded size (including replicated metadata): %s\n", humanBytes(d.EncodedSize))
	fmt.Fprintf(w, "Cost (excluding fees): %s (storage %s for %d epochs, write %s)\n",
		humanWAL(d.StorageCost+d.WriteCost), humanWAL(d.StorageCost), d.Epochs, humanWAL(d.WriteCost))
	fmt.Fprintf(w, "Expiry epoch (exclusive): %s\n", clock.endEpoch(clock.sys.Epoch+d.Epochs))
}

func printStoreResult(ce *clientEnv, path string, res *client.StoreResult, clock epochClock) {
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
		fmt.Fprintf(w, "Expiry epoch (exclusive): %s\n", clock.endEpoch(ac.EndEpoch))
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
		case nc.ResourceOperation.ReuseAndExtend != nil:
			op = fmt.Sprintf("the owned blob object was extended by %d epochs", nc.ResourceOperation.ReuseAndExtend.EpochsExtended)
		}
		fmt.Fprintf(w, "Success: %s blob stored successfully.\n", kind)
		fmt.Fprintf(w, "Path: %s\n", path)
		fmt.Fprintf(w, "Blob ID: %s\n", b.BlobID)
		fmt.Fprintf(w, "Object ID: %s\n", b.ID)
		fmt.Fprintf(w, "Unencoded size: %s\n", humanBytes(b.Size))
		fmt.Fprintf(w, "Encoded size (including replicated metadata): %s\n", humanBytes(b.Storage.StorageSize))
		fmt.Fprintf(w, "Cost (excluding fees): %s (%s)\n", humanWAL(nc.Cost), op)
		fmt.Fprintf(w, "Expiry epoch (exclusive): %s\n", clock.endEpoch(b.Storage.EndEpoch))
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
