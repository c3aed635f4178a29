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

// usageError marks errors in the command line itself: an unknown command or flag, a
// missing or malformed operand or flag value. Main exits with code 2 for them and adds the
// 'walrus help' hint; every other error exits with code 1. Usage errors are typed, never
// recognized by their text.
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
	fmt.Fprintf(stderr, "walrus: error: %s\n", strings.TrimSuffix(err.Error(), "."))
	var h hintError
	if errors.As(err, &h) && h.hint != "" {
		fmt.Fprintf(stderr, "hint: %s\n", h.hint)
	}
	var u usageError
	if errors.As(err, &u) {
		fmt.Fprintln(stderr, "hint: run 'walrus help' for usage")
		return 2
	}
	return 1
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:           "walrus",
		Short:         "walrus-go: a Walrus decentralized blob store",
		Version:       version(),
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetVersionTemplate("walrus {{.Version}}\n")
	root.PersistentFlags().BoolVar(&e.json, "json", false, "print machine-readable JSON output")
	root.CompletionOptions.DisableDefaultCmd = true // ours: completion.go, with Walrus's --shell
	ce := addClientCommands(root, e)
	root.AddCommand(blobIDCommand(ce), convertBlobIDCommand(e), devnetCommand(e))
	root.AddCommand(chainCommand(e), walletCommand(ce), faucetCommand(ce), infoCommand(ce), governanceCommand(ce))
	root.AddCommand(nodeCommand(e), versionCommand(e))
	root.AddCommand(completionCommand(e, root), jsonCommand(e))
	typeUsageErrors(root)
	return root
}

// typeUsageErrors makes every usage error cobra detects a usageError: flag parse errors
// (through the flag error function), operand count errors (by wrapping each command's Args
// validator), missing required flags (checked before the command runs), and unknown
// commands (a command with subcommands and no action of its own gets a validator that
// refuses operands and prints its help when called alone).
func typeUsageErrors(root *cobra.Command) {
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if err := cmd.ValidateRequiredFlags(); err != nil {
			return usageError{err}
		}
		if err := cmd.ValidateFlagGroups(); err != nil {
			return usageError{err}
		}
		return nil
	}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		switch {
		case c.Args != nil:
			args := c.Args
			c.Args = func(cmd *cobra.Command, a []string) error {
				if err := args(cmd, a); err != nil {
					return usageError{err}
				}
				return nil
			}
		case c.HasSubCommands() && !c.Runnable():
			c.Args = unknownSubcommand
			c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// unknownSubcommand refuses any operand of a command that only groups subcommands.
func unknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return usageError{errors.New(msg)}
}

// printJSON writes v as indented JSON followed by a newline.
func (e *env) printJSON(v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
