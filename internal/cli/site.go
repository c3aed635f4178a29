package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/portal"
	"github.com/walrus-go/walrus/internal/quilt"
	"github.com/walrus-go/walrus/internal/redstuff"
	"github.com/walrus-go/walrus/internal/site"
)

// The site commands: deploy a directory as a Walrus Site and manage sites (docs/sites.md).

func siteCommand(ce *clientEnv) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "site",
		Short: "Deploy and manage Walrus Sites (websites served by 'walrus portal')",
	}
	cmd.AddCommand(siteDeployCommand(ce), siteListCommand(ce), siteMapCommand(ce), siteDestroyCommand(ce),
		siteConvertCommand(ce.env), siteNameCommand(ce))
	return cmd
}

type siteDeployFlags struct {
	epochs   uint32
	siteName string
	object   string
	portal   string
}

func siteDeployCommand(ce *clientEnv) *cobra.Command {
	var f siteDeployFlags
	cmd := &cobra.Command{
		Use:   "deploy DIR",
		Short: "Deploy a directory as a site, or update the site it was deployed as",
		Long: "Deploy the files of DIR as a Walrus Site: files up to 1 MiB are packed into quilts, larger\n" +
			"ones stored as blobs, each for --epochs epochs, and the site object is created or updated on\n" +
			"chain in as few transactions as the chain allows. DIR/ws-resources.json sets headers, routes,\n" +
			"ignore patterns, site_name, object_id and metadata as in Walrus's site-builder. Without an\n" +
			"object ID (--site-object or object_id), the wallet's site of the same name is updated, or a\n" +
			"new one created. A deploy stores only new and changed files and prints what changed.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runSiteDeploy(ce, f, args[0]) },
	}
	fl := cmd.Flags()
	fl.Uint32Var(&f.epochs, "epochs", 0, "epochs to store the files for (required)")
	fl.StringVar(&f.siteName, "site-name", "", "the site's name (default site_name of ws-resources.json, else DIR's name)")
	fl.StringVar(&f.object, "site-object", "", "object ID of the site to update (default object_id of ws-resources.json)")
	fl.StringVar(&f.portal, "portal", defaultPortalAddr, "portal address printed in the site's URL")
	cmd.MarkFlagRequired("epochs")
	return cmd
}

// siteStorage stores blobs with the client SDK for a deploy.
type siteStorage struct {
	s      *session
	epochs uint32
}

func (st siteStorage) Encoding(context.Context) (*redstuff.Config, error) {
	return st.s.client.Encoding(int(st.s.params.NShards))
}

func (st siteStorage) Store(ctx context.Context, data []byte) (redstuff.BlobID, error) {
	res, err := st.s.client.Store(ctx, data, client.StoreOptions{Epochs: st.epochs})
	if err != nil {
		return redstuff.BlobID{}, err
	}
	return redstuff.ParseBlobID(res.BlobID())
}

// siteChain is the chain as the wallet's signer sees it.
type siteChain struct{ s *session }

func (c siteChain) Site(ctx context.Context, id chain.ObjectID) (chain.Site, error) {
	return c.s.chain.Site(ctx, id)
}

func (c siteChain) Resources(ctx context.Context, id chain.ObjectID) ([]chain.Resource, error) {
	return c.s.chain.Resources(ctx, id)
}

func (c siteChain) OwnedSites(ctx context.Context) ([]chain.Site, error) {
	objs, err := c.s.chain.AllOwned(ctx, c.s.signer.Address(), chain.KindSite)
	if err != nil {
		return nil, err
	}
	var out []chain.Site
	for _, o := range objs {
		if s, ok := o.(*chain.Site); ok {
			out = append(out, *s)
		}
	}
	return out, nil
}

func (c siteChain) Submit(ctx context.Context, p chain.Payload) ([]chain.ObjectID, error) {
	res, err := c.s.chain.Submit(ctx, c.s.signer, p)
	if err != nil {
		return nil, err
	}
	return res.Created, nil
}

// siteDeployOutput is deploy's --json output.
type siteDeployOutput struct {
	SiteObjectID string `json:"siteObjectId"`
	*site.Result
	Base36          string `json:"base36"`
	URL             string `json:"url"`
	EndEpoch        uint32 `json:"endEpoch"`
	ExpectedEndTime string `json:"expectedEndTime"`
}

func runSiteDeploy(ce *clientEnv, f siteDeployFlags, dir string) error {
	if f.epochs == 0 {
		return usageError{errors.New("--epochs must be at least 1")}
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return usageError{fmt.Errorf("%s is not a directory", dir)}
	}
	var opts site.Options
	if f.object != "" {
		id, err := parseSiteArg(f.object)
		if err != nil {
			return err
		}
		opts.Site = id
	}
	opts.SiteName = f.siteName
	if f.siteName != "" && len(f.siteName) > chain.MaxSiteTitleLen {
		return usageError{fmt.Errorf("--site-name: at most %d bytes", chain.MaxSiteTitleLen)}
	}
	cfg, err := site.LoadConfig(dir)
	if err != nil {
		return withHint(err, "see docs/sites.md for the fields of ws-resources.json")
	}
	opts.Config = cfg
	s, err := ce.connect(ce.ctx, true)
	if err != nil {
		return err
	}
	defer s.close()
	if !ce.json {
		opts.Progress = func(line string) { fmt.Fprintf(ce.stderr, "walrus: %s\n", line) }
	}
	res, err := site.Deploy(ce.ctx, siteStorage{s, f.epochs}, siteChain{s}, dir, opts)
	if err != nil {
		if errors.Is(err, site.ErrConfig) {
			return withHint(err, "see docs/sites.md for the fields of ws-resources.json")
		}
		if errors.Is(err, site.ErrAmbiguous) {
			return withHint(err, "name the site with --site-object or object_id in ws-resources.json")
		}
		return explain(err, s)
	}
	clock, err := s.clock(ce.ctx)
	if err != nil {
		return err
	}
	end := clock.sys.Epoch + f.epochs
	out := siteDeployOutput{SiteObjectID: res.Site.String(), Result: res, Base36: portal.Base36(res.Site), URL: siteURL(res.Site, f.portal),
		EndEpoch: end, ExpectedEndTime: clock.date(end)}
	if ce.json {
		return ce.printJSON(out)
	}
	for _, c := range res.Changes {
		fmt.Fprintf(ce.stdout, "%-8s %s\n", c.Kind, c.Path)
	}
	verb := "updated"
	if res.Created {
		verb = "created"
	}
	fmt.Fprintf(ce.stdout, "site %s %s: %d changed, %d unchanged, %d resources\n", res.Site, verb, len(res.Changes),
		res.Unchanged, res.Resources)
	fmt.Fprintf(ce.stdout, "stored %d quilts and %d blobs until epoch %s in %d transactions\n", res.Quilts, res.Blobs,
		clock.endEpoch(end), res.Transactions)
	fmt.Fprintf(ce.stdout, "base36:  %s\n", out.Base36)
	fmt.Fprintf(ce.stdout, "browse:  %s\n", out.URL)
	return nil
}

// siteURL is a site's address on a portal at addr (host:port) serving *.localhost.
func siteURL(id chain.ObjectID, addr string) string {
	port := addr
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		port = addr[i+1:]
	}
	return fmt.Sprintf("http://%s.localhost:%s/", portal.Base36(id), port)
}

// parseSiteArg parses a site operand: an object ID in hex (0x...) or in base36.
// openSite parses a site argument, connects (with the wallet when needWallet) and reads the
// site object. On success the caller owns the session and closes it.
func (ce *clientEnv) openSite(arg string, needWallet bool) (*session, chain.ObjectID, chain.Site, error) {
	id, err := parseSiteArg(arg)
	if err != nil {
		return nil, id, chain.Site{}, err
	}
	s, err := ce.connect(ce.ctx, needWallet)
	if err != nil {
		return nil, id, chain.Site{}, err
	}
	x, err := s.chain.Site(ce.ctx, id)
	if err != nil {
		err = explain(err, s)
		s.close()
		return nil, id, chain.Site{}, err
	}
	return s, id, x, nil
}

func parseSiteArg(s string) (chain.ObjectID, error) {
	if id, err := chain.ParseObjectID(s); err == nil {
		return id, nil
	}
	if id, err := portal.ParseBase36(s); err == nil && len(s) > chain.MaxSiteNameLen {
		return id, nil
	}
	return chain.ObjectID{}, usageError{withHint(fmt.Errorf("invalid site object ID %q", s),
		"give the object ID in hex (0x...) or base36, as 'walrus site list' prints it")}
}

type siteListItem struct {
	ID        string `json:"objectId"`
	Base36    string `json:"base36"`
	Name      string `json:"name"`
	Resources uint64 `json:"resources"`
	Bytes     uint64 `json:"bytes"`
	Version   uint64 `json:"version"`
}

func siteListCommand(ce *clientEnv) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the wallet's sites",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := ce.connect(ce.ctx, true)
			if err != nil {
				return err
			}
			defer s.close()
			sites, err := siteChain{s}.OwnedSites(ce.ctx)
			if err != nil {
				return explain(err, s)
			}
			items := []siteListItem{}
			for _, x := range sites {
				items = append(items, siteListItem{x.ID.String(), portal.Base36(x.ID), x.Name, x.Resources, x.Bytes, x.Version})
			}
			if ce.json {
				return ce.printJSON(items)
			}
			if len(items) == 0 {
				fmt.Fprintln(ce.stderr, "walrus: the wallet has no sites")
			}
			for _, it := range items {
				fmt.Fprintf(ce.stdout, "%s  %s  %d resources  %d bytes  %q\n", it.ID, it.Base36, it.Resources, it.Bytes, it.Name)
			}
			return nil
		},
	}
}

type sitemapItem struct {
	Path    string            `json:"path"`
	Size    uint64            `json:"size"`
	BlobID  string            `json:"blobId"`
	PatchID string            `json:"quiltPatchId,omitempty"`
	SHA256  string            `json:"sha256"`
	Headers map[string]string `json:"headers"`
}

func siteMapCommand(ce *clientEnv) *cobra.Command {
	return &cobra.Command{
		Use:   "sitemap SITE",
		Short: "List a site's resources: path, size, blob or quilt patch, SHA-256",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, id, x, err := ce.openSite(args[0], false)
			if err != nil {
				return err
			}
			defer s.close()
			rs, err := s.chain.Resources(ce.ctx, id)
			if err != nil {
				return explain(err, s)
			}
			items := []sitemapItem{}
			for _, r := range rs {
				it := sitemapItem{Path: r.Path, Size: r.Size, BlobID: r.BlobID.String(), SHA256: fmt.Sprintf("%x", r.Hash),
					Headers: map[string]string{}}
				if in, err := quilt.ParseInternalID(r.PatchID); err == nil {
					it.PatchID = quilt.PatchID{Quilt: r.BlobID, Internal: in}.String()
				}
				for _, h := range r.Headers {
					it.Headers[h.Key] = h.Value
				}
				items = append(items, it)
			}
			if ce.json {
				return ce.printJSON(items)
			}
			fmt.Fprintf(ce.stdout, "site %s %q, version %d, %d resources\n", x.ID, x.Name, x.Version, x.Resources)
			for _, r := range x.Routes {
				fmt.Fprintf(ce.stdout, "route %s -> %s\n", r.Pattern, r.Path)
			}
			for _, it := range items {
				where := "blob " + it.BlobID
				if it.PatchID != "" {
					where = "patch " + it.PatchID
				}
				fmt.Fprintf(ce.stdout, "%s  %d bytes  %s  sha256 %s\n", it.Path, it.Size, where, it.SHA256[:16])
			}
			return nil
		},
	}
}

func siteDestroyCommand(ce *clientEnv) *cobra.Command {
	return &cobra.Command{
		Use:   "destroy SITE",
		Short: "Delete a site and its resources from the chain (the blobs stay until they expire)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, id, x, err := ce.openSite(args[0], true)
			if err != nil {
				return err
			}
			defer s.close()
			txs := 0
			for x.Resources > chain.MaxSiteBatch {
				page, err := s.chain.ResourcePage(ce.ctx, chain.ResourcesRequest{Site: id, Limit: 500})
				if err != nil {
					return explain(err, s)
				}
				var paths []string
				for _, r := range page.Resources {
					paths = append(paths, r.Path)
				}
				if _, err := s.chain.Submit(ce.ctx, s.signer, &chain.UpdateSite{Site: id, Remove: paths}); err != nil {
					return explain(err, s)
				}
				txs++
				if x, err = s.chain.Site(ce.ctx, id); err != nil {
					return explain(err, s)
				}
			}
			if _, err := s.chain.Submit(ce.ctx, s.signer, &chain.DestroySite{Site: id}); err != nil {
				return explain(err, s)
			}
			txs++
			if ce.json {
				return ce.printJSON(map[string]any{"destroyed": id.String(), "transactions": txs})
			}
			fmt.Fprintf(ce.stdout, "destroyed site %s\n", id)
			return nil
		},
	}
}

func siteConvertCommand(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "convert OBJECT_ID",
		Short: "Convert a site object ID between hex and base36 (the portal's subdomain form)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseSiteArg(args[0])
			if err != nil {
				return err
			}
			if e.json {
				return e.printJSON(map[string]string{"objectId": id.String(), "base36": portal.Base36(id)})
			}
			if strings.HasPrefix(args[0], "0x") || len(args[0]) == 64 {
				fmt.Fprintln(e.stdout, portal.Base36(id))
			} else {
				fmt.Fprintln(e.stdout, id)
			}
			return nil
		},
	}
}

func siteNameCommand(ce *clientEnv) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "name",
		Short: "On-chain site names, served at NAME.localhost by the portal",
	}
	set := &cobra.Command{
		Use:   "set NAME SITE",
		Short: "Point the name NAME at SITE (the first account to set a name holds it)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := chain.CheckSiteName(args[0]); err != nil {
				return usageError{withHint(fmt.Errorf("invalid site name %q", args[0]),
					fmt.Sprintf("a name is 1 to %d lower-case letters, digits and hyphens, not starting or ending with a hyphen", chain.MaxSiteNameLen))}
			}
			id, err := parseSiteArg(args[1])
			if err != nil {
				return err
			}
			s, err := ce.connect(ce.ctx, true)
			if err != nil {
				return err
			}
			defer s.close()
			if _, err := s.chain.Submit(ce.ctx, s.signer, &chain.SetSiteName{Name: args[0], Site: id}); err != nil {
				if errors.Is(err, chain.ErrNameTaken) {
					return withHint(explain(err, s), "choose another name")
				}
				return explain(err, s)
			}
			if ce.json {
				return ce.printJSON(map[string]any{"name": args[0], "site": id.String()})
			}
			fmt.Fprintf(ce.stdout, "%s -> %s\n", args[0], id)
			return nil
		},
	}
	cmd.AddCommand(set)
	return cmd
}
