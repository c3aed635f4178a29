package site

import (
	"slices"
	"strings"

	"github.com/walrus-go/walrus/internal/chain"
)

// ChangeKind says what a deploy does to one path.
type ChangeKind string

// Change kinds.
const (
	Added   ChangeKind = "added"
	Changed ChangeKind = "changed" // new content
	Headers ChangeKind = "headers" // same content, new headers: nothing to upload
	Removed ChangeKind = "removed"
)

// Change is one path a deploy adds, changes or removes.
type Change struct {
	Path string     `json:"path"`
	Kind ChangeKind `json:"change"`
}

// Plan is what a deploy does: the files to store, the resources to write without storing
// anything (same content, new headers: the old blob or patch is kept), the paths to remove,
// every change in path order, and how many paths stay as they are.
type Plan struct {
	Upload    []*File
	Rewrite   []chain.Resource
	Remove    []string
	Changes   []Change
	Unchanged int
}

// MakePlan compares the files of a directory (in path order) with the resources of the
// site on chain (in path order). A file whose content hash and size match its resource is
// not stored again; if its headers differ too, its resource is rewritten pointing at the same
// content.
func MakePlan(local []File, remote []chain.Resource) Plan {
	var p Plan
	old := make(map[string]*chain.Resource, len(remote)) // lookups only; never iterated
	for i := range remote {
		old[remote[i].Path] = &remote[i]
	}
	seen := make(map[string]bool, len(local)) // lookups only
	for i := range local {
		f := &local[i]
		seen[f.Path] = true
		r, ok := old[f.Path]
		switch {
		case !ok:
			p.Upload = append(p.Upload, f)
			p.Changes = append(p.Changes, Change{f.Path, Added})
		case r.Hash != f.Hash || r.Size != uint64(len(f.Data)):
			p.Upload = append(p.Upload, f)
			p.Changes = append(p.Changes, Change{f.Path, Changed})
		case !slices.Equal(r.Headers, f.Headers):
			nr := *r
			nr.Headers = f.Headers
			p.Rewrite = append(p.Rewrite, nr)
			p.Changes = append(p.Changes, Change{f.Path, Headers})
		default:
			p.Unchanged++
		}
	}
	for i := range remote {
		if !seen[remote[i].Path] {
			p.Remove = append(p.Remove, remote[i].Path)
			p.Changes = append(p.Changes, Change{remote[i].Path, Removed})
		}
	}
	slices.SortFunc(p.Changes, func(a, b Change) int { return strings.Compare(a.Path, b.Path) })
	return p
}

// Packing bounds, with their defaults in Options.
const (
	// DefaultSmallFile: files up to this size go into quilts, larger ones are blobs of their
	// own.
	DefaultSmallFile = 1 << 20
	// DefaultQuiltBytes bounds the file bytes packed into one quilt.
	DefaultQuiltBytes = 4 << 20
)

// Pack splits files into quilts and single blobs: files of at most small bytes go, in the
// given order, into quilts of at most maxPatches files and quiltBytes file bytes; the others
// are stored as blobs.
func Pack(files []*File, small, maxPatches, quiltBytes int) (quilts [][]*File, blobs []*File) {
	var cur []*File
	size := 0
	for _, f := range files {
		if len(f.Data) > small || maxPatches < 1 {
			blobs = append(blobs, f)
			continue
		}
		if len(cur) > 0 && (len(cur) == maxPatches || size+len(f.Data) > quiltBytes) {
			quilts = append(quilts, cur)
			cur, size = nil, 0
		}
		cur = append(cur, f)
		size += len(f.Data)
	}
	if len(cur) > 0 {
		quilts = append(quilts, cur)
	}
	return quilts, blobs
}

// Batch is what one transaction writes and removes.
type Batch struct {
	Put    []chain.Resource
	Remove []string
}

// Batches splits resources to write and paths to remove into batches of at most
// chain.MaxSiteBatch paths whose encoded resources and paths take at most maxBytes, in order
// (writes first). It returns at least one batch, possibly empty.
func Batches(put []chain.Resource, remove []string, maxBytes int) []Batch {
	out := []Batch{{}}
	size := 0
	room := func(n int) *Batch {
		b := &out[len(out)-1]
		if len(b.Put)+len(b.Remove) > 0 && (len(b.Put)+len(b.Remove) == chain.MaxSiteBatch || size+n > maxBytes) {
			out = append(out, Batch{})
			size = 0
			b = &out[len(out)-1]
		}
		size += n
		return b
	}
	for i := range put {
		b := room(put[i].EncodedSize())
		b.Put = append(b.Put, put[i])
	}
	for _, p := range remove {
		b := room(len(p) + 3)
		b.Remove = append(b.Remove, p)
	}
	return out
}
