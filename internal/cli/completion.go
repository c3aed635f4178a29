package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// completionShells are the shells completion generates scripts for.
var completionShells = []string{"bash", "zsh", "fish", "powershell"}

func completionCommand(e *env, root *cobra.Command) *cobra.Command {
	var shell string
	cmd := &cobra.Command{
		Use:   "completion [--shell SHELL | SHELL]",
		Short: "Print a shell completion script (bash, zsh, fish, powershell)",
		Long: "Print a completion script for the shell named by --shell (as Walrus) or the argument, or else\n" +
			"by $SHELL. For example, in bash:\n\n" +
			"  source <(walrus completion --shell bash)",
		Args:      cobra.MaximumNArgs(1),
		ValidArgs: completionShells,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if shell != "" && shell != args[0] {
					return usageError{fmt.Errorf("--shell %s and argument %s disagree", shell, args[0])}
				}
				shell = args[0]
			}
			if shell == "" {
				shell = filepath.Base(os.Getenv("SHELL"))
				if shell == "." || shell == "" {
					return usageError{withHint(fmt.Errorf("which shell? $SHELL is not set"), "pass --shell with one of "+strings.Join(completionShells, ", "))}
				}
			}
			switch shell {
			case "bash":
				return root.GenBashCompletionV2(e.stdout, true)
			case "zsh":
				return root.GenZshCompletion(e.stdout)
			case "fish":
				return root.GenFishCompletion(e.stdout, true)
			case "powershell", "pwsh":
				return root.GenPowerShellCompletionWithDesc(e.stdout)
			}
			return usageError{fmt.Errorf("no completion for shell %q: want one of %s", shell, strings.Join(completionShells, ", "))}
		},
	}
	cmd.Flags().StringVar(&shell, "shell", "", "the shell: "+strings.Join(completionShells, ", ")+" (default from $SHELL)")
	return cmd
}
