// Package cli implements the walrus command line: the command tree, flag parsing and the
// output rules shared by every command. Data goes to stdout; diagnostics go to stderr as
// "walrus: error: ..." (lower case, no trailing period) with "hint: ..." lines where they
// help; machine-readable output is selected with --json on every command.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// env is what a command may touch: its context and standard streams, plus global flags.
type env struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	json   bool
}

// usageError marks errors in the command line itself (exit code 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// hintError carries a hint line printed after the error.
type hintError struct {
	err  error
	hint string
}

func (e hintError) Error() string { return e.err.Error() }
func (e hintError) Unwrap() error { return e.err }

func withHint(err error, hint string) error { return hintError{err: err, hint: hint} }

// Main runs the walrus command line with args (without the program name) and returns the
// process exit code: 0 on success, 1 on failure, 2 on a usage error.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRoot(e)
	root.SetArgs(blobIDOperands(root, args))
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	msg := err.Error()
	fmt.Fprintf(stderr, "walrus: error: %s\n", strings.TrimSuffix(msg, "."))
	var h hintError
	if errors.As(err, &h) && h.hint != "" {
		fmt.Fprintf(stderr, "hint: %s\n", h.hint)
	}
	var u usageError
	if errors.As(err, &u) || isCobraUsage(msg) {
		fmt.Fprintln(stderr, "hint: run 'walrus help' for usage")
		return 2
	}
	return 1
}

func isCobraUsage(msg string) bool {
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "invalid argument", "flag needs an argument", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:           "walrus",
		Short:         "walrus-go: a Walrus decentralized blob store",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.PersistentFlags().BoolVar(&e.json, "json", false, "print machine-readable JSON output")
	root.CompletionOptions.DisableDefaultCmd = true // ours: completion.go, with Walrus's --shell
	root.AddCommand(blobIDCommand(e), convertBlobIDCommand(e), devnetCommand(e))
	addClientCommands(root, e)
	root.AddCommand(chainCommand(e), walletCommand(e), faucetCommand(e), chainInfoCommand(e))
	root.AddCommand(nodeCommand(e))
	root.AddCommand(completionCommand(e, root), jsonCommand(e))
	return root
}

// printJSON writes v as indented JSON followed by a newline.
func (e *env) printJSON(v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
