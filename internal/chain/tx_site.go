package chain

import "github.com/walrus-go/walrus/internal/bcs"

// Site payloads. Only a site's owner writes it.

// CreateSite creates a site (created object 0) owned by the sender, with its display name,
// routes, metadata and up to MaxSiteBatch resources of distinct paths.
type CreateSite struct {
	Name      string
	Routes    []Route
	Metadata  []Attribute
	Resources []Resource
}

// UpdateSite writes and removes resources of a site in one batch (at most MaxSiteBatch paths
// in all, each path once), and with SetInfo replaces its display name, routes and metadata.
// Removing a path the site does not have is skipped. The site's version grows by one.
type UpdateSite struct {
	Site     ObjectID
	SetInfo  bool
	Name     string
	Routes   []Route
	Metadata []Attribute
	Put      []Resource
	Remove   []string
}

// DestroySite deletes a site and its resources; a site of more than MaxSiteBatch resources
// must first shrink by UpdateSite. Names pointing at the site stay (their holder re-points
// or releases them).
type DestroySite struct{ Site ObjectID }

// SetSiteName points the on-chain name Name (CheckSiteName) at the sender's site Site, or
// releases it if Site is zero. A name is held by the account that set it first; only that
// account re-points or releases it.
type SetSiteName struct {
	Name string
	Site ObjectID
}

func (*CreateSite) variant() uint32  { return 39 }
func (*UpdateSite) variant() uint32  { return 40 }
func (*DestroySite) variant() uint32 { return 41 }
func (*SetSiteName) variant() uint32 { return 42 }

func encResources(e *bcs.Encoder, rs []Resource) {
	e.Len(len(rs))
	for i := range rs {
		rs[i].encode(e)
	}
}

func decResources(d *bcs.Decoder, max int) []Resource {
	n := d.Len(max)
	var rs []Resource
	for i := 0; i < n && d.Err() == nil; i++ {
		var r Resource
		r.decode(d)
		rs = append(rs, r)
	}
	return rs
}

func (p *CreateSite) encode(e *bcs.Encoder) {
	e.Bytes([]byte(p.Name))
	encRoutes(e, p.Routes)
	encMetadata(e, p.Metadata)
	encResources(e, p.Resources)
}

func (p *CreateSite) decode(d *bcs.Decoder) {
	p.Name = str(d, MaxSiteTitleLen)
	p.Routes = decRoutes(d)
	p.Metadata = decMetadata(d)
	p.Resources = decResources(d, MaxSiteBatch)
}

func (p *UpdateSite) encode(e *bcs.Encoder) {
	e.Fixed(p.Site[:])
	e.Bool(p.SetInfo)
	e.Bytes([]byte(p.Name))
	encRoutes(e, p.Routes)
	encMetadata(e, p.Metadata)
	encResources(e, p.Put)
	e.Len(len(p.Remove))
	for _, s := range p.Remove {
		e.Bytes([]byte(s))
	}
}

func (p *UpdateSite) decode(d *bcs.Decoder) {
	p.Site = fixed32(d)
	p.SetInfo = d.Bool()
	p.Name = str(d, MaxSiteTitleLen)
	p.Routes = decRoutes(d)
	p.Metadata = decMetadata(d)
	p.Put = decResources(d, MaxSiteBatch)
	n := d.Len(MaxSiteBatch - len(p.Put))
	for i := 0; i < n && d.Err() == nil; i++ {
		p.Remove = append(p.Remove, str(d, MaxResourcePathLen))
	}
}

func (p *DestroySite) encode(e *bcs.Encoder) { e.Fixed(p.Site[:]) }
func (p *DestroySite) decode(d *bcs.Decoder) { p.Site = fixed32(d) }

func (p *SetSiteName) encode(e *bcs.Encoder) {
	e.Bytes([]byte(p.Name))
	e.Fixed(p.Site[:])
}

func (p *SetSiteName) decode(d *bcs.Decoder) {
	p.Name = str(d, MaxSiteNameLen)
	p.Site = fixed32(d)
}
