package cli

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// buildVersion returns the module version and, if the binary was built from a checkout, the
// commit (shortened, with "+dirty" for uncommitted changes): "v1.2.3", "(devel) 0123abcd4567",
// "(devel) 0123abcd4567+dirty". Without build information it returns "(unknown)".
func buildVersion(info *debug.BuildInfo, ok bool) string {
	if !ok || info == nil {
		return "(unknown)"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev string
	var dirty bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" || (v != "(devel)" && !dirty) {
		return v
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "+dirty"
	}
	return v + " " + rev
}

// version is the version of this binary (see buildVersion).
func version() string { return buildVersion(debug.ReadBuildInfo()) }

func versionCommand(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of walrus",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if e.json {
				return e.printJSON(map[string]string{"version": version()})
			}
			fmt.Fprintf(e.stdout, "walrus %s\n", version())
			return nil
		},
	}
}
