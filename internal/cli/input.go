package cli

import (
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/walrus-go/walrus/internal/redstuff"
)

// readLimited reads r to the end, failing once more than max bytes arrive.
func readLimited(r io.Reader, max uint64, name string) ([]byte, error) {
	limit := int64(max)
	if max >= 1<<62 {
		limit = 1 << 62
	}
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", name, err)
	}
	if uint64(len(data)) > max {
		return nil, fmt.Errorf("%s is larger than the maximum blob size %d: %w", name, max, redstuff.ErrDataTooLarge)
	}
	return data, nil
}

// unwrapPathError drops the operation and path that *fs.PathError repeats.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// storePaths returns the files that store reads: its operands, or "-" (standard input)
// for --stdin. Standard input can be read once, so "-" may appear only once.
func storePaths(args []string, stdin bool) ([]string, error) {
	if stdin {
		if len(args) > 0 {
			return nil, usageError{errors.New("give either --stdin or files, not both")}
		}
		return []string{"-"}, nil
	}
	if len(args) == 0 {
		return nil, usageError{withHint(errors.New("no file to store"), "give files, or '-' or --stdin to read standard input")}
	}
	dashes := 0
	for _, a := range args {
		if a == "-" {
			dashes++
		}
	}
	if dashes > 1 {
		return nil, usageError{errors.New("standard input ('-') can be stored only once")}
	}
	return args, nil
}
