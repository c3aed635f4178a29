package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"filippo.io/age"
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
	// BlobSize is the size of the whole stored blob, also for a range read.
	BlobSize int64 `json:"blobSize"`
	// Range is the part of the blob read with --offset/--length.
	Range *rangeOutput `json:"range,omitempty"`
	// AgeEncrypted marks a blob that is an age file; Decrypted that the output is its
	// plaintext.
	AgeEncrypted bool `json:"ageEncrypted,omitempty"`
	Decrypted    bool `json:"decrypted,omitempty"`
}

// rangeOutput is the byte range of a range read: Length bytes from Offset.
type rangeOutput struct {
	Offset int64 `json:"offset"`
	Length int64 `json:"length"`
}

func readCommand(ce *clientEnv) *cobra.Command {
	var out string
	var strict, skip bool
	var offset, length int64
	var dec decryptFlags
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
			var rng *byteRange
			if cmd.Flags().Changed("offset") || cmd.Flags().Changed("length") {
				if offset < 0 || length < 0 {
					return usageError{errors.New("--offset and --length must not be negative")}
				}
				rng = &byteRange{offset, length}
			}
			if rng != nil && dec.enabled() {
				return usageError{errors.New("--offset and --length cannot be combined with --identity or --passphrase: an encrypted blob is decrypted whole")}
			}
			return runRead(ce, id, out, check, rng, dec)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "write the blob to FILE instead of standard output")
	cmd.Flags().BoolVar(&strict, "strict-consistency-check", false, "re-encode the blob and compare its blob ID")
	cmd.Flags().BoolVar(&skip, "skip-consistency-check", false, "skip the consistency check")
	cmd.Flags().Int64Var(&offset, "offset", 0, "read from byte OFFSET of the blob; only the slivers holding the bytes read are fetched")
	cmd.Flags().Int64Var(&length, "length", 0, "read at most LENGTH bytes (default: up to the end of the blob)")
	dec.register(cmd.Flags())
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

// byteRange is the part of a blob that read --offset/--length asks for; length 0 means up
// to the end.
type byteRange struct{ offset, length int64 }

func runRead(ce *clientEnv, id redstuff.BlobID, out string, check redstuff.Consistency, rng *byteRange, dec decryptFlags) error {
	if out != "" {
		if st, err := os.Stat(out); err == nil && st.IsDir() {
			return withHint(fmt.Errorf("--out %s is a directory", out), "give the name of the file to write, for example --out "+filepath.Join(out, id.String()))
		}
	}
	var ids []age.Identity
	if dec.enabled() {
		var err error
		if ids, err = dec.load(defaultPassphraseSource()); err != nil {
			return err
		}
	}
	s, err := ce.connect(ce.ctx, false)
	if err != nil {
		return err
	}
	defer s.close()
	var data []byte
	var size int64
	if rng != nil {
		if data, size, err = readRange(ce, s.client, id, check, *rng); err != nil {
			if errors.As(err, new(usageError)) {
				return err
			}
			return explain(err, s)
		}
	} else if !ce.json && !dec.enabled() {
		// Decryption authenticates the whole plaintext before writing any of it, so it
		// reads the blob whole; a plain read streams.
		return streamRead(ce, s, id, out, check)
	} else {
		bar := ce.newProgressBar(id.String())
		data, err = s.client.Read(ce.ctx, id, client.ReadOptions{Consistency: check, Progress: bar.callback()})
		bar.finish()
		if err != nil {
			return explain(err, s)
		}
		size = int64(len(data))
	}
	res := readOutput{Out: out, BlobID: id.String(), BlobSize: size}
	if rng != nil {
		res.Range = &rangeOutput{Offset: rng.offset, Length: int64(len(data))}
	}
	// An age file is recognised from its header, which only a read from offset 0 has.
	res.AgeEncrypted = isAgeFile(data) && (rng == nil || rng.offset == 0)
	if dec.enabled() {
		if data, err = decryptBlob(id.String(), data, ids); err != nil {
			return err
		}
		res.Decrypted = true
	}
	if res.AgeEncrypted && !res.Decrypted {
		defer fmt.Fprintf(ce.stderr, "hint: %s\n", encryptedHint(id.String(), data))
	}
	if out != "" {
		if err := writeFileAtomic(out, data); err != nil {
			return err
		}
	}
	switch {
	case ce.json && out != "":
		return ce.printJSON(res)
	case ce.json:
		res.Blob = data
		return ce.printJSON(res)
	case out != "" && rng != nil:
		fmt.Fprintf(ce.stderr, "Bytes %d-%d of blob %s (%s of %s) written to %s\n", rng.offset, rng.offset+int64(len(data)),
			id, humanBytes(uint64(len(data))), humanBytes(uint64(size)), out)
		return nil
	case out != "":
		what := ""
		if res.Decrypted {
			what = ", decrypted to " + humanBytes(uint64(len(data)))
		}
		fmt.Fprintf(ce.stderr, "Blob %s (%s%s) written to %s\n", id, humanBytes(uint64(size)), what, out)
		return nil
	}
	_, err = ce.stdout.Write(data)
	return err
}

// readRange reads part of a blob, fetching only the slivers that hold it, and returns the
// part and the size of the whole blob.
func readRange(ce *clientEnv, c *client.Client, id redstuff.BlobID, check redstuff.Consistency, rng byteRange) ([]byte, int64, error) {
	br, err := c.OpenBlob(ce.ctx, id, client.ReadOptions{Consistency: check})
	if err != nil {
		return nil, 0, err
	}
	size := br.Size()
	if rng.offset > size {
		return nil, 0, fmt.Errorf("--offset %d is beyond the end of the blob (%d bytes)", rng.offset, size)
	}
	n := size - rng.offset
	if rng.length > 0 {
		n = min(n, rng.length)
	}
	if err := br.Prefetch(rng.offset, n); err != nil {
		return nil, 0, err
	}
	data := make([]byte, n)
	if got, err := br.ReadAt(data, rng.offset); int64(got) != n || (err != nil && !errors.Is(err, io.EOF)) {
		return nil, 0, fmt.Errorf("reading bytes %d-%d of blob %s: %w", rng.offset, rng.offset+n, id, err)
	}
	return data, size, nil
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
		// The error names the temporary file; the user knows only path.
		var le *os.LinkError
		if errors.As(err, &le) {
			err = le.Err
		}
		return fmt.Errorf("cannot write %s: %w", path, unwrapPathError(err))
	}
	return nil
}
