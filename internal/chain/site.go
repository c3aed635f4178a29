package chain

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/walrus-go/walrus/internal/bcs"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// Walrus Sites: websites kept as chain state (see doc.go, "Sites").
//
// A Site is an owned, transferable object (kind KindSite): a display name, routes and
// metadata, and a count of its resources. Each resource (a path of the site, the blob or quilt
// patch holding its content, the SHA-256 of that content and the HTTP headers to send with it)
// lives under its own key, so that a portal reads one resource without loading the site.
// Only the owner writes; anyone reads. A site name (a DNS label) is a global record naming a
// site, held by the account that set it.

// Limits of sites. Decoding rejects longer values; execution checks the semantic rules
// ([CheckResourcePath], [CheckSiteName], [Resource.Check]).
const (
	// MaxSiteTitleLen bounds a site's display name.
	MaxSiteTitleLen = 256
	// MaxResourcePathLen bounds a resource path in bytes.
	MaxResourcePathLen = 1024
	// MaxPatchIDLen bounds a quilt patch ID in bytes.
	MaxPatchIDLen = 64
	// MaxResourceHeaders and MaxHeaderBytes bound the headers of one resource.
	MaxResourceHeaders = 32
	MaxHeaderBytes     = 4096
	// MaxRoutes bounds a site's routes; a route's pattern and target are resource paths.
	MaxRoutes = 64
	// MaxSiteBatch bounds the resources one CreateSite or UpdateSite writes plus the paths it
	// removes, and the resources DestroySite deletes. MaxTxSize bounds a batch in bytes too.
	MaxSiteBatch = 1000
	// MaxResourcePageSize bounds the resources of one QueryResources page, and the names of
	// one QuerySiteNames page.
	MaxResourcePageSize = 1000
	// MaxSiteNameLen bounds an on-chain site name. Names are shorter than the base36 form of
	// an object ID (about 50 characters), so a portal tells the two apart.
	MaxSiteNameLen = 40
)

// Route maps request paths to a resource: Pattern is a path, or a path prefix ending in "*"
// ("/app/*"); Path is the resource served. A portal uses the longest matching pattern.
type Route struct {
	Pattern string
	Path    string
}

// Site is a website (the variant KindSite of the object enum). Resources counts its resources
// and Bytes sums their sizes; Version counts the updates since creation.
type Site struct {
	ID        ObjectID
	Owner     Address
	Name      string
	Created   int64 // block time (unix nanoseconds) of the creation
	Version   uint64
	Resources uint64
	Bytes     uint64
	Routes    []Route     // sorted by pattern, patterns unique
	Metadata  []Attribute // sorted by key, keys unique
}

// Kind implements Object.
func (*Site) Kind() ObjectKind { return KindSite }

// ObjectID implements Object.
func (s *Site) ObjectID() ObjectID { return s.ID }

// OwnerAddress implements Object.
func (s *Site) OwnerAddress() Address { return s.Owner }

func encRoutes(e *bcs.Encoder, rs []Route) {
	e.Len(len(rs))
	for _, r := range rs {
		e.Bytes([]byte(r.Pattern))
		e.Bytes([]byte(r.Path))
	}
}

// decRoutes reads at most MaxRoutes routes, sorted by pattern with unique patterns.
func decRoutes(d *bcs.Decoder) []Route {
	n := d.Len(MaxRoutes)
	var rs []Route
	for i := 0; i < n && d.Err() == nil; i++ {
		r := Route{Pattern: str(d, MaxResourcePathLen), Path: str(d, MaxResourcePathLen)}
		if i > 0 && r.Pattern <= rs[i-1].Pattern {
			d.Fail(fmt.Errorf("%w: routes not sorted", bcs.ErrInvalidVariant))
		}
		rs = append(rs, r)
	}
	return rs
}

func (s *Site) encode(e *bcs.Encoder) {
	e.Fixed(s.ID[:])
	e.Fixed(s.Owner[:])
	e.Bytes([]byte(s.Name))
	e.U64(uint64(s.Created))
	e.U64(s.Version)
	e.U64(s.Resources)
	e.U64(s.Bytes)
	encRoutes(e, s.Routes)
	encMetadata(e, s.Metadata)
}

func (s *Site) decode(d *bcs.Decoder) {
	s.ID = fixed32(d)
	s.Owner = fixed32(d)
	s.Name = str(d, MaxSiteTitleLen)
	s.Created = int64(d.U64())
	s.Version = d.U64()
	s.Resources = d.U64()
	s.Bytes = d.U64()
	s.Routes = decRoutes(d)
	s.Metadata = decMetadata(d)
}

// Resource is one file of a site: its path ("/index.html"), where its content is (the blob
// BlobID, or if PatchID is set the patch of the quilt BlobID with that internal ID, 5 bytes
// for QuiltV1; with HasRange, only the bytes [Start, End) of that), the SHA-256 and size of the
// content, and the HTTP headers a portal sends with it (sorted by key, keys unique, lower-case
// and non-empty).
type Resource struct {
	Path     string
	BlobID   redstuff.BlobID
	PatchID  []byte
	Hash     [32]byte
	Size     uint64
	Headers  []Attribute
	HasRange bool
	Start    uint64
	End      uint64
}

// encodeValue writes everything but the path: in the state the path is part of the key.
func (r *Resource) encodeValue(e *bcs.Encoder) {
	e.Fixed(r.BlobID[:])
	e.Bytes(r.PatchID)
	e.Fixed(r.Hash[:])
	e.U64(r.Size)
	encHeaders(e, r.Headers)
	e.Bool(r.HasRange)
	if r.HasRange {
		e.U64(r.Start)
		e.U64(r.End)
	}
}

func (r *Resource) decodeValue(d *bcs.Decoder) {
	r.BlobID = fixed32(d)
	if r.PatchID = bytesCopy(d, MaxPatchIDLen); len(r.PatchID) == 0 {
		r.PatchID = nil
	}
	r.Hash = fixed32(d)
	r.Size = d.U64()
	r.Headers = decHeaders(d)
	r.HasRange = d.Bool()
	if r.HasRange {
		r.Start = d.U64()
		r.End = d.U64()
	}
}

func (r *Resource) encode(e *bcs.Encoder) {
	e.Bytes([]byte(r.Path))
	r.encodeValue(e)
}

func (r *Resource) decode(d *bcs.Decoder) {
	r.Path = str(d, MaxResourcePathLen)
	r.decodeValue(d)
}

// EncodedSize returns the size of the resource's BCS encoding in a payload, for callers that
// split a deploy into transactions under MaxTxSize.
func (r *Resource) EncodedSize() int { return len(encodeBCS(r)) }

// storedResource is the state record of a resource: a Resource without its path.
type storedResource struct{ Resource }

func (r *storedResource) encode(e *bcs.Encoder) { r.encodeValue(e) }
func (r *storedResource) decode(d *bcs.Decoder) { r.decodeValue(d) }

func encHeaders(e *bcs.Encoder, hs []Attribute) { encMetadata(e, hs) }

// decHeaders reads at most MaxResourceHeaders headers of at most MaxHeaderBytes in all,
// sorted by name with unique names.
func decHeaders(d *bcs.Decoder) []Attribute {
	n := d.Len(MaxResourceHeaders)
	var hs []Attribute
	total := 0
	for i := 0; i < n && d.Err() == nil; i++ {
		h := Attribute{Key: str(d, MaxHeaderBytes), Value: str(d, MaxHeaderBytes)}
		total += len(h.Key) + len(h.Value)
		if i > 0 && h.Key <= hs[i-1].Key {
			d.Fail(fmt.Errorf("%w: headers not sorted", bcs.ErrInvalidVariant))
		}
		if total > MaxHeaderBytes {
			d.Fail(fmt.Errorf("%w: headers of more than %d bytes", bcs.ErrInvalidVariant, MaxHeaderBytes))
		}
		hs = append(hs, h)
	}
	return hs
}

// CheckResourcePath checks a resource path: 2 to MaxResourcePathLen bytes of UTF-8 starting
// with "/", without NUL, control characters, "//" or a "." or ".." segment. Errors wrap
// ErrInvalidArgument.
func CheckResourcePath(p string) error {
	bad := func(why string) error { return errorf(ErrInvalidArgument, "resource path %q: %s", p, why) }
	switch {
	case len(p) < 2 || len(p) > MaxResourcePathLen:
		return bad(fmt.Sprintf("want 2 to %d bytes", MaxResourcePathLen))
	case p[0] != '/':
		return bad("must start with /")
	case !utf8.ValidString(p):
		return bad("not UTF-8")
	case strings.Contains(p, "//"):
		return bad("empty segment")
	}
	for _, r := range p {
		if r < ' ' || r == 0x7f {
			return bad("control character")
		}
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "." || seg == ".." {
			return bad("dot segment")
		}
	}
	return nil
}

// checkHeaderToken reports whether s is an HTTP header name in lower case.
func checkHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// Check checks a resource's path, patch ID, headers (lower-case HTTP header names, values of
// printable ASCII or tab) and range (Start < End, End - Start = Size).
func (r *Resource) Check() error {
	if err := CheckResourcePath(r.Path); err != nil {
		return err
	}
	for _, h := range r.Headers {
		if !checkHeaderName(h.Key) {
			return errorf(ErrInvalidArgument, "%s: header name %q: want a lower-case HTTP token", r.Path, h.Key)
		}
		for i := 0; i < len(h.Value); i++ {
			if c := h.Value[i]; (c < ' ' && c != '\t') || c >= 0x7f {
				return errorf(ErrInvalidArgument, "%s: header %s: value not printable ASCII", r.Path, h.Key)
			}
		}
	}
	if r.HasRange && (r.Start >= r.End || r.End-r.Start != r.Size) {
		return errorf(ErrInvalidArgument, "%s: range [%d, %d) does not hold %d bytes", r.Path, r.Start, r.End, r.Size)
	}
	return nil
}

// checkRoutes checks that every route's pattern is a resource path, optionally ending in
// "*" ("/*" is allowed), and its target a resource path.
func checkRoutes(rs []Route) error {
	for _, r := range rs {
		pat := strings.TrimSuffix(r.Pattern, "*")
		if pat != "/" {
			if err := CheckResourcePath(strings.TrimSuffix(pat, "/")); err != nil {
				return errorf(ErrInvalidArgument, "route %q: bad pattern", r.Pattern)
			}
		}
		if strings.Contains(pat, "*") {
			return errorf(ErrInvalidArgument, "route %q: * only at the end", r.Pattern)
		}
		if err := CheckResourcePath(r.Path); err != nil {
			return err
		}
	}
	return nil
}

// CheckSiteName checks an on-chain site name: a DNS label of 1 to MaxSiteNameLen lowercase
// letters, digits and hyphens, beginning and ending with a letter or digit. Errors wrap
// ErrInvalidArgument.
func CheckSiteName(name string) error {
	bad := func(why string) error { return errorf(ErrInvalidArgument, "site name %q: %s", name, why) }
	if name == "" || len(name) > MaxSiteNameLen {
		return bad(fmt.Sprintf("want 1 to %d characters", MaxSiteNameLen))
	}
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	for i := 0; i < len(name); i++ {
		if c := name[i]; !alnum(c) && c != '-' {
			return bad("only lowercase letters, digits and hyphens")
		}
	}
	if !alnum(name[0]) || !alnum(name[len(name)-1]) {
		return bad("must begin and end with a letter or digit")
	}
	return nil
}

// SiteName is an on-chain site name record: the name, the account holding it and the site
// it names.
type SiteName struct {
	Name  string
	Owner Address
	Site  ObjectID
}

func (n *SiteName) encode(e *bcs.Encoder) {
	e.Bytes([]byte(n.Name))
	n.encodeValue(e)
}

func (n *SiteName) decode(d *bcs.Decoder) {
	n.Name = str(d, MaxSiteNameLen)
	n.decodeValue(d)
}

func (n *SiteName) encodeValue(e *bcs.Encoder) {
	e.Fixed(n.Owner[:])
	e.Fixed(n.Site[:])
}

func (n *SiteName) decodeValue(d *bcs.Decoder) {
	n.Owner = fixed32(d)
	n.Site = fixed32(d)
}

type storedSiteName struct{ SiteName }

func (n *storedSiteName) encode(e *bcs.Encoder) { n.encodeValue(e) }
func (n *storedSiteName) decode(d *bcs.Decoder) { n.decodeValue(d) }
