package site

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"path"
	"sort"
	"strings"

	"github.com/walrus-go/walrus/internal/chain"
)

// Limits of a deployed directory.
const (
	// MaxFiles bounds the files of a site.
	MaxFiles = 10000
	// MaxSiteSize bounds the bytes of all files of a site.
	MaxSiteSize = 1 << 30
)

// ErrTooLarge is wrapped when a directory holds more than MaxFiles files or MaxSiteSize bytes.
var ErrTooLarge = errors.New("site: directory too large")

// File is one file to deploy: its resource path, contents, SHA-256 and the headers the site
// sends with it (sorted by name, names lower-case).
type File struct {
	Path    string
	Data    []byte
	Hash    [32]byte
	Headers []chain.Attribute
}

// webTypes are the content types of common web files, fixed so that a deploy does not depend
// on the machine's MIME tables.
var webTypes = map[string]string{
	".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8",
	".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
	".mjs": "text/javascript; charset=utf-8", ".json": "application/json",
	".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
	".gif": "image/gif", ".webp": "image/webp", ".avif": "image/avif", ".ico": "image/x-icon",
	".wasm": "application/wasm", ".txt": "text/plain; charset=utf-8", ".xml": "application/xml",
	".pdf": "application/pdf", ".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf",
	".otf": "font/otf", ".mp4": "video/mp4", ".webm": "video/webm", ".mp3": "audio/mpeg",
	".map": "application/json", ".webmanifest": "application/manifest+json",
}

// ContentType returns the content type of a resource path by its extension:
// application/octet-stream if unknown.
func ContentType(p string) string {
	ext := strings.ToLower(path.Ext(p))
	if t, ok := webTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// Scan reads the regular files of fsys (symbolic links and other special files are left
// out), except ConfigFile at the top and the paths cfg ignores, in path order. Each file gets
// a content-type header by extension, overridden and extended by cfg's headers for its path.
// Errors wrap ErrTooLarge past MaxFiles or MaxSiteSize.
func Scan(fsys fs.FS, cfg *Config) ([]File, error) {
	var files []File
	total := 0
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() || name == ConfigFile {
			return nil
		}
		p := "/" + name
		if cfg.Ignored(p) {
			return nil
		}
		if err := chain.CheckResourcePath(p); err != nil {
			return fmt.Errorf("site: %s: %w", name, err)
		}
		if len(files) == MaxFiles {
			return fmt.Errorf("%w: more than %d files", ErrTooLarge, MaxFiles)
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		if total += len(data); total > MaxSiteSize {
			return fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxSiteSize)
		}
		files = append(files, File{Path: p, Data: data, Hash: sha256.Sum256(data), Headers: headersFor(p, cfg)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

func headersFor(p string, cfg *Config) []chain.Attribute {
	h := map[string]string{"content-type": ContentType(p)}
	for k, v := range cfg.Headers[p] {
		h[k] = v
	}
	var out []chain.Attribute
	for _, k := range sortedKeys(h) {
		out = append(out, chain.Attribute{Key: k, Value: h[k]})
	}
	return out
}
