package cli

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/walrus-go/walrus/internal/quilt"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// blobIDOperands lets a blob ID that starts with '-' (one in 64 of them does) be given as a
// plain operand: "walrus read -R75x..." would otherwise be parsed as a cluster of short
// flags. Every argument before "--" that is a valid blob ID, starts with '-' and is not the
// value of a preceding flag is moved behind "--", keeping the operands' order. A blob ID
// given as a flag value ("--blob-id -R75x...") already works: pflag takes the next argument
// as the value whatever it starts with.
func blobIDOperands(root *cobra.Command, args []string) []string {
	cmd, _, err := root.Find(args)
	if err != nil || cmd == nil || cmd == root {
		return args // root takes no blob IDs (an unknown command lands here)
	}
	flags := cmd.Flags()
	flags.AddFlagSet(cmd.InheritedFlags())

	end := len(args)
	for i, a := range args {
		if a == "--" {
			end = i
			break
		}
	}
	var kept, moved []string
	for i := 0; i < end; i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") && !isDashBlobID(a) {
			kept = append(kept, a)
			if takesValue(flags, a) && i+1 < end {
				i++
				kept = append(kept, args[i])
			}
			continue
		}
		if isDashBlobID(a) {
			moved = append(moved, a)
			continue
		}
		kept = append(kept, a)
	}
	if len(moved) == 0 {
		return args
	}
	out := append(kept, "--")
	out = append(out, moved...)
	if end < len(args) {
		out = append(out, args[end+1:]...)
	}
	return out
}

// isDashBlobID reports whether a is a blob ID that a flag parser would take for a flag.
func isDashBlobID(a string) bool {
	if !strings.HasPrefix(a, "-") {
		return false
	}
	if _, err := quilt.ParsePatchID(a); err == nil {
		return true // a quilt patch ID starts with '-' as often
	}
	_, err := redstuff.ParseBlobID(a)
	return err == nil
}

// takesValue reports whether the flag argument a ("--name", "-n", or a cluster ending in a
// value-taking shorthand) consumes the next argument as its value.
func takesValue(fs *pflag.FlagSet, a string) bool {
	if strings.Contains(a, "=") {
		return false
	}
	var f *pflag.Flag
	if name, ok := strings.CutPrefix(a, "--"); ok {
		f = fs.Lookup(name)
	} else {
		// "-abc": only the last shorthand can take the next argument, and only when the
		// ones before it take none (otherwise the rest of the cluster is their value).
		short := a[1:]
		for j, c := range short {
			if c >= 0x80 {
				return false // ShorthandLookup panics on a multi-byte name
			}
			g := fs.ShorthandLookup(string(c))
			if g == nil {
				return false
			}
			if g.NoOptDefVal == "" {
				if j == len(short)-1 {
					f = g
				}
				break
			}
		}
	}
	return f != nil && f.NoOptDefVal == ""
}
