package chain

import (
	"bytes"

	"github.com/walrus-go/walrus/internal/bcs"
)

// Site query paths (see the Query* constants in query.go). A resource page costs a range
// scan of at most its size, whatever the site holds.
const (
	// QuerySite: request the 32-byte site ID; response Site (ErrUnknownObject if absent,
	// ErrWrongObjectKind if the object is not a site).
	QuerySite = "/site"
	// QueryResource: request ResourceRequest; response Resource (ErrNotFound if absent).
	QueryResource = "/site/resource"
	// QueryResources: request ResourcesRequest; response ResourcePage (in path order).
	QueryResources = "/site/resources"
	// QuerySiteName: request the name as BCS bytes; response SiteName (ErrNotFound if no
	// account holds it).
	QuerySiteName = "/site/name"
	// QuerySiteNames: request SiteNamesRequest; response SiteNamePage (in name order).
	QuerySiteNames = "/site/names"
)

// ResourceRequest names one resource of a site.
type ResourceRequest struct {
	Site ObjectID
	Path string
}

func (r *ResourceRequest) encode(e *bcs.Encoder) { e.Fixed(r.Site[:]); e.Bytes([]byte(r.Path)) }
func (r *ResourceRequest) decode(d *bcs.Decoder) {
	r.Site = fixed32(d)
	r.Path = str(d, MaxResourcePathLen)
}

// Encode returns the BCS encoding of r.
func (r ResourceRequest) Encode() []byte { return encodeBCS(&r) }

// ResourcesRequest asks for a site's resources in path order after the path After (from the
// first if empty), at most Limit (capped at MaxResourcePageSize; 0 means that).
type ResourcesRequest struct {
	Site  ObjectID
	After string
	Limit uint32
}

func (r *ResourcesRequest) encode(e *bcs.Encoder) {
	e.Fixed(r.Site[:])
	e.Bytes([]byte(r.After))
	e.U32(r.Limit)
}

func (r *ResourcesRequest) decode(d *bcs.Decoder) {
	r.Site = fixed32(d)
	r.After = str(d, MaxResourcePathLen)
	r.Limit = d.U32()
}

// Encode returns the BCS encoding of r.
func (r ResourcesRequest) Encode() []byte { return encodeBCS(&r) }

// ResourcePage is a page of resources; if HasNext, the next page starts after the last one.
type ResourcePage struct {
	Resources []Resource
	HasNext   bool
}

func (p *ResourcePage) encode(e *bcs.Encoder) {
	encResources(e, p.Resources)
	e.Bool(p.HasNext)
}

func (p *ResourcePage) decode(d *bcs.Decoder) {
	p.Resources = decResources(d, MaxResourcePageSize)
	p.HasNext = d.Bool()
}

// SiteNamesRequest asks for site names in name order after After, at most Limit (capped at
// MaxResourcePageSize; 0 means that).
type SiteNamesRequest struct {
	After string
	Limit uint32
}

func (r *SiteNamesRequest) encode(e *bcs.Encoder) { e.Bytes([]byte(r.After)); e.U32(r.Limit) }
func (r *SiteNamesRequest) decode(d *bcs.Decoder) {
	r.After = str(d, MaxSiteNameLen)
	r.Limit = d.U32()
}

// Encode returns the BCS encoding of r.
func (r SiteNamesRequest) Encode() []byte { return encodeBCS(&r) }

// SiteNamePage is a page of site names; if HasNext, the next page starts after the last one.
type SiteNamePage struct {
	Names   []SiteName
	HasNext bool
}

func (p *SiteNamePage) encode(e *bcs.Encoder) {
	e.Len(len(p.Names))
	for i := range p.Names {
		p.Names[i].encode(e)
	}
	e.Bool(p.HasNext)
}

func (p *SiteNamePage) decode(d *bcs.Decoder) {
	n := d.Len(MaxResourcePageSize)
	for i := 0; i < n && d.Err() == nil; i++ {
		var x SiteName
		x.decode(d)
		p.Names = append(p.Names, x)
	}
	p.HasNext = d.Bool()
}

type siteNameRequest struct{ Name string }

func (r *siteNameRequest) encode(e *bcs.Encoder) { e.Bytes([]byte(r.Name)) }
func (r *siteNameRequest) decode(d *bcs.Decoder) { r.Name = str(d, MaxSiteNameLen) }

// SiteNameQuery returns the request of QuerySiteName for name.
func SiteNameQuery(name string) []byte { return encodeBCS(&siteNameRequest{name}) }

// DecodeSite decodes the response of QuerySite.
func DecodeSite(b []byte) (Site, error) { return decodeBCS[Site](b) }

// DecodeResource decodes the response of QueryResource.
func DecodeResource(b []byte) (Resource, error) { return decodeBCS[Resource](b) }

// DecodeResourcePage decodes the response of QueryResources.
func DecodeResourcePage(b []byte) (ResourcePage, error) { return decodeBCS[ResourcePage](b) }

// DecodeSiteName decodes the response of QuerySiteName.
func DecodeSiteName(b []byte) (SiteName, error) { return decodeBCS[SiteName](b) }

// DecodeSiteNamePage decodes the response of QuerySiteNames.
func DecodeSiteNamePage(b []byte) (SiteNamePage, error) { return decodeBCS[SiteNamePage](b) }

// Site returns a site.
func (v *View) Site(id ObjectID) (Site, error) {
	o, ok := getObject(v.s, id)
	if !ok {
		return Site{}, errorf(ErrUnknownObject, "%s", id)
	}
	s, isSite := o.(*Site)
	if !isSite {
		return Site{}, errorf(ErrWrongObjectKind, "%s is a %s, not a site", id, o.Kind())
	}
	return *s, nil
}

// Resource returns one resource of a site.
func (v *View) Resource(site ObjectID, path string) (Resource, error) {
	r, ok := getResource(v.s, site, path)
	if !ok {
		return Resource{}, errorf(ErrNotFound, "site %s has no resource %q", site, path)
	}
	return r, nil
}

func sitePageLimit(limit uint32, max int) int {
	if limit == 0 || int(limit) > max {
		return max
	}
	return int(limit)
}

// Resources returns a page of a site's resources.
func (v *View) Resources(r ResourcesRequest) ResourcePage {
	limit := sitePageLimit(r.Limit, MaxResourcePageSize)
	prefix := keyResourcePrefix(r.Site)
	start := prefix
	if r.After != "" {
		start = append(keyResource(r.Site, r.After), 0)
	}
	var page ResourcePage
	v.s.Iterate(start, prefixEnd(prefix), func(k, val []byte) bool {
		if len(page.Resources) == limit {
			page.HasNext = true
			return false
		}
		x, err := decodeBCS[storedResource](val)
		if err != nil {
			panic("chain: corrupt resource record: " + err.Error())
		}
		x.Path = string(bytes.Clone(k[len(prefix):]))
		page.Resources = append(page.Resources, x.Resource)
		return true
	})
	return page
}

// SiteName returns the record of an on-chain site name.
func (v *View) SiteName(name string) (SiteName, error) {
	n, ok := get[storedSiteName](v.s, keySiteName(name))
	if !ok {
		return SiteName{}, errorf(ErrNotFound, "site name %q", name)
	}
	n.Name = name
	return n.SiteName, nil
}

// SiteNames returns a page of site names.
func (v *View) SiteNames(r SiteNamesRequest) SiteNamePage {
	limit := sitePageLimit(r.Limit, MaxResourcePageSize)
	prefix := []byte(prefixSiteName)
	start := prefix
	if r.After != "" {
		start = append(keySiteName(r.After), 0)
	}
	var page SiteNamePage
	v.s.Iterate(start, prefixEnd(prefix), func(k, val []byte) bool {
		if len(page.Names) == limit {
			page.HasNext = true
			return false
		}
		x, err := decodeBCS[storedSiteName](val)
		if err != nil {
			panic("chain: corrupt site name record: " + err.Error())
		}
		x.Name = string(bytes.Clone(k[len(prefix):]))
		page.Names = append(page.Names, x.SiteName)
		return true
	})
	return page
}

func (v *View) querySite(path string, data []byte) (out []byte, ok bool, err error) {
	answer := func(val bcsValue, err error) ([]byte, bool, error) {
		if err != nil {
			return nil, true, err
		}
		return encodeBCS(val), true, nil
	}
	switch path {
	case QuerySite:
		if len(data) != 32 {
			return nil, true, errorf(ErrMalformed, "%s wants 32 bytes, got %d", path, len(data))
		}
		s, err := v.Site(ObjectID(data))
		return answer(&s, err)
	case QueryResource:
		r, err := decodeBCS[ResourceRequest](data)
		if err != nil {
			return nil, true, err
		}
		x, err := v.Resource(r.Site, r.Path)
		return answer(&x, err)
	case QueryResources:
		r, err := decodeBCS[ResourcesRequest](data)
		if err != nil {
			return nil, true, err
		}
		page := v.Resources(r)
		return answer(&page, nil)
	case QuerySiteName:
		r, err := decodeBCS[siteNameRequest](data)
		if err != nil {
			return nil, true, err
		}
		n, err := v.SiteName(r.Name)
		return answer(&n, err)
	case QuerySiteNames:
		r, err := decodeBCS[SiteNamesRequest](data)
		if err != nil {
			return nil, true, err
		}
		page := v.SiteNames(r)
		return answer(&page, nil)
	}
	return nil, false, nil
}
