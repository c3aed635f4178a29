package api

import (
	"context"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/walrus-go/walrus/internal/bufpool"
	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
)

// route is one endpoint: a method and a ServeMux path pattern.
type route struct {
	method, path string
	fn           http.HandlerFunc
}

// endpoints is the table of the API's endpoints.
func (h *Handler) endpoints() []route {
	table := []route{
		{"GET", "/v1/blobs/{blob_id}/metadata", h.getMetadata},
		{"PUT", "/v1/blobs/{blob_id}/metadata", h.write(h.putMetadata)},
		{"GET", "/v1/blobs/{blob_id}/metadata/status", h.getMetadataStatus},
		{"GET", "/v1/blobs/{blob_id}/metadata/pairs", h.getPartialMetadata},
		{"PUT", "/v1/blobs/{blob_id}/slivers", h.write(h.putSlivers)},
		{"GET", "/v1/blobs/{blob_id}/slivers/{sliver_pair_index}/{sliver_type}", h.getSliver},
		{"PUT", "/v1/blobs/{blob_id}/slivers/{sliver_pair_index}/{sliver_type}", h.write(h.putSliver)},
		{"GET", "/v1/blobs/{blob_id}/slivers/{sliver_pair_index}/{sliver_type}/status", h.getSliverStatus},
		{"GET", "/v1/blobs/{blob_id}/confirmation/permanent", h.getConfirmation},
		{"GET", "/v1/blobs/{blob_id}/confirmation/deletable/{object_id}", h.getConfirmation},
		{"GET", "/v1/blobs/{blob_id}/recoverySymbols", h.getRecoverySymbols},
		{"GET", "/v1/blobs/{blob_id}/decodingSymbols", h.getDecodingSymbols},
		{"POST", "/v1/blobs/{blob_id}/inconsistencyProof/{sliver_type}", h.write(h.postInconsistencyProof)},
		{"GET", "/v1/blobs/{blob_id}/status", h.getBlobStatus},
		{"GET", "/v1/health", h.getHealth},
		{"GET", "/v1/api", h.getAPIDoc},
		{"POST", "/v1/migrate/sync_shard", h.write(h.postSyncShard)},
		{"POST", "/v1/challenges/answers", h.write(h.postChallengeAnswers)},
		{"GET", "/v1/challenges/{epoch}/attestations/{node_id}", h.getAttestation},
	}
	if h.opts.DisableBatchedUploads {
		table = slices.DeleteFunc(table, func(r route) bool { return r.path == "/v1/blobs/{blob_id}/slivers" })
	}
	return table
}

// routes registers the endpoints. Every path also gets a pattern without a method, which
// answers OPTIONS (CORS preflight) with 204 and any other method the path does not serve
// with 405 and an Allow header; a path of no endpoint gets 404.
func (h *Handler) routes() {
	table := h.endpoints()
	allowed := map[string][]string{}
	var paths []string
	for _, rt := range table {
		h.mux.HandleFunc(rt.method+" "+rt.path, rt.fn)
		if allowed[rt.path] == nil {
			paths = append(paths, rt.path)
		}
		allowed[rt.path] = append(allowed[rt.path], rt.method)
		if rt.method == http.MethodGet {
			allowed[rt.path] = append(allowed[rt.path], http.MethodHead)
		}
	}
	for _, p := range paths {
		allow := strings.Join(append(allowed[p], http.MethodOptions), ", ")
		h.mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			if r.Method == http.MethodOptions {
				w.WriteHeader(http.StatusNoContent)
				return
			}
			h.fail(w, r, fmt.Errorf("%w: %s %s; allowed: %s", sn.ErrMethodNotAllowed, r.Method, r.URL.Path, allow))
		})
	}
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, fmt.Errorf("%w: %s %s", sn.ErrNotFound, r.Method, r.URL.Path))
	})
}

// handler is an endpoint that reports failure by returning an error.
type handler func(w http.ResponseWriter, r *http.Request) error

// write adapts a writing endpoint. Writing endpoints take their own limits (an upload
// slot once the body has arrived, a sync slot once the request is checked) so that a
// client that stalls holds none of them.
func (h *Handler) write(fn handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			h.fail(w, r, err)
		}
	}
}

func blobID(r *http.Request) (redstuff.BlobID, error) {
	id, err := redstuff.ParseBlobID(r.PathValue("blob_id"))
	if err != nil {
		return id, fmt.Errorf("%w: %q", sn.ErrInvalidBlobID, r.PathValue("blob_id"))
	}
	return id, nil
}

// sliverPath parses blob_id, sliver_pair_index (decimal u16) and sliver_type.
func sliverPath(r *http.Request) (redstuff.BlobID, int, redstuff.Axis, error) {
	id, err := blobID(r)
	if err != nil {
		return id, 0, 0, err
	}
	pair, err := strconv.ParseUint(r.PathValue("sliver_pair_index"), 10, 16)
	if err != nil {
		return id, 0, 0, fmt.Errorf("%w: sliver pair index %q", sn.ErrMalformed, r.PathValue("sliver_pair_index"))
	}
	a, err := parseAxis(r.PathValue("sliver_type"))
	return id, int(pair), a, err
}

func parseAxis(s string) (redstuff.Axis, error) {
	a, err := redstuff.ParseAxis(s)
	if err != nil {
		return 0, fmt.Errorf("%w: sliver type %q, want primary or secondary", sn.ErrMalformed, s)
	}
	return a, nil
}

func (h *Handler) getMetadata(w http.ResponseWriter, r *http.Request) {
	id, err := blobID(r)
	if err == nil {
		var b []byte
		if b, err = h.node.MetadataBytes(r.Context(), id); err == nil {
			writeBytes(w, b)
			return
		}
	}
	h.fail(w, r, err)
}

// PairProofHeader is the response header of a sliver read with ?pair_proof=true: the
// sliver pair's hashes and their Merkle proof to the blob ID, as URL-safe base64 without
// padding of the BCS redstuff.PairProof (our extension; the body is unchanged).
const PairProofHeader = "X-Walrus-Pair-Proof"

// getPartialMetadata serves the node's stored metadata restricted to pairs (our
// extension): ?pairs=i,j,... (at most one per shard) or, without it, every pair the node
// holds, as BCS redstuff.PartialMetadata. It never assembles from peers, so nodes use it
// to assemble full metadata from each other.
func (h *Handler) getPartialMetadata(w http.ResponseWriter, r *http.Request) {
	id, err := blobID(r)
	var pairs []int
	if err == nil {
		pairs, err = pairsParam(r, h.node.NShards())
	}
	if err == nil {
		var b []byte
		if b, err = h.node.PartialMetadataBytes(id, pairs); err == nil {
			writeBytes(w, b)
			return
		}
	}
	h.fail(w, r, err)
}

// pairsParam parses ?pairs=i,j,...: decimal pair indices below n, at most n of them; nil
// if the parameter is absent.
func pairsParam(r *http.Request, n int) ([]int, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("%w: query: %v", sn.ErrMalformed, err)
	}
	v, ok := q["pairs"]
	switch {
	case !ok:
		return nil, nil
	case len(v) != 1:
		return nil, fmt.Errorf("%w: parameter \"pairs\" given %d times", sn.ErrMalformed, len(v))
	case v[0] == "":
		return []int{}, nil
	}
	fields := strings.Split(v[0], ",")
	if len(fields) > n {
		return nil, fmt.Errorf("%w: %d pairs, at most %d", sn.ErrMalformed, len(fields), n)
	}
	pairs := make([]int, len(fields))
	for i, f := range fields {
		p, err := strconv.ParseUint(f, 10, 16)
		if err != nil || int(p) >= n {
			return nil, fmt.Errorf("%w: sliver pair %q, %d shards", sn.ErrIndexOutOfRange, f, n)
		}
		pairs[i] = int(p)
	}
	return pairs, nil
}

func (h *Handler) getMetadataStatus(w http.ResponseWriter, r *http.Request) {
	id, err := blobID(r)
	if err == nil {
		var st sn.StoredStatus
		if st, err = h.node.MetadataStatus(id); err == nil {
			writeSuccess(w, http.StatusOK, st)
			return
		}
	}
	h.fail(w, r, err)
}

func (h *Handler) putMetadata(w http.ResponseWriter, r *http.Request) error {
	id, err := blobID(r)
	if err != nil {
		return err
	}
	pending, err := pendingParam(r)
	if err != nil {
		return err
	}
	if !pending {
		if err := h.node.CheckWritable(id); err != nil {
			return err
		}
	}
	body, release, err := h.readBody(w, r, int64(h.node.MetadataSize()))
	if err != nil {
		return err
	}
	defer release()
	slot, err := h.acquireUpload(r.Context())
	if err != nil {
		return err
	}
	defer slot()
	m, err := sn.DecodeMetadataBody(id, body)
	if err != nil {
		return err
	}
	u, err := h.newUpload(pending, id, m)
	if err != nil {
		return err
	}
	res, err := u.Commit()
	if err != nil {
		return err
	}
	switch {
	case res.MetadataCreated && pending:
		writeSuccess(w, http.StatusAccepted, "metadata buffered pending registration")
	case res.MetadataCreated:
		writeSuccess(w, http.StatusCreated, "metadata successfully stored")
	default:
		writeSuccess(w, http.StatusOK, "metadata already stored")
	}
	return nil
}

// newUpload starts an upload, pending (storagenode.Node.NewPendingUpload) or not.
func (h *Handler) newUpload(pending bool, id redstuff.BlobID, m *redstuff.Metadata) (*sn.Upload, error) {
	if pending {
		return h.node.NewPendingUpload(id, m)
	}
	return h.node.NewUpload(id, m)
}

// pendingParam parses the query parameter pending (Walrus's UploadIntentQuery): "true"
// buffers an upload of a blob whose registration the node has not seen yet; absent or
// "false" does not.
func pendingParam(r *http.Request) (bool, error) {
	return boolParam(r, "pending")
}

// boolParam parses an optional query parameter given at most once as true or false.
func boolParam(r *http.Request, name string) (bool, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return false, fmt.Errorf("%w: query: %v", sn.ErrMalformed, err)
	}
	v, ok := q[name]
	switch {
	case !ok:
		return false, nil
	case len(v) != 1:
		return false, fmt.Errorf("%w: parameter %q given %d times", sn.ErrMalformed, name, len(v))
	case v[0] == "true":
		return true, nil
	case v[0] == "false":
		return false, nil
	}
	return false, fmt.Errorf("%w: %s=%q, want true or false", sn.ErrMalformed, name, v[0])
}

// readBuffers holds the buffers slivers are read into to be served: a read reuses one
// instead of allocating (and faulting in) a fresh buffer per request. It keeps enough for
// the sliver requests one read sends a node at once, across garbage collections (a
// sync.Pool is emptied by each).
var readBuffers = bufpool.New(16)

func (h *Handler) getSliver(w http.ResponseWriter, r *http.Request) {
	id, pair, a, err := sliverPath(r)
	if err == nil {
		buf := readBuffers.Get(0)
		defer readBuffers.Put(buf)
		var b []byte
		var proof bool
		if proof, err = boolParam(r, "pair_proof"); err == nil {
			b, err = h.node.AppendSliver((*buf)[:0], id, pair, a)
		}
		if err == nil && proof {
			var pp []byte
			if pp, err = h.node.PairProof(id, pair); err == nil {
				w.Header().Set(PairProofHeader, base64.RawURLEncoding.EncodeToString(pp))
			}
		}
		if err == nil {
			*buf = b
			writeCorked(w, r, b)
			return
		}
	}
	h.fail(w, r, err)
}

func (h *Handler) getSliverStatus(w http.ResponseWriter, r *http.Request) {
	id, pair, a, err := sliverPath(r)
	if err == nil {
		var st sn.StoredStatus
		if st, err = h.node.SliverStatus(id, pair, a); err == nil {
			writeSuccess(w, http.StatusOK, st)
			return
		}
	}
	h.fail(w, r, err)
}

func (h *Handler) putSliver(w http.ResponseWriter, r *http.Request) error {
	id, pair, a, err := sliverPath(r)
	if err != nil {
		return err
	}
	if pair >= h.node.NShards() {
		return fmt.Errorf("%w: sliver pair %d, %d shards", sn.ErrIndexOutOfRange, pair, h.node.NShards())
	}
	pending, err := pendingParam(r)
	if err != nil {
		return err
	}
	u, err := h.newUpload(pending, id, nil)
	if err != nil {
		return err
	}
	defer u.Abort()
	if err := u.CheckPair(pair); err != nil {
		return err
	}
	body, release, err := h.readBody(w, r, int64(h.node.SliverSize(a, u.SymbolSize())))
	if err != nil {
		return err
	}
	defer release()
	slot, err := h.acquireUpload(r.Context())
	if err != nil {
		return err
	}
	defer slot()
	s, err := redstuff.DecodeSliver(body, a, len(body))
	if err != nil {
		return fmt.Errorf("%w: %v", sn.ErrMalformed, err)
	}
	if err := u.Add(r.Context(), pair, s, body); err != nil {
		return err
	}
	res, err := u.Commit()
	if err != nil {
		return err
	}
	switch {
	case res.Created() && pending:
		writeSuccess(w, http.StatusAccepted, "sliver buffered pending registration")
	case res.Created():
		writeSuccess(w, http.StatusCreated, "sliver stored successfully")
	default:
		writeSuccess(w, http.StatusOK, "sliver already stored")
	}
	return nil
}

func (h *Handler) putSlivers(w http.ResponseWriter, r *http.Request) error {
	id, err := blobID(r)
	if err != nil {
		return err
	}
	pending, err := pendingParam(r)
	if err != nil {
		return err
	}
	if !pending {
		if err := h.node.CheckWritable(id); err != nil {
			return err
		}
	}
	limit := maxBatchSize(h.node)
	switch {
	case r.ContentLength < 0:
		return fmt.Errorf("%w: a batched upload needs a Content-Length", sn.ErrMalformed)
	case r.ContentLength > batchSizeFor(h.node, h.node.NShards()):
		return fmt.Errorf("%w: %d bytes, more than the slivers of every shard", sn.ErrTooLarge, r.ContentLength)
	case r.ContentLength > limit:
		// Sized for more shards than this node owns now: a client that read a newer
		// committee than this node has applied yet (it gains shards at the epoch change)
		// retries, as for any shard this node does not own yet.
		return fmt.Errorf("%w: %d bytes, at most %d for the %d shards this node owns now", sn.ErrShardNotAssigned, r.ContentLength, limit, len(h.node.OwnedShards()))
	}
	body, err := h.openBody(w, r, limit)
	if err != nil {
		return err
	}
	defer body.release()
	u, err := readBatch(r.Context(), h.node, id, body, pending)
	if err != nil {
		return err
	}
	defer u.Abort()
	slot, err := h.acquireUpload(r.Context())
	if err != nil {
		return err
	}
	defer slot()
	res, err := u.Commit()
	if err != nil {
		return err
	}
	code := http.StatusOK
	switch {
	case res.Created() && pending:
		code = http.StatusAccepted
	case res.Created():
		code = http.StatusCreated
	}
	writeSuccess(w, code, res)
	return nil
}

func (h *Handler) getConfirmation(w http.ResponseWriter, r *http.Request) {
	id, err := blobID(r)
	var p sn.Persistence
	if err == nil && r.PathValue("object_id") != "" {
		p.Deletable = true
		p.ObjectID, err = sn.ParseObjectID(r.PathValue("object_id"))
	}
	var wait time.Duration
	if err == nil {
		wait, err = h.confirmationWait(r)
	}
	if err == nil {
		var msg sn.SignedMessage
		if msg, err = h.confirm(r.Context(), id, p, wait); err == nil {
			writeSuccess(w, http.StatusOK, sn.StorageConfirmation{Signed: msg})
			return
		}
	}
	h.fail(w, r, err)
}

// confirmationWait parses Walrus's ConfirmationWaitQuery: wait_for_registration=true asks
// to wait for the blob's registration for up to wait_millis milliseconds (default and
// cap Options.ConfirmationLongPollMax). It returns 0 for no waiting.
func (h *Handler) confirmationWait(r *http.Request) (time.Duration, error) {
	on, err := boolParam(r, "wait_for_registration")
	if err != nil {
		return 0, err
	}
	limit := h.opts.ConfirmationLongPollMax
	wait := limit
	if v := r.URL.Query()["wait_millis"]; len(v) > 0 {
		ms, err := strconv.ParseUint(v[0], 10, 64)
		if err != nil || len(v) > 1 {
			return 0, fmt.Errorf("%w: wait_millis %q, want one number of milliseconds", sn.ErrMalformed, v)
		}
		if ms < uint64(limit/time.Millisecond) {
			wait = time.Duration(ms) * time.Millisecond
		}
	}
	if !on || limit <= 0 {
		return 0, nil
	}
	return wait, nil
}

// confirm computes a confirmation, waiting up to wait for the blob's registration if
// the node has not seen it yet, and a long-poll slot is free.
func (h *Handler) confirm(ctx context.Context, id redstuff.BlobID, p sn.Persistence, wait time.Duration) (sn.SignedMessage, error) {
	msg, err := h.node.Confirm(id, p)
	if wait <= 0 || !errors.Is(err, sn.ErrNotRegistered) || !tryAcquire(h.polls) {
		return msg, err
	}
	defer release(h.polls)
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	return h.node.WaitConfirm(ctx, id, p)
}

func (h *Handler) getRecoverySymbols(w http.ResponseWriter, r *http.Request) {
	if !tryAcquire(h.symbols) {
		h.fail(w, r, fmt.Errorf("%w: %d symbol requests in flight", sn.ErrOverloaded, cap(h.symbols)))
		return
	}
	defer release(h.symbols)
	syms, bare, err := h.recoverySymbols(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if bare != nil {
		writeBytes(w, sn.EncodeBareSymbols(bare, syms))
		return
	}
	writeBytes(w, redstuff.EncodeSymbolList(syms))
}

// recoverySymbols serves ?id=P-S (repeated) with an optional proofAxis, or
// ?targetSliver=I&targetType=primary|secondary. Our extension proofs=false (with id and
// proofAxis only) asks for the symbols without proofs in the bare encoding
// (storagenode.EncodeBareSymbols): the requested IDs come back as bare, not nil.
func (h *Handler) recoverySymbols(r *http.Request) (syms []redstuff.RecoverySymbol, bare []sn.SymbolID, err error) {
	id, err := blobID(r)
	if err != nil {
		return nil, nil, err
	}
	q, err := parseQuery(r)
	if err != nil {
		return nil, nil, err
	}
	for k := range q {
		switch k {
		case "id", "proofAxis", "targetSliver", "targetType", "proofs":
		default:
			return nil, nil, fmt.Errorf("%w: unknown parameter %q", sn.ErrInvalidFilter, k)
		}
	}
	if v, ok := q["proofs"]; ok {
		if len(v) != 1 || v[0] != "false" && v[0] != "true" {
			return nil, nil, fmt.Errorf("%w: proofs must be given once, true or false", sn.ErrInvalidFilter)
		}
		if v[0] == "false" {
			if len(q["id"]) == 0 || len(q["proofAxis"]) != 1 {
				return nil, nil, fmt.Errorf("%w: proofs=false needs id and proofAxis", sn.ErrInvalidFilter)
			}
			syms, err := h.recoverySymbolList(id, q)
			if err != nil {
				return nil, nil, err
			}
			ids := make([]sn.SymbolID, len(q["id"]))
			for i, s := range q["id"] {
				ids[i], _ = sn.ParseSymbolID(s) // parsed once already
			}
			return syms, ids, nil
		}
	}
	syms, err = h.recoverySymbolList(id, q)
	return syms, nil, err
}

// recoverySymbolList serves the checked query of recoverySymbols.
func (h *Handler) recoverySymbolList(id redstuff.BlobID, q map[string][]string) ([]redstuff.RecoverySymbol, error) {
	var err error
	single := func(k string) (string, bool, error) {
		v, ok := q[k]
		if ok && len(v) != 1 {
			return "", false, fmt.Errorf("%w: parameter %q given %d times", sn.ErrInvalidFilter, k, len(v))
		}
		if !ok {
			return "", false, nil
		}
		return v[0], true, nil
	}
	ids := q["id"]
	target, hasTarget, err := single("targetSliver")
	if err != nil {
		return nil, err
	}
	targetType, hasType, err := single("targetType")
	if err != nil {
		return nil, err
	}
	proofAxis, hasProof, err := single("proofAxis")
	if err != nil {
		return nil, err
	}
	var proof *redstuff.Axis
	if hasProof {
		a, err := parseAxis(proofAxis)
		if err != nil {
			return nil, fmt.Errorf("%w: proofAxis %q", sn.ErrInvalidFilter, proofAxis)
		}
		proof = &a
	}
	switch {
	case len(ids) > 0 && (hasTarget || hasType):
		return nil, fmt.Errorf("%w: give either id or targetSliver and targetType", sn.ErrInvalidFilter)
	case len(ids) > 0:
		if len(ids) > h.opts.MaxSymbolsPerRequest {
			return nil, fmt.Errorf("%w: %d symbol IDs, at most %d", sn.ErrInvalidFilter, len(ids), h.opts.MaxSymbolsPerRequest)
		}
		parsed := make([]sn.SymbolID, len(ids))
		for i, s := range ids {
			if parsed[i], err = sn.ParseSymbolID(s); err != nil {
				return nil, err
			}
		}
		return h.node.RecoverySymbols(id, parsed, proof)
	case hasTarget && hasType:
		index, err := strconv.ParseUint(target, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("%w: targetSliver %q", sn.ErrInvalidFilter, target)
		}
		a, err := parseAxis(targetType)
		if err != nil {
			return nil, fmt.Errorf("%w: targetType %q", sn.ErrInvalidFilter, targetType)
		}
		if proof != nil && *proof != a.Orthogonal() {
			return nil, fmt.Errorf("%w: symbols for a %s sliver come from %s slivers", sn.ErrInvalidFilter, a, a.Orthogonal())
		}
		return h.node.RecoverySymbolsFor(id, a, int(index))
	case hasTarget || hasType:
		return nil, fmt.Errorf("%w: targetSliver and targetType go together", sn.ErrInvalidFilter)
	}
	return nil, sn.ErrNoSymbols
}

// getDecodingSymbols serves Walrus's ListDecodingSymbolsQuery: targetSlivers (one or
// more, repeated) and targetType (primary|secondary). The answer is bounded by
// Options.MaxDecodingSymbolBytes and the request takes a slot of the symbol requests.
func (h *Handler) getDecodingSymbols(w http.ResponseWriter, r *http.Request) {
	if !tryAcquire(h.symbols) {
		h.fail(w, r, fmt.Errorf("%w: %d symbol requests in flight", sn.ErrOverloaded, cap(h.symbols)))
		return
	}
	defer release(h.symbols)
	syms, err := h.decodingSymbols(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeBytes(w, sn.EncodeDecodingSymbols(syms))
}

func (h *Handler) decodingSymbols(r *http.Request) (map[int][]sn.DecodingSymbol, error) {
	id, err := blobID(r)
	if err != nil {
		return nil, err
	}
	q, err := parseQuery(r)
	if err != nil {
		return nil, err
	}
	types := q["targetType"]
	if len(types) != 1 {
		return nil, fmt.Errorf("%w: give targetType once (primary or secondary)", sn.ErrInvalidFilter)
	}
	a, err := parseAxis(types[0])
	if err != nil {
		return nil, fmt.Errorf("%w: targetType %q", sn.ErrInvalidFilter, types[0])
	}
	list := q["targetSlivers"]
	if len(list) > h.node.NShards() {
		return nil, fmt.Errorf("%w: %d target slivers, at most %d", sn.ErrInvalidFilter, len(list), h.node.NShards())
	}
	targets := make([]int, len(list))
	for i, v := range list {
		t, err := strconv.ParseUint(v, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("%w: targetSlivers %q", sn.ErrInvalidFilter, v)
		}
		targets[i] = int(t)
	}
	return h.node.DecodingSymbols(id, a, targets, h.opts.MaxDecodingSymbolBytes)
}

func parseQuery(r *http.Request) (map[string][]string, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("%w: query: %v", sn.ErrInvalidFilter, err)
	}
	return q, nil
}

func (h *Handler) postInconsistencyProof(w http.ResponseWriter, r *http.Request) error {
	id, err := blobID(r)
	if err != nil {
		return err
	}
	a, err := parseAxis(r.PathValue("sliver_type"))
	if err != nil {
		return err
	}
	need, sym, limit, err := h.node.InconsistencyProofLimits(id, a)
	if err != nil {
		return err
	}
	body, release, err := h.readBody(w, r, int64(limit))
	if err != nil {
		return err
	}
	defer release()
	slot, err := h.acquireUpload(r.Context())
	if err != nil {
		return err
	}
	defer slot()
	p, err := redstuff.DecodeInconsistencyProof(body, a, need, sym)
	if err != nil {
		return fmt.Errorf("%w: %v", sn.ErrMalformed, err)
	}
	msg, err := h.node.VerifyInconsistency(r.Context(), id, p)
	if err != nil {
		return err
	}
	writeSuccess(w, http.StatusOK, msg)
	return nil
}

func (h *Handler) getBlobStatus(w http.ResponseWriter, r *http.Request) {
	id, err := blobID(r)
	if err == nil {
		var st sn.BlobStatus
		if st, err = h.node.BlobStatus(id); err == nil {
			writeSuccess(w, http.StatusOK, st)
			return
		}
	}
	h.fail(w, r, err)
}

// openAPI is the node's OpenAPI document, served at /v1/api (Walrus serves its own
// there).
//
//go:embed openapi.json
var openAPI []byte

func (h *Handler) getAPIDoc(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(openAPI)
}

func (h *Handler) getHealth(w http.ResponseWriter, r *http.Request) {
	detailed := false
	if v := r.URL.Query().Get("detailed"); v != "" {
		var err error
		if detailed, err = strconv.ParseBool(v); err != nil {
			h.fail(w, r, fmt.Errorf("%w: detailed=%q", sn.ErrMalformed, v))
			return
		}
	}
	writeSuccess(w, http.StatusOK, h.node.Health(detailed))
}
