// Package portal serves Walrus Sites over HTTP: a request for
// http://<site>.<domain>:PORT/path names a site by the base36 form of its object ID or by
// its on-chain name, and the path a resource of it. The portal resolves the path (index.html
// for directories, the site's routes, the site's 404.html), reads the resource's content
// through the client SDK, checks its SHA-256 against the hash on chain and only then sends it,
// with the headers stored on chain, a content type, an ETag and caching headers. Every site
// is its own origin, so sites cannot read each other's storage or cookies.
//
// The portal holds no state but a bounded cache of quilt blobs (immutable, and every
// response is checked against its hash anyway); it is safe for concurrent use.
package portal

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/quilt"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// Chain is what the portal reads from the chain (chainclient.Client implements it). A
// missing site, resource or name is an error wrapping chain.ErrUnknownObject,
// chain.ErrWrongObjectKind or chain.ErrNotFound.
type Chain interface {
	Site(ctx context.Context, id chain.ObjectID) (chain.Site, error)
	Resource(ctx context.Context, site chain.ObjectID, path string) (chain.Resource, error)
	SiteName(ctx context.Context, name string) (chain.SiteName, error)
}

// Blobs reads content: a whole blob, or one patch of a quilt.
type Blobs interface {
	ReadBlob(ctx context.Context, id redstuff.BlobID) ([]byte, error)
	ReadPatch(ctx context.Context, quiltID redstuff.BlobID, patch quilt.InternalID) ([]byte, error)
}

// Config configures a portal. Chain and Blobs are required; the other fields have defaults.
type Config struct {
	Chain Chain
	Blobs Blobs
	// Domain is the domain sites are subdomains of (default "localhost": browsers resolve
	// *.localhost to the loopback address).
	Domain string
	// MaxResourceSize bounds the size of a resource the portal serves (default 64 MiB).
	MaxResourceSize uint64
	// MaxConcurrent bounds the requests served at once (default 64); others wait for a
	// slot until their context ends, then get 503.
	MaxConcurrent int
	// Timeout bounds one request's reads (default 60 s).
	Timeout time.Duration
	// CacheControl is sent when a resource stores none (default "no-cache": browsers keep
	// the content and revalidate it with its ETag, so an update shows at once).
	CacheControl string
	// Logger receives one line per failed request (default: discarded).
	Logger *slog.Logger
}

// Portal is an http.Handler serving sites.
type Portal struct {
	cfg   Config
	slots chan struct{}
}

// New returns a portal, or an error naming the missing field.
func New(cfg Config) (*Portal, error) {
	if cfg.Chain == nil || cfg.Blobs == nil {
		return nil, errors.New("portal: Config.Chain and Config.Blobs are required")
	}
	cfg.Domain = strings.ToLower(cmp.Or(cfg.Domain, "localhost"))
	cfg.MaxResourceSize = cmp.Or(cfg.MaxResourceSize, 64<<20)
	cfg.MaxConcurrent = cmp.Or(cfg.MaxConcurrent, 64)
	cfg.Timeout = cmp.Or(cfg.Timeout, 60*time.Second)
	cfg.CacheControl = cmp.Or(cfg.CacheControl, "no-cache")
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Portal{cfg: cfg, slots: make(chan struct{}, cfg.MaxConcurrent)}, nil
}

// Errors of a request, each with its status in statusOf.
var (
	ErrNotSiteHost   = errors.New("portal: not a site address")
	ErrBadSiteID     = errors.New("portal: bad site ID")
	ErrNoSuchName    = errors.New("portal: no site of that name")
	ErrNoSuchSite    = errors.New("portal: no such site")
	ErrNotFound      = errors.New("portal: no such resource")
	ErrMethod        = errors.New("portal: method not allowed")
	ErrTooLarge      = errors.New("portal: resource larger than this portal serves")
	ErrHashMismatch  = errors.New("portal: content does not match the site's hash")
	ErrUnavailable   = errors.New("portal: content unavailable")
	ErrBusy          = errors.New("portal: too many requests")
	errChainInternal = errors.New("portal: chain unavailable")
)

// statusOf is the one status table of the portal.
func statusOf(err error) int {
	switch {
	case errors.Is(err, ErrNotSiteHost), errors.Is(err, ErrBadSiteID):
		return http.StatusBadRequest
	case errors.Is(err, ErrNoSuchName), errors.Is(err, ErrNoSuchSite), errors.Is(err, ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, ErrMethod):
		return http.StatusMethodNotAllowed
	case errors.Is(err, ErrBusy):
		return http.StatusServiceUnavailable
	}
	return http.StatusBadGateway // too large, hash mismatch, unavailable content or chain
}

// ServeHTTP implements http.Handler.
func (p *Portal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	label, err := p.siteLabel(r.Host)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if label == "" {
		p.landing(w)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		p.fail(w, r, ErrMethod)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), p.cfg.Timeout)
	defer cancel()
	select {
	case p.slots <- struct{}{}:
		defer func() { <-p.slots }()
	case <-ctx.Done():
		p.fail(w, r, ErrBusy)
		return
	}
	site, err := p.resolveSite(ctx, label)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	res, status, err := p.resolvePath(ctx, &site, r.URL.Path)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	etag := `"` + hex.EncodeToString(res.Hash[:]) + `"`
	if status == http.StatusOK && etagMatch(r.Header.Get("If-None-Match"), etag) {
		// The ETag is the SHA-256 on chain: a browser holding that content needs nothing
		// read or checked.
		w.Header().Set("ETag", etag)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body, err := p.content(ctx, &res)
	if err != nil {
		p.fail(w, r, fmt.Errorf("%s: %w", res.Path, err))
		return
	}
	h := w.Header()
	for _, kv := range res.Headers {
		if !dropped(kv.Key) {
			h.Set(kv.Key, kv.Value)
		}
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", contentType(res.Path))
	}
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", p.cfg.CacheControl)
	}
	h.Set("ETag", etag)
	h.Set("X-Content-Type-Options", "nosniff")
	if status == http.StatusOK {
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
		return
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// etagMatch reports whether an If-None-Match header names etag (or is "*").
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// dropped lists stored headers a portal never sends: those that would reach beyond the
// site's origin (cookies on the portal's domain) or that the portal itself computes.
func dropped(name string) bool {
	switch strings.ToLower(name) {
	case "set-cookie", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade",
		"trailer", "te", "etag", "strict-transport-security", "alt-svc":
		return true
	}
	return strings.HasPrefix(strings.ToLower(name), "x-wal-")
}

// siteLabel returns the label of a host <label>.<domain>[:port], "" for the domain itself.
func (p *Portal) siteLabel(host string) (string, error) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == p.cfg.Domain {
		return "", nil
	}
	label, ok := strings.CutSuffix(host, "."+p.cfg.Domain)
	if !ok || label == "" || strings.Contains(label, ".") || len(label) > 63 {
		return "", fmt.Errorf("%w: %q is not <site>.%s", ErrNotSiteHost, host, p.cfg.Domain)
	}
	return label, nil
}

// resolveSite returns the site a label names: an on-chain name, else a base36 object ID.
func (p *Portal) resolveSite(ctx context.Context, label string) (chain.Site, error) {
	var id chain.ObjectID
	named := false
	if chain.CheckSiteName(label) == nil {
		n, err := p.cfg.Chain.SiteName(ctx, label)
		switch {
		case err == nil:
			id, named = n.Site, true
		case !errors.Is(err, chain.ErrNotFound):
			return chain.Site{}, fmt.Errorf("%w: %v", errChainInternal, err)
		}
	}
	if !named {
		// Names are at most chain.MaxSiteNameLen characters; the base36 form of an object ID
		// is longer but for IDs below 36^40 (a chance of 2^-49).
		if chain.CheckSiteName(label) == nil && len(label) <= chain.MaxSiteNameLen {
			return chain.Site{}, fmt.Errorf("%w: %q", ErrNoSuchName, label)
		}
		var err error
		if id, err = ParseBase36(label); err != nil {
			return chain.Site{}, fmt.Errorf("%w: %q is neither a site name nor a base36 object ID", ErrBadSiteID, label)
		}
	}
	s, err := p.cfg.Chain.Site(ctx, id)
	switch {
	case errors.Is(err, chain.ErrUnknownObject), errors.Is(err, chain.ErrWrongObjectKind):
		return s, fmt.Errorf("%w: %s", ErrNoSuchSite, Base36(id))
	case err != nil:
		return s, fmt.Errorf("%w: %v", errChainInternal, err)
	}
	return s, nil
}

// resolvePath finds the resource serving a request path, and its status: the path itself
// (index.html for a directory, or path/index.html), else the longest matching route, else
// the site's /404.html with 404.
func (p *Portal) resolvePath(ctx context.Context, s *chain.Site, urlPath string) (chain.Resource, int, error) {
	clean := path.Clean("/" + urlPath)
	var tries []string
	if strings.HasSuffix(urlPath, "/") || clean == "/" {
		tries = append(tries, strings.TrimSuffix(clean, "/")+"/index.html")
	} else {
		tries = append(tries, clean, clean+"/index.html")
	}
	if target, ok := Route(s.Routes, clean); ok {
		tries = append(tries, target)
	}
	for _, t := range tries {
		if chain.CheckResourcePath(t) != nil {
			continue
		}
		r, err := p.cfg.Chain.Resource(ctx, s.ID, t)
		if err == nil {
			return r, http.StatusOK, nil
		}
		if !errors.Is(err, chain.ErrNotFound) {
			return r, 0, fmt.Errorf("%w: %v", errChainInternal, err)
		}
	}
	r, err := p.cfg.Chain.Resource(ctx, s.ID, "/404.html")
	if err == nil {
		return r, http.StatusNotFound, nil
	}
	if !errors.Is(err, chain.ErrNotFound) {
		return r, 0, fmt.Errorf("%w: %v", errChainInternal, err)
	}
	return r, 0, fmt.Errorf("%w: %s", ErrNotFound, clean)
}

// Route returns the target of the longest route pattern matching a path: a pattern ending in
// "*" matches every path it prefixes, another pattern only itself.
func Route(routes []chain.Route, p string) (string, bool) {
	best, target := -1, ""
	for _, r := range routes {
		pat, wild := strings.CutSuffix(r.Pattern, "*")
		match := p == r.Pattern || wild && strings.HasPrefix(p, pat)
		if !match && wild && strings.HasSuffix(pat, "/") && p == strings.TrimSuffix(pat, "/") {
			match = true // "/app/*" also serves "/app"
		}
		if match && len(pat) > best {
			best, target = len(pat), r.Path
		}
	}
	return target, best >= 0
}

// content reads a resource's content and checks its size and SHA-256.
func (p *Portal) content(ctx context.Context, r *chain.Resource) ([]byte, error) {
	if r.Size > p.cfg.MaxResourceSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, r.Size, p.cfg.MaxResourceSize)
	}
	var data []byte
	var err error
	if len(r.PatchID) > 0 {
		var id quilt.InternalID
		if id, err = quilt.ParseInternalID(r.PatchID); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		data, err = p.cfg.Blobs.ReadPatch(ctx, r.BlobID, id)
	} else {
		data, err = p.cfg.Blobs.ReadBlob(ctx, r.BlobID)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if r.HasRange {
		if r.End > uint64(len(data)) {
			return nil, fmt.Errorf("%w: range [%d, %d) of %d bytes", ErrHashMismatch, r.Start, r.End, len(data))
		}
		data = data[r.Start:r.End]
	}
	if uint64(len(data)) != r.Size || sha256.Sum256(data) != r.Hash {
		return nil, fmt.Errorf("%w: %d bytes read", ErrHashMismatch, len(data))
	}
	return data, nil
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>body{font-family:sans-serif;max-width:40em;margin:4em auto;color:#222}code{background:#eee;padding:0 .2em}</style>
</head><body><h1>{{.Title}}</h1><p>{{.Message}}</p>{{if .Status}}<p><small>HTTP {{.Status}} · Walrus Sites portal</small></p>{{end}}</body></html>
`))

type pageData struct {
	Title, Message string
	Status         int
}

func (p *Portal) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	title := map[int]string{
		http.StatusBadRequest: "Bad site address", http.StatusNotFound: "Not found",
		http.StatusMethodNotAllowed: "Method not allowed", http.StatusServiceUnavailable: "Portal busy",
		http.StatusBadGateway: "Cannot serve this resource",
	}[status]
	if errors.Is(err, ErrHashMismatch) {
		title = "Content does not match the site"
	}
	if status >= 500 {
		p.cfg.Logger.Warn("portal request failed", "host", r.Host, "path", r.URL.Path, "err", err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		page.Execute(w, pageData{Title: title, Message: err.Error(), Status: status})
	}
}

func (p *Portal) landing(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	page.Execute(w, pageData{Title: "Walrus Sites portal",
		Message: "Open a site at http://<site object ID in base36>." + p.cfg.Domain +
			" or http://<site name>." + p.cfg.Domain + " on this port ('walrus site list' prints the addresses)."})
}

// contentType returns the content type of a path by extension.
func contentType(p string) string {
	switch strings.ToLower(path.Ext(p)) {
	case ".html", ".htm":
		return "text/html; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".json":
		return "application/json"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".wasm":
		return "application/wasm"
	}
	return "application/octet-stream"
}
