package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// maxJSONCommand bounds the JSON command read from standard input.
const maxJSONCommand = 1 << 20

// jsonPositionals names, per command, the JSON fields that are positional arguments on the
// command line (Walrus's argument names in camelCase), in their command-line order. Every
// other field is a flag of the same name in kebab-case.
var jsonPositionals = map[string][]string{
	"store":                        {"files"},
	"read":                         {"blobId"},
	"blob-id":                      {"file"},
	"convert-blob-id":              {"blobIdDecimal"},
	"request-withdraw-stake":       {"nodeId", "stakedWalIds"},
	"withdraw-stake":               {"stakedWalIds"},
	"get-blob-attribute":           {"blobObjId"},
	"set-blob-attribute":           {"blobObjId"},
	"remove-blob-attribute":        {"blobObjId"},
	"remove-blob-attribute-fields": {"blobObjId"},
}

// jsonCommandLine turns a JSON command in Walrus's shape,
//
//	{"config": "client.yaml", "command": {"store": {"files": ["a.txt"], "epochs": 2}}}
//
// into a command line (with --json) for root: top-level fields other than "command" are
// global flags, "command" holds exactly one command (camelCase, as "blobStatus") whose
// fields are its flags (camelCase of the kebab-case names) or positional arguments (see
// jsonPositionals). A true boolean is a flag without value, a false one or null is left
// out, an array repeats the flag (set-blob-attribute's "attributes" is [KEY, VALUE, ...]
// and remove-blob-attribute-fields' "keys" a list). Unknown commands and fields are
// errors naming them.
func jsonCommandLine(root *cobra.Command, input []byte) ([]string, error) {
	var top map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(input))
	dec.UseNumber()
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("json: not a JSON object: %w", err)
	}
	if dec.More() {
		return nil, errors.New("json: more than one JSON value")
	}
	raw, ok := top["command"]
	if !ok {
		return nil, errors.New(`json: no "command" field`)
	}
	var command map[string]json.RawMessage
	if err := json.Unmarshal(raw, &command); err != nil || len(command) != 1 {
		return nil, errors.New(`json: "command" must be an object with exactly one command, as {"store": {...}}`)
	}
	var name string
	var body json.RawMessage
	for k, v := range command {
		name, body = kebab(k), v
	}
	if name == "json" {
		return nil, errors.New("json: a JSON command cannot run the json command")
	}
	cmd, rest, err := root.Find([]string{name})
	if err != nil || cmd == root || len(rest) != 0 {
		return nil, fmt.Errorf("json: unknown command %q", name)
	}
	args := []string{"--json"}
	for _, k := range sortedKeys(top) {
		if k == "command" || k == "json" {
			continue
		}
		flag := kebab(k)
		if root.PersistentFlags().Lookup(flag) == nil {
			return nil, fmt.Errorf("json: unknown global option %q", k)
		}
		vals, err := jsonFlagValues(flag, top[k])
		if err != nil {
			return nil, err
		}
		args = append(args, vals...)
	}
	args = append(args, strings.Fields(cmd.CommandPath())[1:]...)
	var fields map[string]json.RawMessage
	if len(body) > 0 && string(body) != "null" {
		d := json.NewDecoder(bytes.NewReader(body))
		d.UseNumber()
		if err := d.Decode(&fields); err != nil {
			return nil, fmt.Errorf("json: command %q: want an object of options: %w", name, err)
		}
	}
	positionalNames := jsonPositionals[name]
	var positional []string
	for _, p := range positionalNames {
		v, ok := fields[p]
		if !ok {
			continue
		}
		vals, err := jsonScalars(p, v)
		if err != nil {
			return nil, err
		}
		positional = append(positional, vals...)
	}
	for _, k := range sortedKeys(fields) {
		if slices.Contains(positionalNames, k) {
			continue
		}
		v := fields[k]
		switch {
		case name == "set-blob-attribute" && k == "attributes":
			vals, err := jsonScalars(k, v)
			if err != nil {
				return nil, err
			}
			if len(vals)%2 != 0 {
				return nil, errors.New(`json: "attributes" must be [KEY, VALUE, KEY, VALUE, ...]`)
			}
			for i := 0; i < len(vals); i += 2 {
				args = append(args, "--attr", vals[i], vals[i+1])
			}
			continue
		case name == "remove-blob-attribute-fields" && k == "keys":
			vals, err := jsonScalars(k, v)
			if err != nil {
				return nil, err
			}
			for _, key := range vals {
				args = append(args, "--keys="+key)
			}
			continue
		}
		flag := kebab(k)
		f := cmd.Flags().Lookup(flag)
		if f == nil {
			f = cmd.InheritedFlags().Lookup(flag)
		}
		if f == nil || f.Hidden {
			return nil, fmt.Errorf("json: command %q has no option %q", name, k)
		}
		vals, err := jsonFlagValues(f.Name, v)
		if err != nil {
			return nil, err
		}
		args = append(args, vals...)
	}
	if len(positional) > 0 {
		args = append(args, "--")
		args = append(args, positional...)
	}
	return args, nil
}

// jsonFlagValues turns one option's JSON value into command-line arguments for --flag.
func jsonFlagValues(flag string, v json.RawMessage) ([]string, error) {
	switch t := strings.TrimSpace(string(v)); t {
	case "true":
		return []string{"--" + flag}, nil
	case "false", "null":
		return nil, nil
	}
	vals, err := jsonScalars(flag, v)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range vals {
		out = append(out, "--"+flag+"="+s)
	}
	return out, nil
}

// jsonScalars returns a JSON string, number or array of them as strings.
func jsonScalars(name string, v json.RawMessage) ([]string, error) {
	var list []json.RawMessage
	if err := json.Unmarshal(v, &list); err != nil {
		list = []json.RawMessage{v}
	}
	var out []string
	for _, item := range list {
		d := json.NewDecoder(bytes.NewReader(item))
		d.UseNumber()
		var x any
		if err := d.Decode(&x); err != nil {
			return nil, fmt.Errorf("json: %q: %w", name, err)
		}
		switch x := x.(type) {
		case string:
			out = append(out, x)
		case json.Number:
			out = append(out, x.String())
		case bool:
			out = append(out, strconv.FormatBool(x))
		default:
			return nil, fmt.Errorf("json: %q: want a string, a number or a list of them", name)
		}
	}
	return out, nil
}

// kebab turns camelCase into kebab-case ("blobStatus" → "blob-status"); kebab-case stays.
func kebab(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('-')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func jsonCommand(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "json [COMMAND_JSON]",
		Short: "Run a command given as JSON (from the argument or standard input), printing JSON",
		Long: "Run one command given as a JSON object in Walrus's shape, from the argument or else from\n" +
			"standard input, with --json output. Top-level fields are global options, \"command\" holds the\n" +
			"command with its options in camelCase:\n\n" +
			"  {\"config\": \"client.yaml\", \"command\": {\"store\": {\"files\": [\"a.txt\"], \"epochs\": 2}}}\n" +
			"  {\"command\": {\"read\": {\"blobId\": \"...\", \"out\": \"a.out\"}}}\n" +
			"  {\"command\": {\"setBlobAttribute\": {\"blobObjId\": \"0x...\", \"attributes\": [\"k\", \"v\"]}}}",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var input []byte
			if len(args) == 1 {
				input = []byte(args[0])
			} else {
				var err error
				if input, err = readLimited(e.stdin, maxJSONCommand, "standard input"); err != nil {
					return err
				}
			}
			inner := &env{ctx: e.ctx, stdin: e.stdin, stdout: e.stdout, stderr: e.stderr}
			root := newRoot(inner)
			line, err := jsonCommandLine(root, input)
			if err != nil {
				return usageError{withHint(err, "see 'walrus json --help' for the shape")}
			}
			// Global flags given on the command line apply unless the JSON sets them: the
			// JSON's come later and win.
			var globals []string
			cmd.InheritedFlags().VisitAll(func(f *pflag.Flag) {
				if f.Changed && f.Name != "json" {
					globals = append(globals, "--"+f.Name+"="+f.Value.String())
				}
			})
			root.SetArgs(append(globals, line...))
			root.SetIn(e.stdin)
			root.SetOut(e.stdout)
			root.SetErr(e.stderr)
			return root.ExecuteContext(e.ctx)
		},
	}
}
