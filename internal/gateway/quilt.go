package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/client"
	"github.com/walrus-go/walrus/internal/quilt"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// metadataPart is the name of the multipart part with the files' identifiers and tags
// (Walrus's WALRUS_NATIVE_METADATA_FIELD_NAME).
const metadataPart = "_metadata"

// maxQuiltParts bounds the parts of a quilt store: more files than any quilt holds
// (n_C - 1 < 2^16) are refused while parsing.
const maxQuiltParts = 1 << 16

// maxMetadataPart bounds the _metadata part.
const maxMetadataPart = 8 << 20

// patchMetadata is one element of the _metadata part (Walrus's QuiltPatchMetadata): tag
// values that are not strings are kept as their JSON text, as Walrus does.
type patchMetadata struct {
	Identifier string                     `json:"identifier"`
	Tags       map[string]json.RawMessage `json:"tags"`
}

// storeQuilt serves PUT /v1/quilts: a multipart/form-data body whose file parts are
// named by their identifiers, with an optional _metadata part, stored as one quilt under
// the same checks and limits as PUT /v1/blobs (the limit applies to the whole body).
func (h *Handler) storeQuilt(w http.ResponseWriter, r *http.Request) int {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return writeError(w, badRequest(ErrInvalidBody, "a quilt is sent as multipart/form-data with a boundary, one part per file named by its identifier"))
	}
	boundary := params["boundary"]
	// quilt_version names the layout; V1 is the only one. The other parameters are a
	// blob store's.
	if q := r.URL.Query(); q.Has("quilt_version") {
		switch v := q["quilt_version"]; {
		case len(v) != 1 || (v[0] != "V1" && v[0] != "v1" && v[0] != "1"):
			return writeError(w, badRequest(ErrInvalidArgument, fmt.Sprintf("quilt_version=%q: only V1 is supported", strings.Join(v, ","))))
		}
		q.Del("quilt_version")
		r.URL.RawQuery = q.Encode()
	}
	return h.storeBody(w, r, func(ctx context.Context, data []byte, opts client.StoreOptions) (any, error) {
		patches, err := parseQuiltBody(data, boundary)
		if err != nil {
			return nil, err
		}
		return h.cfg.Blobs.StoreQuilt(ctx, patches, opts)
	})
}

// parseQuiltBody parses a quilt store's multipart body into patches in the order of their
// parts. Errors are answers: ErrInvalidBody, or the quilt package's errors for bad or
// duplicate identifiers.
func parseQuiltBody(body []byte, boundary string) ([]quilt.Patch, error) {
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	var patches []quilt.Patch
	seen := map[string]bool{}
	meta := map[string]map[string]string{}
	metaSeen := false
	for parts := 0; ; parts++ {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, badRequest(ErrInvalidBody, "failed to parse multipart form: "+err.Error())
		}
		if parts >= maxQuiltParts {
			return nil, fail(quilt.ErrTooManyPatches, "more than %d parts", maxQuiltParts)
		}
		name := p.FormName()
		if name == metadataPart {
			if metaSeen {
				return nil, badRequest(ErrInvalidBody, "the _metadata part is given twice")
			}
			metaSeen = true
			if err := readMetadata(p, meta); err != nil {
				return nil, err
			}
			continue
		}
		if err := quilt.ValidateIdentifier(name); err != nil {
			return nil, fail(quilt.ErrInvalidIdentifier, "part %d: %v", parts, err)
		}
		if seen[name] {
			return nil, fail(quilt.ErrDuplicateIdentifier, "identifier %q is given twice", name)
		}
		seen[name] = true
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, badRequest(ErrInvalidBody, "failed to parse multipart form: "+err.Error())
		}
		patches = append(patches, quilt.Patch{Identifier: name, Data: data})
	}
	if len(patches) == 0 {
		return nil, badRequest(ErrInvalidBody, "no files provided in multipart form")
	}
	for i := range patches {
		patches[i].Tags = meta[patches[i].Identifier]
	}
	return patches, nil
}

// readMetadata reads the _metadata part into meta (identifier → tags).
func readMetadata(p io.Reader, meta map[string]map[string]string) error {
	b, err := io.ReadAll(io.LimitReader(p, maxMetadataPart+1))
	if err != nil {
		return badRequest(ErrInvalidBody, "failed to parse multipart form: "+err.Error())
	}
	if len(b) > maxMetadataPart {
		return fail(ErrBodyTooLarge, "the _metadata part is larger than %d bytes", maxMetadataPart)
	}
	var list []patchMetadata
	if err := json.Unmarshal(b, &list); err != nil {
		return badRequest(ErrInvalidBody, `_metadata: want a JSON array of {"identifier": ..., "tags": {...}}: `+err.Error())
	}
	for _, m := range list {
		if _, ok := meta[m.Identifier]; ok {
			return fail(quilt.ErrDuplicateIdentifier, "_metadata: identifier %q is given twice", m.Identifier)
		}
		tags := make(map[string]string, len(m.Tags))
		for k, raw := range m.Tags {
			var s string
			if json.Unmarshal(raw, &s) == nil {
				tags[k] = s
			} else {
				tags[k] = string(raw)
			}
		}
		meta[m.Identifier] = tags
	}
	return nil
}

// quiltPatchItem is one element of the patch list (Walrus's QuiltPatchItem).
type quiltPatchItem struct {
	Identifier string            `json:"identifier"`
	PatchID    string            `json:"patch_id"`
	Tags       map[string]string `json:"tags"`
}

// listPatches serves GET /v1/quilts/{quiltId}/patches: the quilt's index, read from its
// first columns only.
func (h *Handler) listPatches(w http.ResponseWriter, r *http.Request) int {
	raw := r.PathValue("quiltId")
	id, err := redstuff.ParseBlobID(raw)
	if err != nil {
		return writeError(w, badRequest(ErrInvalidBlobID, fmt.Sprintf("invalid quilt ID %q: want 43 URL-safe base64 characters", raw)))
	}
	if !acquire(h.reads) {
		return writeError(w, errTooMany)
	}
	defer func() { <-h.reads }()
	q, err := h.cfg.Blobs.OpenQuilt(r.Context(), id, client.ReadOptions{})
	if err != nil {
		return h.readFailed(w, id, err)
	}
	items := make([]quiltPatchItem, 0, len(q.Index().Patches))
	for _, p := range q.Index().Patches {
		items = append(items, quiltPatchItem{Identifier: p.Identifier, PatchID: quilt.PatchID{Quilt: id, Internal: p.InternalID()}.String(), Tags: p.Tags})
	}
	writeJSON(w, http.StatusOK, items)
	return http.StatusOK
}

// readPatchByID serves GET /v1/blobs/by-quilt-patch-id/{patchId}.
func (h *Handler) readPatchByID(w http.ResponseWriter, r *http.Request) int {
	raw := r.PathValue("patchId")
	pid, err := quilt.ParsePatchID(raw)
	if err != nil {
		return writeError(w, badRequest(ErrInvalidPatchID, fmt.Sprintf("invalid quilt patch ID %q: want %d URL-safe base64 characters", raw, quilt.PatchIDTextLen)))
	}
	return h.servePatch(w, r, pid.Quilt, func(x *quilt.Index) (quilt.PatchInfo, error) {
		p, err := x.ByInternalID(pid.Internal)
		if err != nil {
			return p, fail(ErrQuiltPatchNotFound, "quilt %s has no patch %s", pid.Quilt, raw)
		}
		return p, nil
	})
}

// readPatchByIdentifier serves GET /v1/blobs/by-quilt-id/{quiltId}/{identifier}.
func (h *Handler) readPatchByIdentifier(w http.ResponseWriter, r *http.Request) int {
	raw := r.PathValue("quiltId")
	id, err := redstuff.ParseBlobID(raw)
	if err != nil {
		return writeError(w, badRequest(ErrInvalidBlobID, fmt.Sprintf("invalid quilt ID %q: want 43 URL-safe base64 characters", raw)))
	}
	ident := r.PathValue("identifier")
	if err := quilt.ValidateIdentifier(ident); err != nil {
		return writeError(w, fail(quilt.ErrInvalidIdentifier, "%v", err))
	}
	return h.servePatch(w, r, id, func(x *quilt.Index) (quilt.PatchInfo, error) {
		p, err := x.Lookup(ident)
		if err != nil {
			return p, fail(ErrQuiltPatchNotFound, "quilt %s has no patch %q", id, ident)
		}
		return p, nil
	})
}

// servePatch opens quilt id, finds a patch in its index and answers with its contents:
// ETag is the quoted patch ID, X-Quilt-Patch-Identifier its identifier, and its tags that
// are allowed headers (Config.AllowedHeaders) become headers, as the attributes of a read
// by object ID. The patch's columns are reserved against Config.MaxReadBytes before they
// are fetched.
func (h *Handler) servePatch(w http.ResponseWriter, r *http.Request, id redstuff.BlobID, find func(*quilt.Index) (quilt.PatchInfo, error)) int {
	if !acquire(h.reads) {
		return writeError(w, errTooMany)
	}
	defer func() { <-h.reads }()
	h.metrics.inFlight.WithLabelValues("read").Inc()
	defer h.metrics.inFlight.WithLabelValues("read").Dec()
	q, err := h.cfg.Blobs.OpenQuilt(r.Context(), id, client.ReadOptions{})
	if err != nil {
		return h.readFailed(w, id, err)
	}
	info, err := find(q.Index())
	if err != nil {
		return writeError(w, err)
	}
	pid := quilt.PatchID{Quilt: id, Internal: info.InternalID()}
	etag := `"` + pid.String() + `"`
	if inm := r.Header.Get("If-None-Match"); inm != "" && (inm == etag || inm == "*" || inm == pid.String()) {
		w.Header().Set("ETag", etag)
		w.WriteHeader(http.StatusNotModified)
		return http.StatusNotModified
	}
	need := int64(info.End-info.Start) * q.ColumnSize()
	if need > h.cfg.MaxReadBytes {
		return writeError(w, fail(client.ErrTooLarge, "the patch's columns hold %d bytes; this aggregator holds at most %d bytes", need, h.cfg.MaxReadBytes))
	}
	if err := h.reserve(r.Context(), need); err != nil {
		return writeError(w, err)
	}
	h.metrics.readBytes.Add(float64(need))
	defer func() {
		h.readBytes.Release(need)
		h.metrics.readBytes.Sub(float64(need))
	}()
	p, err := q.ReadPatch(info)
	if err != nil {
		return h.readFailed(w, id, err)
	}
	attrs := make([]chain.Attribute, 0, len(p.Tags))
	for k, v := range p.Tags {
		attrs = append(attrs, chain.Attribute{Key: k, Value: v})
	}
	hd := w.Header()
	h.setReadHeaders(hd, r, etag, attrs)
	if validHeaderValue(p.Identifier) {
		hd.Set("X-Quilt-Patch-Identifier", p.Identifier)
	}
	hd.Set("Content-Length", strconv.Itoa(len(p.Data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(p.Data)
	}
	return http.StatusOK
}
