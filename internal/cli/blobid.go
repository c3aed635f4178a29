package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/internal/redstuff"
)

// DefaultShards is the shard count of Walrus Mainnet and Testnet.
const DefaultShards = 1000

// blobIDResult is the --json output of blob-id.
type blobIDResult struct {
	BlobID          string `json:"blobId"`
	UnencodedLength uint64 `json:"unencodedLength"`
	EncodedLength   uint64 `json:"encodedLength"`
	// WalrusEncodedLength is Walrus's figure for the same blob (full metadata on every shard).
	WalrusEncodedLength uint64 `json:"walrusEncodedLength"`
	SymbolSize          int    `json:"symbolSize"`
	RootHash            string `json:"rootHash"`
	NShards             int    `json:"nShards"`
}

func blobIDCommand(ce *clientEnv) *cobra.Command {
	var nShards int
	cmd := &cobra.Command{
		Use:   "blob-id FILE",
		Short: "Compute the blob ID of a file",
		Long: "Compute the RS2 blob ID a file gets on a Walrus system. The shard count is --n-shards,\n" +
			"else the configured chain's (asked once; the file is sent nowhere). The same bytes give\n" +
			"the same ID as on Walrus for the same shard count (Walrus Mainnet and Testnet: 1000).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("n-shards") {
				if err := checkInput(args[0]); err != nil {
					return err // before asking the chain
				}
				n, err := ce.chainShards()
				if err != nil {
					return err
				}
				nShards = n
			}
			return runBlobID(ce.env, args[0], nShards)
		},
	}
	cmd.Flags().IntVar(&nShards, "n-shards", 0, "number of shards of the target system (default: the configured chain's)")
	return cmd
}

// chainShards asks the configured chain for its shard count. Errors hint at --n-shards.
func (ce *clientEnv) chainShards() (int, error) {
	conn, _, done, err := ce.chainCall()
	if err != nil {
		hint := fmt.Sprintf("without a reachable chain, give the shard count: --n-shards N (Walrus Mainnet and Testnet: %d)", DefaultShards)
		var h hintError
		if errors.As(err, &h) {
			hint = h.hint + "; or " + hint
		}
		return 0, withHint(fmt.Errorf("blob-id needs the shard count: %w", err), hint)
	}
	defer done()
	return int(conn.params.NShards), nil
}

func runBlobID(e *env, path string, nShards int) error {
	cfg, err := redstuff.NewConfig(nShards)
	if err != nil {
		return usageError{fmt.Errorf("--n-shards %d: %w", nShards, err)}
	}
	data, release, err := mapOrReadInput(path, cfg.MaxBlobSize(), e.stdin)
	if err != nil {
		return err
	}
	m, err := cfg.ComputeMetadata(data)
	release()
	if errors.Is(err, redstuff.ErrDataTooLarge) {
		return withHint(err, fmt.Sprintf("at most %d bytes fit %d shards; more shards hold larger blobs", cfg.MaxBlobSize(), nShards))
	}
	if err != nil {
		return err
	}
	sym, _ := cfg.SymbolSize(m.UnencodedLength)
	encLen, _ := cfg.EncodedLength(m.UnencodedLength)
	walrusLen, _ := cfg.WalrusEncodedLength(m.UnencodedLength)
	root := m.Root()
	res := blobIDResult{
		BlobID:              m.BlobID.String(),
		UnencodedLength:     m.UnencodedLength,
		EncodedLength:       encLen,
		WalrusEncodedLength: walrusLen,
		SymbolSize:          sym,
		RootHash:            root.String(),
		NShards:             nShards,
	}
	if e.json {
		return e.printJSON(res)
	}
	fmt.Fprintf(e.stdout, "Blob ID: %s\n", res.BlobID)
	fmt.Fprintf(e.stdout, "Unencoded size: %d bytes\n", res.UnencodedLength)
	fmt.Fprintf(e.stdout, "Encoded size: %d bytes (%d shards, symbol size %d)\n", res.EncodedLength, nShards, sym)
	fmt.Fprintf(e.stdout, "Encoded size in Walrus's accounting: %d bytes\n", res.WalrusEncodedLength)
	return nil
}

// checkInput reports a file readInput would refuse for what it is: missing, unreadable or a
// directory ("-", standard input, passes).
func checkInput(path string) error {
	if path == "-" {
		return nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", path, unwrapPathError(err))
	}
	if st.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	}
	return nil
}

// mapInputMin is the smallest regular file that mapOrReadInput maps rather than reads.
const mapInputMin = 1 << 20

// mapOrReadInput is readInput, except that a regular file of at least mapInputMin bytes is
// mapped read-only where the platform allows it (see mapInput). The bytes are valid until
// release is called; release is never nil.
func mapOrReadInput(path string, max uint64, stdin io.Reader) (data []byte, release func(), err error) {
	if path != "-" {
		f, st, err := openInput(path, max)
		if err != nil {
			return nil, nil, err
		}
		defer f.Close()
		if st.Mode().IsRegular() && st.Size() >= mapInputMin {
			if b, unmap, err := mapInput(f, st.Size()); err == nil {
				return b, unmap, nil
			}
		}
	}
	data, err = readInput(path, max, stdin)
	return data, func() {}, err
}

// readInput reads a whole file, or stdin for "-", refusing files larger than max.
func readInput(path string, max uint64, stdin io.Reader) ([]byte, error) {
	if path == "-" {
		return readLimited(stdin, max, "standard input")
	}
	f, st, err := openInput(path, max)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st.Mode().IsRegular() {
		// Read into a buffer of the exact size rather than a growing one.
		data := make([]byte, st.Size())
		if _, err := io.ReadFull(f, data); err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", path, err)
		}
		return data, nil
	}
	return readLimited(f, max, path)
}

// openInput opens the file at path for reading a blob: not a directory and, if a regular
// file, at most max bytes. The caller closes the file.
func openInput(path string, max uint64) (*os.File, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read %s: %w", path, unwrapPathError(err))
	}
	st, err := f.Stat()
	switch {
	case err != nil:
		err = fmt.Errorf("cannot read %s: %w", path, unwrapPathError(err))
	case st.IsDir():
		err = fmt.Errorf("%s is a directory", path)
	case st.Mode().IsRegular() && uint64(st.Size()) > max:
		err = fmt.Errorf("%s is %d bytes, larger than the maximum blob size %d: %w", path, st.Size(), max, redstuff.ErrDataTooLarge)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

func convertBlobIDCommand(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "convert-blob-id DECIMAL",
		Short: "Convert a blob ID from its on-chain decimal u256 form to base64url",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := redstuff.BlobIDFromU256(args[0])
			if err != nil {
				return usageError{err}
			}
			if e.json {
				return e.printJSON(map[string]string{"blobId": id.String()})
			}
			fmt.Fprintln(e.stdout, id.String())
			return nil
		},
	}
}
