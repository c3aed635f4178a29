package chain

import "github.com/walrus-go/walrus/internal/bcs"

// SiteCreated is emitted when a site is created; Resources is the number it was created with.
type SiteCreated struct {
	Site      ObjectID
	Owner     Address
	Resources uint32
}

// SiteUpdated is emitted by UpdateSite: the site's new version, and how many resources the
// update wrote and removed.
type SiteUpdated struct {
	Site    ObjectID
	Version uint64
	Put     uint32
	Removed uint32
}

// SiteDestroyed is emitted when a site and its resources are deleted.
type SiteDestroyed struct {
	Site      ObjectID
	Owner     Address
	Resources uint32
}

// SiteNameSet is emitted when a name is pointed at a site, or released (Site zero).
type SiteNameSet struct {
	Name  string
	Owner Address
	Site  ObjectID
}

func (*SiteCreated) eventVariant() uint32   { return 22 }
func (*SiteUpdated) eventVariant() uint32   { return 23 }
func (*SiteDestroyed) eventVariant() uint32 { return 24 }
func (*SiteNameSet) eventVariant() uint32   { return 25 }

func (v *SiteCreated) encode(e *bcs.Encoder) {
	e.Fixed(v.Site[:])
	e.Fixed(v.Owner[:])
	e.U32(v.Resources)
}

func (v *SiteCreated) decode(d *bcs.Decoder) {
	v.Site = fixed32(d)
	v.Owner = fixed32(d)
	v.Resources = d.U32()
}

func (v *SiteCreated) fields() []field {
	return []field{{"site", v.Site}, {"owner", v.Owner}, {"resources", v.Resources}}
}

func (v *SiteUpdated) encode(e *bcs.Encoder) {
	e.Fixed(v.Site[:])
	e.U64(v.Version)
	e.U32(v.Put)
	e.U32(v.Removed)
}

func (v *SiteUpdated) decode(d *bcs.Decoder) {
	v.Site = fixed32(d)
	v.Version = d.U64()
	v.Put = d.U32()
	v.Removed = d.U32()
}

func (v *SiteUpdated) fields() []field {
	return []field{{"site", v.Site}, {"version", v.Version}, {"put", v.Put}, {"removed", v.Removed}}
}

func (v *SiteDestroyed) encode(e *bcs.Encoder) {
	e.Fixed(v.Site[:])
	e.Fixed(v.Owner[:])
	e.U32(v.Resources)
}

func (v *SiteDestroyed) decode(d *bcs.Decoder) {
	v.Site = fixed32(d)
	v.Owner = fixed32(d)
	v.Resources = d.U32()
}

func (v *SiteDestroyed) fields() []field {
	return []field{{"site", v.Site}, {"owner", v.Owner}, {"resources", v.Resources}}
}

func (v *SiteNameSet) encode(e *bcs.Encoder) {
	e.Bytes([]byte(v.Name))
	e.Fixed(v.Owner[:])
	e.Fixed(v.Site[:])
}

func (v *SiteNameSet) decode(d *bcs.Decoder) {
	v.Name = str(d, MaxSiteNameLen)
	v.Owner = fixed32(d)
	v.Site = fixed32(d)
}

func (v *SiteNameSet) fields() []field {
	return []field{{"name", v.Name}, {"owner", v.Owner}, {"site", v.Site}}
}
