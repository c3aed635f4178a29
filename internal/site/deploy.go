package site

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/quilt"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// Storage stores blobs: the client SDK in the CLI, a fake in tests.
type Storage interface {
	// Encoding returns the encoding of the network's shard count, which fixes the quilt
	// layout.
	Encoding(ctx context.Context) (*redstuff.Config, error)
	// Store stores data as a blob (for the deploy's epochs) and returns its blob ID.
	Store(ctx context.Context, data []byte) (redstuff.BlobID, error)
}

// Chain is the part of the chain a deploy reads and writes, as the sender.
type Chain interface {
	Site(ctx context.Context, id chain.ObjectID) (chain.Site, error)
	Resources(ctx context.Context, id chain.ObjectID) ([]chain.Resource, error)
	// OwnedSites returns the sender's sites.
	OwnedSites(ctx context.Context) ([]chain.Site, error)
	// Submit executes a payload and returns the objects it created.
	Submit(ctx context.Context, p chain.Payload) ([]chain.ObjectID, error)
}

// Options configures a deploy. The zero value uses the defaults.
type Options struct {
	// Site is the site to update; zero means the object_id of ws-resources.json, or else the
	// one site of the sender with the deploy's site name, or else a new site.
	Site chain.ObjectID
	// SiteName overrides site_name of ws-resources.json; the default is the directory's name.
	SiteName string
	// SmallFile (default DefaultSmallFile) and QuiltBytes (default DefaultQuiltBytes) bound
	// what goes into quilts (see Pack).
	SmallFile, QuiltBytes int
	// BatchBytes bounds the encoded resources of one transaction (default chain.MaxTxSize -
	// 8 KiB, room for the rest of the payload).
	BatchBytes int
	// Config is the directory's ws-resources.json; nil means LoadConfig(dir).
	Config *Config
	// Progress, if set, receives one line per step.
	Progress func(string)
}

// Result is what a deploy did.
type Result struct {
	Site         chain.ObjectID `json:"-"`
	Name         string         `json:"siteName"`
	Created      bool           `json:"created"`
	Changes      []Change       `json:"changes"`
	Unchanged    int            `json:"unchanged"`
	Quilts       int            `json:"quiltsStored"`
	Blobs        int            `json:"blobsStored"`
	Transactions int            `json:"transactions"`
	Resources    uint64         `json:"resources"`
}

// ErrAmbiguous is returned when the sender has several sites with the deploy's name and
// none is named by object ID.
var ErrAmbiguous = errors.New("site: several sites of this name")

// Deploy deploys the directory dir: it reads ws-resources.json (if present), finds or
// creates the site, stores the files that are new or changed (Pack) and writes the changes
// in batches (Batches): a new site takes one CreateSite plus an UpdateSite per further batch;
// an update one UpdateSite per batch, or none if nothing changed.
func Deploy(ctx context.Context, st Storage, ch Chain, dir string, opts Options) (*Result, error) {
	fsys := os.DirFS(dir)
	cfg := opts.Config
	if cfg == nil {
		var err error
		if cfg, err = LoadConfig(dir); err != nil {
			return nil, err
		}
	}
	files, err := Scan(fsys, cfg)
	if err != nil {
		return nil, err
	}
	name := cmp.Or(opts.SiteName, cfg.SiteName, filepath.Base(filepath.Clean(dir)))
	progress := func(format string, args ...any) {
		if opts.Progress != nil {
			opts.Progress(fmt.Sprintf(format, args...))
		}
	}

	res := &Result{Name: name}
	var site *chain.Site
	id := opts.Site
	if id == (chain.ObjectID{}) {
		id = cfg.Object
	}
	if id == (chain.ObjectID{}) {
		owned, err := ch.OwnedSites(ctx)
		if err != nil {
			return nil, err
		}
		for i := range owned {
			if owned[i].Name == name {
				if site != nil {
					return nil, fmt.Errorf("%w: %q (%s and %s)", ErrAmbiguous, name, site.ID, owned[i].ID)
				}
				site = &owned[i]
			}
		}
	} else {
		s, err := ch.Site(ctx, id)
		if err != nil {
			return nil, err
		}
		site = &s
	}
	var remote []chain.Resource
	if site != nil {
		if remote, err = ch.Resources(ctx, site.ID); err != nil {
			return nil, err
		}
		progress("updating site %s (%d resources on chain)", site.ID, len(remote))
	}
	plan := MakePlan(files, remote)
	res.Changes, res.Unchanged = plan.Changes, plan.Unchanged

	// Store what changed.
	enc, err := st.Encoding(ctx)
	if err != nil {
		return nil, err
	}
	quilts, blobs := Pack(plan.Upload, cmp.Or(opts.SmallFile, DefaultSmallFile), quilt.MaxPatches(enc),
		cmp.Or(opts.QuiltBytes, DefaultQuiltBytes))
	put := slices.Clone(plan.Rewrite)
	for _, group := range quilts {
		patches := make([]quilt.Patch, len(group))
		for i, f := range group {
			patches[i] = quilt.Patch{Identifier: f.Path, Data: f.Data}
		}
		q, err := quilt.Encode(enc, patches)
		if err != nil {
			return nil, err
		}
		blobID, err := st.Store(ctx, q.Blob)
		if err != nil {
			return nil, fmt.Errorf("storing a quilt of %d files: %w", len(group), err)
		}
		res.Quilts++
		progress("stored a quilt of %d files as %s", len(group), blobID)
		for _, f := range group {
			info, err := q.Index.Lookup(f.Path)
			if err != nil {
				return nil, err
			}
			internal := info.InternalID().Bytes()
			put = append(put, chain.Resource{Path: f.Path, BlobID: blobID, PatchID: internal[:], Hash: f.Hash,
				Size: uint64(len(f.Data)), Headers: f.Headers})
		}
	}
	for _, f := range blobs {
		blobID, err := st.Store(ctx, f.Data)
		if err != nil {
			return nil, fmt.Errorf("storing %s: %w", f.Path, err)
		}
		res.Blobs++
		progress("stored %s as blob %s", f.Path, blobID)
		put = append(put, chain.Resource{Path: f.Path, BlobID: blobID, Hash: f.Hash, Size: uint64(len(f.Data)),
			Headers: f.Headers})
	}
	slices.SortFunc(put, func(a, b chain.Resource) int { return strings.Compare(a.Path, b.Path) })

	// Write the changes.
	routes, meta := cfg.ChainRoutes(), cfg.ChainMetadata()
	batches := Batches(put, plan.Remove, cmp.Or(opts.BatchBytes, chain.MaxTxSize-8<<10))
	if site == nil {
		created, err := ch.Submit(ctx, &chain.CreateSite{Name: name, Routes: routes, Metadata: meta, Resources: batches[0].Put})
		if err != nil {
			return nil, fmt.Errorf("creating the site: %w", err)
		}
		if len(created) == 0 {
			return nil, errors.New("site: CreateSite created no object")
		}
		res.Transactions++
		res.Created = true
		s := chain.Site{ID: created[0], Name: name, Routes: routes, Metadata: meta}
		site = &s
		progress("created site %s", s.ID)
		batches = batches[1:]
	}
	res.Site = site.ID
	setInfo := site.Name != name || !slices.Equal(site.Routes, routes) || !slices.Equal(site.Metadata, meta)
	for _, b := range batches {
		if len(b.Put)+len(b.Remove) == 0 && !setInfo {
			continue
		}
		u := &chain.UpdateSite{Site: site.ID, Put: b.Put, Remove: b.Remove}
		if setInfo {
			u.SetInfo, u.Name, u.Routes, u.Metadata = true, name, routes, meta
			setInfo = false
		}
		if _, err := ch.Submit(ctx, u); err != nil {
			return nil, fmt.Errorf("updating the site: %w", err)
		}
		res.Transactions++
		progress("wrote %d resources, removed %d", len(b.Put), len(b.Remove))
	}
	final, err := ch.Site(ctx, site.ID)
	if err != nil {
		return nil, err
	}
	res.Resources = final.Resources
	return res, nil
}

// LoadConfig reads dir's ws-resources.json (ParseConfig); a directory without one has the
// empty configuration.
func LoadConfig(dir string) (*Config, error) {
	raw, err := fs.ReadFile(os.DirFS(dir), ConfigFile)
	if errors.Is(err, fs.ErrNotExist) {
		return &Config{}, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseConfig(raw)
}
