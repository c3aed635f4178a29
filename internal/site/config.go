// Package site deploys a directory as a Walrus Site: it reads the directory and its
// ws-resources.json (as Walrus's site-builder does), plans what changed against the site on
// chain, stores the changed files (small ones packed into quilts, large ones as blobs) and
// writes the resources in as few transactions as the chain allows.
//
// The planning (Scan, Plan, Batches) is pure; Deploy drives it through two small interfaces,
// Storage and Chain, so that tests run it against a fake and the CLI against the real client.
package site

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/walrus-go/walrus/internal/chain"
)

// ConfigFile is the name of the configuration file in a site's directory; it is never
// deployed.
const ConfigFile = "ws-resources.json"

// MaxConfigSize bounds ws-resources.json.
const MaxConfigSize = 1 << 20

// ErrConfig is wrapped by every error about ws-resources.json.
var ErrConfig = errors.New("site: bad ws-resources.json")

// Config is ws-resources.json: per-path headers, client-side routes, metadata, the site's
// display name, the object ID of the site to update and glob patterns of paths to leave out.
// Header names are lower-cased; paths and patterns are resource paths ("/index.html").
type Config struct {
	Headers  map[string]map[string]string `json:"headers,omitempty"`
	Routes   map[string]string            `json:"routes,omitempty"`
	Metadata map[string]string            `json:"metadata,omitempty"`
	SiteName string                       `json:"site_name,omitempty"`
	ObjectID string                       `json:"object_id,omitempty"`
	Ignore   []string                     `json:"ignore,omitempty"`

	// Object is ObjectID parsed (zero if ObjectID is empty).
	Object chain.ObjectID `json:"-"`
}

// ParseConfig parses and checks ws-resources.json: at most MaxConfigSize bytes of one JSON
// object without unknown fields, header paths and route targets that are resource paths,
// route patterns that are paths optionally ending in "*", header names that are HTTP tokens,
// ignore patterns that are valid globs, and an object ID (0x and 64 hex digits) if given.
// Errors wrap ErrConfig and name the bad field.
func ParseConfig(b []byte) (*Config, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	if len(b) > MaxConfigSize {
		return nil, bad("%d bytes, at most %d", len(b), MaxConfigSize)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	var c Config
	if err := d.Decode(&c); err != nil {
		return nil, bad("%v", err)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, bad("trailing data after the JSON object")
	}
	for _, p := range sortedKeys(c.Headers) {
		if err := chain.CheckResourcePath(p); err != nil {
			return nil, bad("headers: %v", err)
		}
		if len(c.Headers[p]) > chain.MaxResourceHeaders {
			return nil, bad("headers: %s: %d headers, at most %d", p, len(c.Headers[p]), chain.MaxResourceHeaders)
		}
		lower := map[string]string{}
		for _, k := range sortedKeys(c.Headers[p]) {
			v := c.Headers[p][k]
			lk := strings.ToLower(k)
			if !headerName(lk) {
				return nil, bad("headers: %s: %q is not an HTTP header name", p, k)
			}
			if _, dup := lower[lk]; dup {
				return nil, bad("headers: %s: header %q given twice", p, k)
			}
			if !headerValue(v) {
				return nil, bad("headers: %s: %s: value must be printable ASCII", p, k)
			}
			lower[lk] = v
		}
		c.Headers[p] = lower
	}
	if len(c.Routes) > chain.MaxRoutes {
		return nil, bad("routes: %d, at most %d", len(c.Routes), chain.MaxRoutes)
	}
	for _, pat := range sortedKeys(c.Routes) {
		if err := checkPattern(pat); err != nil {
			return nil, bad("routes: %v", err)
		}
		if err := chain.CheckResourcePath(c.Routes[pat]); err != nil {
			return nil, bad("routes: %s: %v", pat, err)
		}
	}
	if len(c.Metadata) > chain.MaxMetadataPairs {
		return nil, bad("metadata: %d keys, at most %d", len(c.Metadata), chain.MaxMetadataPairs)
	}
	total := 0
	for k, v := range c.Metadata {
		if k == "" {
			return nil, bad("metadata: empty key")
		}
		total += len(k) + len(v)
	}
	if total > chain.MaxMetadataBytes {
		return nil, bad("metadata: %d bytes, at most %d", total, chain.MaxMetadataBytes)
	}
	if len(c.SiteName) > chain.MaxSiteTitleLen {
		return nil, bad("site_name: %d bytes, at most %d", len(c.SiteName), chain.MaxSiteTitleLen)
	}
	for _, g := range c.Ignore {
		if !strings.HasPrefix(g, "/") {
			return nil, bad("ignore: %q must start with /", g)
		}
		if _, err := path.Match(g, "/"); err != nil {
			return nil, bad("ignore: %q: %v", g, err)
		}
	}
	if c.ObjectID != "" {
		id, err := chain.ParseObjectID(c.ObjectID)
		if err != nil {
			return nil, bad("object_id: %q is not an object ID", c.ObjectID)
		}
		c.Object = id
	}
	return &c, nil
}

// checkPattern checks a route pattern: "/*", or a resource path optionally ending in "/*"
// or "*".
func checkPattern(p string) error {
	base := strings.TrimSuffix(p, "*")
	if strings.Contains(base, "*") {
		return fmt.Errorf("%q: * only at the end", p)
	}
	if base == "/" {
		return nil
	}
	if err := chain.CheckResourcePath(strings.TrimSuffix(base, "/")); err != nil {
		return fmt.Errorf("%q: not a path pattern", p)
	}
	return nil
}

// Ignored reports whether a resource path matches an ignore pattern. A pattern matches the
// path, or (ending in "/*") everything below its directory, as the site-builder does.
func (c *Config) Ignored(p string) bool {
	for _, g := range c.Ignore {
		if ok, _ := path.Match(g, p); ok {
			return true
		}
		if dir, ok := strings.CutSuffix(g, "/*"); ok && strings.HasPrefix(p, dir+"/") {
			return true
		}
	}
	return false
}

// ChainRoutes returns the routes as the chain stores them: sorted by pattern.
func (c *Config) ChainRoutes() []chain.Route {
	var rs []chain.Route
	for _, p := range sortedKeys(c.Routes) {
		rs = append(rs, chain.Route{Pattern: p, Path: c.Routes[p]})
	}
	return rs
}

// ChainMetadata returns the metadata as the chain stores it: sorted by key.
func (c *Config) ChainMetadata() []chain.Attribute {
	var m []chain.Attribute
	for _, k := range sortedKeys(c.Metadata) {
		m = append(m, chain.Attribute{Key: k, Value: c.Metadata[k]})
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func headerName(s string) bool {
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

func headerValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c >= 0x7f {
			return false
		}
	}
	return true
}
