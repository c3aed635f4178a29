package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/quilt"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// quiltBlobInput is one --blobs value of store-quilt (Walrus's QuiltBlobInput).
type quiltBlobInput struct {
	Path       string            `json:"path"`
	Identifier string            `json:"identifier"`
	Tags       map[string]string `json:"tags"`
}

// maxQuiltInputFiles bounds the files store-quilt reads before it knows the shard count;
// the quilt itself holds at most n_C - 1 (quilt.MaxPatches).
const maxQuiltInputFiles = 1 << 16

func storeQuiltCommand(ce *clientEnv) *cobra.Command {
	var f storeFlags
	var paths, blobs []string
	cmd := &cobra.Command{
		Use:     "store-quilt (--epochs N|max | --earliest-expiry-time TIME | --end-epoch EPOCH) (--paths PATH... | --blobs JSON...)",
		Aliases: []string{"write-quilt"},
		Short:   "Store files as one quilt",
		Long: "Store many small files as one blob, a quilt (QuiltV1, as in Walrus), in which each file is a\n" +
			"patch that can be read alone. --paths takes files and directories (read recursively); each\n" +
			"file's name is its identifier. --blobs takes JSON objects {\"path\": ..., \"identifier\": ...,\n" +
			"\"tags\": {...}}; without an identifier the file name is used. Identifiers must be unique.\n" +
			"A quilt holds at most n_C - 1 files (666 with 1000 shards). Several values may follow one\n" +
			"--paths or --blobs, as in Walrus, or the flag may be repeated.",
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(paths) > 0 && len(blobs) > 0:
				return usageError{errors.New("give either --paths or --blobs, not both")}
			case len(paths) > 0:
				paths = append(paths, args...)
			case len(blobs) > 0:
				blobs = append(blobs, args...)
			case len(args) > 0:
				return usageError{withHint(fmt.Errorf("unexpected operand %q", args[0]), "give the files with --paths or --blobs")}
			default:
				return usageError{errors.New("nothing to store: give --paths or --blobs")}
			}
			inputs, err := quiltInputs(paths, blobs)
			if err != nil {
				return err
			}
			return runStoreQuilt(ce, cmd, inputs, f)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&paths, "paths", nil, "files or directories to store as patches (file names are the identifiers)")
	fl.StringArrayVar(&blobs, "blobs", nil, `files to store, each as JSON {"path":..,"identifier":..,"tags":{..}}`)
	fl.StringVar(&f.epochs, flagEpochs, "", "number of epochs to store for, counting the current one, or 'max'")
	fl.StringVar(&f.expiry, flagExpiry, "", "earliest time the quilt may expire (RFC 3339, or '2006-01-02 15:04:05' in UTC)")
	fl.Int64Var(&f.endEpoch, flagEndEpoch, 0, "epoch at which the quilt expires (exclusive)")
	fl.BoolVar(&f.permanent, "permanent", false, "store a permanent quilt (it cannot be deleted before it expires)")
	fl.BoolVar(&f.deletable, "deletable", false, "store a deletable quilt (the default)")
	fl.BoolVar(&f.force, "force", false, "store even if the quilt is already certified")
	fl.BoolVar(&f.dryRun, "dry-run", false, "only print the quilt ID, the patch IDs and the cost; send nothing")
	fl.BoolVar(&f.share, "share", false, "share the new blob object once certified (see 'walrus share')")
	return cmd
}

// quiltInput is one file to put in a quilt.
type quiltInput struct {
	path       string
	identifier string
	tags       map[string]string
}

// quiltInputs resolves --paths (directories walked in lexical order) or --blobs into files
// with identifiers, checking identifiers and duplicates before anything is read.
func quiltInputs(paths, blobs []string) ([]quiltInput, error) {
	var in []quiltInput
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, withHint(fmt.Errorf("cannot read %s: %w", p, unwrapPathError(err)), "nothing was stored")
		}
		if !st.IsDir() {
			in = append(in, quiltInput{path: p, identifier: filepath.Base(p)})
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				if len(in) >= maxQuiltInputFiles {
					return fmt.Errorf("more than %d files", maxQuiltInputFiles)
				}
				in = append(in, quiltInput{path: path, identifier: d.Name()})
			}
			return nil
		})
		if err != nil {
			return nil, withHint(fmt.Errorf("cannot read %s: %w", p, unwrapPathError(err)), "nothing was stored")
		}
	}
	for _, b := range blobs {
		var bi quiltBlobInput
		dec := json.NewDecoder(strings.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&bi); err != nil || dec.More() {
			return nil, usageError{withHint(fmt.Errorf("--blobs %q: not a JSON object with path, identifier and tags", b),
				`for example --blobs '{"path":"a.txt","identifier":"a","tags":{"lang":"en"}}'`)}
		}
		if bi.Path == "" {
			return nil, usageError{fmt.Errorf("--blobs %q: path is required", b)}
		}
		if bi.Identifier == "" {
			bi.Identifier = filepath.Base(bi.Path)
		}
		in = append(in, quiltInput{path: bi.Path, identifier: bi.Identifier, tags: bi.Tags})
	}
	seen := make(map[string]string, len(in))
	for _, q := range in {
		if err := quilt.ValidateIdentifier(q.identifier); err != nil {
			return nil, usageError{fmt.Errorf("%s: %w", q.path, err)}
		}
		if prev, ok := seen[q.identifier]; ok {
			return nil, usageError{withHint(fmt.Errorf("identifier %q is used by both %s and %s", q.identifier, prev, q.path),
				"identifiers must be unique in a quilt; give each file its own with --blobs")}
		}
		seen[q.identifier] = q.path
	}
	return in, nil
}

func runStoreQuilt(ce *clientEnv, cmd *cobra.Command, inputs []quiltInput, f storeFlags) error {
	if err := f.check(cmd); err != nil {
		return err
	}
	paths := make([]string, len(inputs))
	for i, in := range inputs {
		paths[i] = in.path
	}
	if err := checkInputs(paths, 0); err != nil {
		return err
	}
	s, st, err := ce.storeSession(cmd, f)
	if err != nil {
		return err
	}
	defer s.close()
	opts, enc, clock := st.opts, st.enc, st.clock
	if max := quilt.MaxPatches(enc); len(inputs) > max {
		return withHint(fmt.Errorf("%d files: %w, at most %d with %d shards", len(inputs), quilt.ErrTooManyPatches, max, s.params.NShards),
			"nothing was stored; store the files as several quilts")
	}
	patches := make([]quilt.Patch, len(inputs))
	for i, in := range inputs {
		data, err := readInput(in.path, enc.MaxBlobSize(), ce.stdin)
		if err != nil {
			return withHint(err, "nothing was stored")
		}
		patches[i] = quilt.Patch{Identifier: in.identifier, Tags: in.tags, Data: data}
	}
	res, err := s.client.StoreQuilt(ce.ctx, patches, opts)
	if err != nil {
		if errors.Is(err, quilt.ErrTooLarge) {
			return withHint(err, "nothing was stored; store fewer or smaller files in each quilt, or large files as blobs")
		}
		return explain(err, s)
	}
	if ce.json {
		return ce.printJSON(res)
	}
	w := ce.stdout
	switch r := res.BlobStoreResult; {
	case r.DryRun != nil:
		printDryRun(ce, "quilt", r.DryRun, clock)
	default:
		printStoreResult(ce, fmt.Sprintf("quilt of %d files", len(inputs)), r, clock)
	}
	fmt.Fprintf(w, "Quilt patches (%d):\n", len(res.StoredQuiltBlobs))
	for _, p := range res.StoredQuiltBlobs {
		fmt.Fprintf(w, "  %s  %s\n", p.QuiltPatchID, p.Identifier)
	}
	return nil
}

// quiltPatchItem is one element of list-patches-in-quilt's --json output (Walrus's
// QuiltPatchItem).
type quiltPatchItem struct {
	Identifier string            `json:"identifier"`
	PatchID    string            `json:"patch_id"`
	Tags       map[string]string `json:"tags"`
}

func listPatchesCommand(ce *clientEnv) *cobra.Command {
	return &cobra.Command{
		Use:     "list-patches-in-quilt QUILT_ID",
		Aliases: []string{"resolve-quilt"},
		Short:   "List the patches of a quilt",
		Long: "Read a quilt's index (its first columns only) and list its patches: identifier, quilt patch\n" +
			"ID and tags.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseBlobIDArg(args[0])
			if err != nil {
				return err
			}
			s, err := ce.connect(ce.ctx, false)
			if err != nil {
				return err
			}
			defer s.close()
			qr, err := s.client.OpenQuilt(ce.ctx, id, client.ReadOptions{})
			if err != nil {
				return explainQuilt(err, s)
			}
			items := make([]quiltPatchItem, 0, len(qr.Index().Patches))
			for _, p := range qr.Index().Patches {
				items = append(items, quiltPatchItem{Identifier: p.Identifier, PatchID: quilt.PatchID{Quilt: id, Internal: p.InternalID()}.String(), Tags: p.Tags})
			}
			if ce.json {
				return ce.printJSON(items)
			}
			fmt.Fprintf(ce.stdout, "Quilt %s: %d patches\n", id, len(items))
			for _, it := range items {
				fmt.Fprintf(ce.stdout, "%s  %s%s\n", it.PatchID, it.Identifier, formatTags(it.Tags))
			}
			return nil
		},
	}
}

// formatTags returns " key=value ..." in key order, or "".
func formatTags(tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%s", k, tags[k])
	}
	return b.String()
}

// explainQuilt adds a hint when a blob is not a quilt.
func explainQuilt(err error, s *session) error {
	if errors.Is(err, quilt.ErrMalformed) {
		return withHint(explain(err, s), "read it with 'walrus read'")
	}
	return explain(err, s)
}

// readQuiltBlob is one element of read-quilt's --json output (Walrus's QuiltStoreBlob, the
// contents in base64).
type readQuiltBlob struct {
	Identifier string            `json:"identifier"`
	Tags       map[string]string `json:"tags"`
	Blob       []byte            `json:"blob,omitempty"`
	PatchID    string            `json:"quiltPatchId"`
	Path       string            `json:"path,omitempty"`
}

// readQuiltOutput is read-quilt's --json output (Walrus's ReadQuiltOutput).
type readQuiltOutput struct {
	Out            string          `json:"out,omitempty"`
	RetrievedBlobs []readQuiltBlob `json:"retrievedBlobs"`
}

func readQuiltCommand(ce *clientEnv) *cobra.Command {
	var quiltID, out string
	var identifiers, tag, patchIDs []string
	cmd := &cobra.Command{
		Use:   "read-quilt (--quilt-id ID (--identifiers NAME... | --tag KEY VALUE) | --quilt-patch-ids ID...) [--out DIR]",
		Short: "Read patches of quilts",
		Long: "Read patches of a quilt by identifier (--quilt-id and --identifiers), by tag (--quilt-id and\n" +
			"--tag KEY VALUE), or by quilt patch ID (--quilt-patch-ids, of any quilts). Only the index\n" +
			"columns and the columns of the patches read are fetched. Without --out the contents are\n" +
			"written one after another to standard output; with --out DIR (created if missing) each\n" +
			"patch is written to DIR/IDENTIFIER and its identifier and tags are printed.",
		RunE: func(cmd *cobra.Command, args []string) error {
			q, err := parseQuiltQuery(quiltID, identifiers, tag, patchIDs, args)
			if err != nil {
				return err
			}
			if out != "" {
				if st, err := os.Stat(out); err == nil && !st.IsDir() {
					return usageError{withHint(fmt.Errorf("--out %s is not a directory", out), "give a directory; it is created if missing")}
				}
			}
			return runReadQuilt(ce, q, out)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&quiltID, "quilt-id", "", "the quilt's blob ID")
	fl.StringArrayVar(&identifiers, "identifiers", nil, "identifiers of the patches to read (with --quilt-id)")
	fl.StringArrayVar(&tag, "tag", nil, "read the patches with tag KEY of value VALUE (with --quilt-id)")
	fl.StringArrayVar(&patchIDs, "quilt-patch-ids", nil, "quilt patch IDs of the patches to read")
	fl.StringVar(&out, "out", "", "write each patch to DIR/IDENTIFIER")
	return cmd
}

// quiltQuery is what read-quilt reads: identifiers or a tag of one quilt, or patch IDs.
type quiltQuery struct {
	quilt       redstuff.BlobID
	identifiers []string
	tag         *[2]string
	patchIDs    []quilt.PatchID
}

// parseQuiltQuery checks read-quilt's arguments; operands continue the list flag given
// (Walrus takes several values after one flag).
func parseQuiltQuery(quiltID string, identifiers, tag, patchIDs, args []string) (quiltQuery, error) {
	var q quiltQuery
	n := 0
	for _, l := range [][]string{identifiers, tag, patchIDs} {
		if len(l) > 0 {
			n++
		}
	}
	switch {
	case n == 0:
		return q, usageError{errors.New("give --quilt-id with --identifiers or --tag, or --quilt-patch-ids")}
	case n > 1:
		return q, usageError{errors.New("give only one of --identifiers, --tag and --quilt-patch-ids")}
	case len(patchIDs) > 0 && quiltID != "":
		return q, usageError{errors.New("--quilt-patch-ids is used without --quilt-id: a patch ID names its quilt")}
	case len(patchIDs) == 0 && quiltID == "":
		return q, usageError{errors.New("--identifiers and --tag need --quilt-id")}
	}
	if quiltID != "" {
		id, err := parseBlobIDArg(quiltID)
		if err != nil {
			return q, err
		}
		q.quilt = id
	}
	switch {
	case len(identifiers) > 0:
		q.identifiers = append(identifiers, args...)
	case len(tag) > 0:
		all := append(tag, args...)
		if len(all) != 2 {
			return q, usageError{withHint(errors.New("--tag takes a KEY and a VALUE"), "for example --tag lang en")}
		}
		q.tag = &[2]string{all[0], all[1]}
	default:
		for _, s := range append(patchIDs, args...) {
			pid, err := quilt.ParsePatchID(s)
			if err != nil {
				return q, usageError{withHint(fmt.Errorf("invalid quilt patch ID %q", s),
					"a quilt patch ID is 50 URL-safe base64 characters, as 'walrus store-quilt' and 'walrus list-patches-in-quilt' print it")}
			}
			q.patchIDs = append(q.patchIDs, pid)
		}
	}
	return q, nil
}

func runReadQuilt(ce *clientEnv, q quiltQuery, out string) error {
	s, err := ce.connect(ce.ctx, false)
	if err != nil {
		return err
	}
	defer s.close()
	readers := map[redstuff.BlobID]*client.QuiltReader{}
	open := func(id redstuff.BlobID) (*client.QuiltReader, error) {
		if r, ok := readers[id]; ok {
			return r, nil
		}
		r, err := s.client.OpenQuilt(ce.ctx, id, client.ReadOptions{})
		if err != nil {
			return nil, explainQuilt(err, s)
		}
		readers[id] = r
		return r, nil
	}
	type want struct {
		quilt redstuff.BlobID
		info  quilt.PatchInfo
	}
	var wants []want
	if len(q.patchIDs) > 0 {
		for _, pid := range q.patchIDs {
			r, err := open(pid.Quilt)
			if err != nil {
				return err
			}
			info, err := r.Index().ByInternalID(pid.Internal)
			if err != nil {
				return fmt.Errorf("quilt patch %s: no patch at columns %d..%d of quilt %s", pid, pid.Internal.Start, pid.Internal.End, pid.Quilt)
			}
			wants = append(wants, want{pid.Quilt, info})
		}
	} else {
		r, err := open(q.quilt)
		if err != nil {
			return err
		}
		if q.tag != nil {
			for _, p := range r.Index().ByTag(q.tag[0], q.tag[1]) {
				wants = append(wants, want{q.quilt, p})
			}
			if len(wants) == 0 {
				return fmt.Errorf("no patch of quilt %s has tag %s=%s", q.quilt, q.tag[0], q.tag[1])
			}
		}
		var missing []string
		for _, id := range q.identifiers {
			info, err := r.Index().Lookup(id)
			if err != nil {
				missing = append(missing, fmt.Sprintf("%q", id))
				continue
			}
			wants = append(wants, want{q.quilt, info})
		}
		if len(missing) > 0 {
			return withHint(fmt.Errorf("quilt %s has no patch %s", q.quilt, strings.Join(missing, ", ")),
				"'walrus list-patches-in-quilt "+q.quilt.String()+"' lists its patches")
		}
	}
	res := readQuiltOutput{Out: out}
	var data [][]byte
	for _, w := range wants {
		p, err := readers[w.quilt].ReadPatch(w.info)
		if err != nil {
			return explainQuilt(err, s)
		}
		item := readQuiltBlob{Identifier: p.Identifier, Tags: w.info.Tags, PatchID: quilt.PatchID{Quilt: w.quilt, Internal: w.info.InternalID()}.String()}
		if out != "" {
			// An identifier is any text; only a local path below DIR is written.
			if !filepath.IsLocal(p.Identifier) {
				return withHint(fmt.Errorf("patch identifier %q is not a file name inside --out %s", p.Identifier, out),
					"read it without --out, or by patch ID to standard output")
			}
			item.Path = filepath.Join(out, p.Identifier)
			if err := os.MkdirAll(filepath.Dir(item.Path), 0o755); err != nil {
				return fmt.Errorf("cannot write %s: %w", item.Path, unwrapPathError(err))
			}
			if err := writeFileAtomic(item.Path, p.Data); err != nil {
				return err
			}
		} else if ce.json {
			item.Blob = p.Data
		}
		res.RetrievedBlobs = append(res.RetrievedBlobs, item)
		data = append(data, p.Data)
	}
	switch {
	case ce.json:
		return ce.printJSON(res)
	case out != "":
		for _, it := range res.RetrievedBlobs {
			fmt.Fprintf(ce.stdout, "%s  %s%s\n", it.Path, it.Identifier, formatTags(it.Tags))
		}
		return nil
	}
	for _, d := range data {
		if _, err := ce.stdout.Write(d); err != nil {
			return err
		}
	}
	return nil
}
