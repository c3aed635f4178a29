package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/internal/chain"
)

// blobAttribute is a blob's attributes in Walrus's JSON form (a Move VecMap):
// {"metadata": {"contents": [{"key": ..., "value": ...}]}}.
type blobAttribute struct {
	Metadata struct {
		Contents []attributeEntry `json:"contents"`
	} `json:"metadata"`
}

type attributeEntry struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// getBlobAttributeOutput is the --json output of the attribute commands (Walrus's
// GetBlobAttributeOutput): attribute is null when the blob has none.
type getBlobAttributeOutput struct {
	Attribute *blobAttribute `json:"attribute"`
}

func attributeOutput(b *chain.Blob) getBlobAttributeOutput {
	if len(b.Attributes) == 0 {
		return getBlobAttributeOutput{}
	}
	a := &blobAttribute{}
	for _, kv := range b.Attributes {
		a.Metadata.Contents = append(a.Metadata.Contents, attributeEntry{Key: kv.Key, Value: kv.Value})
	}
	return getBlobAttributeOutput{Attribute: a}
}

func printAttributes(ce *clientEnv, b *chain.Blob) error {
	if ce.json {
		return ce.printJSON(attributeOutput(b))
	}
	if len(b.Attributes) == 0 {
		fmt.Fprintln(ce.stdout, "No attribute found")
		return nil
	}
	fmt.Fprintln(ce.stdout, "Attribute")
	for _, a := range b.Attributes {
		fmt.Fprintf(ce.stdout, "%s: %s\n", a.Key, a.Value)
	}
	return nil
}

// expandMultiValueFlags rewrites the flags that take several values in Walrus's syntax
// into ones pflag parses, keeping their order: each "--NAME A B" with pairs[NAME] = SECOND
// becomes "--NAME A --SECOND B" (set-blob-attribute's --attr KEY VALUE), and each "--NAME
// A B C" with greedy[NAME] becomes "--NAME A --NAME B --NAME C", taking arguments up to
// the next one that starts with '-'. "--NAME=A" forms are understood; nothing after "--"
// is touched.
func expandMultiValueFlags(args []string, pairs map[string]string, greedy map[string]bool) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		name, inline, hasInline := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !strings.HasPrefix(a, "--") {
			out = append(out, a)
			continue
		}
		if second, ok := pairs[name]; ok {
			out = append(out, a)
			if !hasInline {
				if i+1 >= len(args) {
					continue
				}
				i++
				out = append(out, args[i])
			}
			if i+1 < len(args) && args[i+1] != "--" {
				i++
				out = append(out, "--"+second, args[i])
			}
			continue
		}
		if greedy[name] {
			var vals []string
			if hasInline {
				vals = append(vals, inline)
			}
			for i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				i++
				vals = append(vals, args[i])
			}
			if len(vals) == 0 {
				out = append(out, a) // pflag reports the missing value
				continue
			}
			for _, v := range vals {
				out = append(out, "--"+name+"="+v)
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

// parseExpanded parses a command's arguments after expandMultiValueFlags; the command has
// DisableFlagParsing set so that cobra leaves them alone. It returns the positional
// arguments, or errHelp if --help was asked for (and printed).
func parseExpanded(cmd *cobra.Command, args []string, pairs map[string]string, greedy map[string]bool) ([]string, error) {
	// ParseFlags does nothing while DisableFlagParsing is set; it is set only to keep cobra
	// from parsing the arguments before they are expanded.
	cmd.DisableFlagParsing = false
	err := cmd.ParseFlags(expandMultiValueFlags(args, pairs, greedy))
	cmd.DisableFlagParsing = true
	if err != nil {
		return nil, usageError{err}
	}
	if h, _ := cmd.Flags().GetBool("help"); h {
		return nil, errHelp
	}
	return cmd.Flags().Args(), nil
}

// errHelp stops a command whose --help was printed.
var errHelp = errors.New("help printed")

// blobObjArg parses the one positional argument, the blob object ID.
func blobObjArg(args []string) (chain.ObjectID, error) {
	if len(args) != 1 {
		return chain.ObjectID{}, usageError{fmt.Errorf("give one blob object ID (got %d arguments)", len(args))}
	}
	return parseObjectIDArg("BLOB_OBJ_ID", args[0])
}

// runAttrCommand runs an attribute command that parses its own flags.
func runAttrCommand(cmd *cobra.Command, args []string, pairs map[string]string, greedy map[string]bool, run func(chain.ObjectID) error) error {
	pos, err := parseExpanded(cmd, args, pairs, greedy)
	if errors.Is(err, errHelp) {
		return cmd.Help()
	}
	if err != nil {
		return err
	}
	obj, err := blobObjArg(pos)
	if err != nil {
		return err
	}
	return run(obj)
}

func getBlobAttributeCommand(ce *clientEnv) *cobra.Command {
	return &cobra.Command{
		Use:   "get-blob-attribute BLOB_OBJ_ID",
		Short: "Print a blob object's attributes",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			obj, err := blobObjArg(args)
			if err != nil {
				return err
			}
			s, err := ce.connect(ce.ctx, false)
			if err != nil {
				return err
			}
			defer s.close()
			b, err := s.client.BlobObject(ce.ctx, obj)
			switch {
			case errors.Is(err, chain.ErrNotFound):
				return withHint(fmt.Errorf("no blob object %s", obj), "'walrus list-blobs' lists the wallet's blob objects")
			case errors.Is(err, chain.ErrWrongObjectKind):
				return fmt.Errorf("object %s is not a blob object", obj)
			case err != nil:
				return explain(err, s)
			}
			return printAttributes(ce, b)
		},
	}
}

// checkAttribute validates one attribute pair as the chain will.
func checkAttribute(key, value string) error {
	switch {
	case key == "":
		return usageError{errors.New("--attr: an attribute key must not be empty")}
	case !utf8.ValidString(key) || !utf8.ValidString(value):
		return usageError{fmt.Errorf("--attr %q: keys and values must be UTF-8 text", key)}
	case len(key) > chain.MaxAttributeKeyLen:
		return usageError{fmt.Errorf("--attr: key of %d bytes, the maximum is %d", len(key), chain.MaxAttributeKeyLen)}
	case len(value) > chain.MaxAttributeValueLen:
		return usageError{fmt.Errorf("--attr %q: value of %d bytes, the maximum is %d", key, len(value), chain.MaxAttributeValueLen)}
	}
	return nil
}

func setBlobAttributeCommand(ce *clientEnv) *cobra.Command {
	var keys, values []string
	cmd := &cobra.Command{
		Use:   "set-blob-attribute BLOB_OBJ_ID --attr KEY VALUE [--attr KEY VALUE]...",
		Short: "Set attributes of an owned blob object",
		Long: "Insert or update key-value attributes of a blob object the wallet owns; repeat --attr for\n" +
			"several. Keys are non-empty UTF-8 of at most 256 bytes, values UTF-8 of at most 4096 bytes,\n" +
			"and a blob has at most 64 attributes. Each pair is its own transaction.",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			pairs := map[string]string{"attr": "attr-value"}
			return runAttrCommand(cmd, args, pairs, nil, func(obj chain.ObjectID) error {
				if len(keys) == 0 {
					return usageError{errors.New("give at least one --attr KEY VALUE")}
				}
				if len(keys) != len(values) {
					return usageError{fmt.Errorf("--attr %q has no value: give --attr KEY VALUE", keys[len(keys)-1])}
				}
				var attrs []chain.Attribute
				for i, k := range keys {
					if err := checkAttribute(k, values[i]); err != nil {
						return err
					}
					attrs = append(attrs, chain.Attribute{Key: k, Value: values[i]})
				}
				s, err := ce.connect(ce.ctx, true)
				if err != nil {
					return err
				}
				defer s.close()
				b, err := ownedBlobArg(ce, s, obj)
				if err != nil {
					return err
				}
				have := map[string]bool{}
				for _, a := range b.Attributes {
					have[a.Key] = true
				}
				for _, a := range attrs {
					have[a.Key] = true
				}
				if len(have) > chain.MaxAttributes {
					return usageError{fmt.Errorf("blob object %s would have %d attributes, the maximum is %d", obj, len(have), chain.MaxAttributes)}
				}
				b, err = s.client.SetAttributes(ce.ctx, obj, attrs)
				if err != nil {
					return explain(err, s)
				}
				if ce.json {
					return printAttributes(ce, b)
				}
				fmt.Fprintf(ce.stdout, "Successfully set %s of blob object %s\n", plural(len(attrs), "attribute", "attributes"), obj)
				return nil
			})
		},
	}
	cmd.Flags().StringArrayVar(&keys, "attr", nil, "an attribute to set: --attr KEY VALUE")
	cmd.Flags().StringArrayVar(&values, "attr-value", nil, "")
	_ = cmd.Flags().MarkHidden("attr-value")
	return cmd
}

func removeBlobAttributeFieldsCommand(ce *clientEnv) *cobra.Command {
	var keys []string
	cmd := &cobra.Command{
		Use:   "remove-blob-attribute-fields BLOB_OBJ_ID --keys KEY...",
		Short: "Remove attributes of an owned blob object by key",
		Long: "Remove the attributes with the given keys from a blob object the wallet owns. --keys takes\n" +
			"every following argument up to the next flag (keys may contain commas and spaces).",
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAttrCommand(cmd, args, nil, map[string]bool{"keys": true}, func(obj chain.ObjectID) error {
				if len(keys) == 0 {
					return usageError{errors.New("give the keys to remove with --keys")}
				}
				return removeAttributes(ce, obj, keys, false)
			})
		},
	}
	cmd.Flags().StringArrayVar(&keys, "keys", nil, "the keys to remove")
	return cmd
}

func removeBlobAttributeCommand(ce *clientEnv) *cobra.Command {
	return &cobra.Command{
		Use:   "remove-blob-attribute BLOB_OBJ_ID",
		Short: "Remove every attribute of an owned blob object",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			obj, err := blobObjArg(args)
			if err != nil {
				return err
			}
			return removeAttributes(ce, obj, nil, true)
		},
	}
}

// removeAttributes removes keys (all with all) from an owned blob object; every key must
// exist.
func removeAttributes(ce *clientEnv, obj chain.ObjectID, keys []string, all bool) error {
	s, err := ce.connect(ce.ctx, true)
	if err != nil {
		return err
	}
	defer s.close()
	b, err := ownedBlobArg(ce, s, obj)
	if err != nil {
		return err
	}
	if all {
		for _, a := range b.Attributes {
			keys = append(keys, a.Key)
		}
		if len(keys) == 0 {
			if ce.json {
				return printAttributes(ce, b)
			}
			fmt.Fprintf(ce.stdout, "Blob object %s has no attributes; nothing to remove\n", obj)
			return nil
		}
	}
	keys = slices.Compact(slices.Sorted(slices.Values(keys)))
	for _, k := range keys {
		if _, ok := b.Attribute(k); !ok {
			return withHint(fmt.Errorf("blob object %s has no attribute %q", obj, k), "'walrus get-blob-attribute "+obj.String()+"' lists its attributes")
		}
	}
	b, err = s.client.RemoveAttributes(ce.ctx, obj, keys)
	if err != nil {
		return explain(err, s)
	}
	if ce.json {
		return printAttributes(ce, b)
	}
	fmt.Fprintf(ce.stdout, "Successfully removed %s of blob object %s\n", plural(len(keys), "attribute", "attributes"), obj)
	return nil
}
