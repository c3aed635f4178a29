package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// readOutput is read's --json output (Walrus's ReadOutput): the blob in base64 when it
// is not written to a file.
type readOutput struct {
	Out    string `json:"out,omitempty"`
	BlobID string `json:"blobId"`
	Blob   []byte `json:"blob,omitempty"`
}

func readCommand(ce *clientEnv) *cobra.Command {
	var out string
	var strict, skip bool
	cmd := &cobra.Command{
		Use:   "read BLOB_ID",
		Short: "Read a blob and write it to standard output or a file",
		Long: "Read a blob from the storage nodes, verify every sliver against the blob's metadata, decode\n" +
			"it and check its consistency, then write it to standard output or to --out FILE.\n" +
			"A blob ID that starts with '-' is taken as the blob ID, not as flags.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseBlobIDArg(args[0])
			if err != nil {
				return err
			}
			if strict && skip {
				return usageError{errors.New("give either --strict-consistency-check or --skip-consistency-check, not both")}
			}
			check := redstuff.ConsistencyDefault
			switch {
			case strict:
				check = redstuff.ConsistencyStrict
			case skip:
				check = redstuff.ConsistencySkip
			}
			return runRead(ce, id, out, check)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "write the blob to FILE instead of standard output")
	cmd.Flags().BoolVar(&strict, "strict-consistency-check", false, "re-encode the blob and compare its blob ID")
	cmd.Flags().BoolVar(&skip, "skip-consistency-check", false, "skip the consistency check")
	return cmd
}

// parseBlobIDArg parses a blob ID given on the command line.
func parseBlobIDArg(s string) (redstuff.BlobID, error) {
	id, err := redstuff.ParseBlobID(s)
	if err != nil {
		return id, usageError{withHint(fmt.Errorf("invalid blob ID %q", s),
			"a blob ID is 43 URL-safe base64 characters, as 'walrus store' and 'walrus blob-id' print it")}
	}
	return id, nil
}

func runRead(ce *clientEnv, id redstuff.BlobID, out string, check redstuff.Consistency) error {
	s, err := ce.connect(ce.ctx, false)
	if err != nil {
		return err
	}
	defer s.close()
	bar := ce.newProgressBar(id.String())
	data, err := s.client.Read(ce.ctx, id, client.ReadOptions{Consistency: check, Progress: bar.callback()})
	bar.finish()
	if err != nil {
		return explain(err, s)
	}
	if out != "" {
		if err := writeFileAtomic(out, data); err != nil {
			return err
		}
	}
	switch {
	case ce.json && out != "":
		return ce.printJSON(readOutput{Out: out, BlobID: id.String()})
	case ce.json:
		return ce.printJSON(readOutput{BlobID: id.String(), Blob: data})
	case out != "":
		fmt.Fprintf(ce.stderr, "Blob %s (%s) written to %s\n", id, humanBytes(uint64(len(data))), out)
		return nil
	}
	_, err = ce.stdout.Write(data)
	return err
}

// writeFileAtomic writes data to a temporary file beside path and renames it into place,
// so a failed write never leaves a truncated file.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".walrus-read-*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, unwrapPathError(err))
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("cannot write %s: %w", path, unwrapPathError(err))
	}
	return nil
}
