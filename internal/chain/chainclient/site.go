package chainclient

import (
	"context"

	"github.com/walrus-go/walrus/internal/chain"
)

// Queries of sites (chain.QuerySite and the following). A missing site gives an *Error
// wrapping chain.ErrUnknownObject (chain.ErrWrongObjectKind if the object is not a site); a
// missing resource or name one wrapping chain.ErrNotFound. Writes are ordinary payloads
// (chain.CreateSite, chain.UpdateSite, chain.DestroySite, chain.SetSiteName) sent with
// Submit.

// Site returns a site.
func (c *Client) Site(ctx context.Context, id chain.ObjectID) (chain.Site, error) {
	return query(ctx, c, chain.QuerySite, id[:], chain.DecodeSite)
}

// Resource returns one resource of a site.
func (c *Client) Resource(ctx context.Context, site chain.ObjectID, path string) (chain.Resource, error) {
	return query(ctx, c, chain.QueryResource, chain.ResourceRequest{Site: site, Path: path}.Encode(), chain.DecodeResource)
}

// ResourcePage returns one page of a site's resources, in path order.
func (c *Client) ResourcePage(ctx context.Context, r chain.ResourcesRequest) (chain.ResourcePage, error) {
	return query(ctx, c, chain.QueryResources, r.Encode(), chain.DecodeResourcePage)
}

// Resources returns every resource of a site, in path order, paging through ResourcePage.
// The pages are read at possibly different heights.
func (c *Client) Resources(ctx context.Context, site chain.ObjectID) ([]chain.Resource, error) {
	var out []chain.Resource
	r := chain.ResourcesRequest{Site: site}
	for {
		page, err := c.ResourcePage(ctx, r)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Resources...)
		if !page.HasNext || len(page.Resources) == 0 {
			return out, nil
		}
		r.After = page.Resources[len(page.Resources)-1].Path
	}
}

// SiteName returns the record of an on-chain site name.
func (c *Client) SiteName(ctx context.Context, name string) (chain.SiteName, error) {
	return query(ctx, c, chain.QuerySiteName, chain.SiteNameQuery(name), chain.DecodeSiteName)
}

// SiteNamePage returns one page of site names, in name order.
func (c *Client) SiteNamePage(ctx context.Context, r chain.SiteNamesRequest) (chain.SiteNamePage, error) {
	return query(ctx, c, chain.QuerySiteNames, r.Encode(), chain.DecodeSiteNamePage)
}
