package s3

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

func (s *Server) createUpload(q *request) error {
	meta, err := s.userMetadata(q.r.Header)
	if err != nil {
		return err
	}
	u := Upload{ID: newUploadID(), Key: q.key, ContentType: q.r.Header.Get("Content-Type"), Metadata: meta, Initiated: s.cfg.Now().UTC()}
	if err := s.cfg.Index.CreateUpload(q.ctx, q.bucket, u); err != nil {
		return err
	}
	return writeXML(q, initiateResult{Xmlns: s3NS, Bucket: q.bucket, Key: q.key, UploadID: u.ID})
}

func partNumber(v url.Values) (int, error) {
	n, err := strconv.Atoi(v.Get("partNumber"))
	if err != nil || n < 1 || n > MaxParts {
		return 0, errInvalidArgument(fmt.Sprintf("Part number must be an integer between 1 and %d, inclusive", MaxParts))
	}
	return n, nil
}

func (s *Server) uploadPart(q *request, v url.Values) error {
	n, err := partNumber(v)
	if err != nil {
		return err
	}
	id := v.Get("uploadId")
	u, err := s.cfg.Index.GetUpload(q.ctx, q.bucket, id)
	if err != nil {
		return err
	}
	if u.Key != q.key {
		return fromIndex(ErrNoSuchUpload)
	}
	p, err := s.openPayload(q, s.cfg.MaxPartSize)
	if err != nil {
		return err
	}
	b, err := s.store(q, p)
	if err != nil {
		return err
	}
	part := Part{Number: n, Blob: b, Size: p.size, ETag: hex.EncodeToString(p.md5.Sum(nil)), ModTime: s.cfg.Now().UTC()}
	old, err := s.cfg.Index.RecordPart(q.ctx, q.bucket, id, part)
	if err != nil {
		s.release(q, b)
		return err
	}
	if old != nil && old.Blob != b {
		s.release(q, old.Blob)
	}
	q.w.Header().Set("ETag", `"`+part.ETag+`"`)
	q.w.WriteHeader(http.StatusOK)
	return nil
}

// allParts returns every recorded part of an upload, by number.
func (s *Server) allParts(q *request, id string) ([]Part, error) {
	var all []Part
	after := 0
	for {
		ps, more, err := s.cfg.Index.ListParts(q.ctx, q.bucket, id, after, MaxListKeys)
		if err != nil {
			return nil, err
		}
		all = append(all, ps...)
		if !more || len(ps) == 0 || len(all) > MaxParts {
			return all, nil
		}
		after = ps[len(ps)-1].Number
	}
}

// planComplete checks a CompleteMultipartUpload's list against the recorded parts and
// returns the parts to join, in order, and the object's ETag. Pure.
func planComplete(want []completedPart, have []Part, minPart int64) ([]Part, string, int64, error) {
	byNum := make(map[int]Part, len(have))
	for _, p := range have {
		byNum[p.Number] = p
	}
	out := make([]Part, len(want))
	sums := md5.New()
	var size int64
	for i, w := range want {
		p, ok := byNum[w.Number]
		if !ok || p.ETag != w.ETag {
			return nil, "", 0, apiErr("InvalidPart", fmt.Sprintf("One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag. (part %d)", w.Number))
		}
		if i < len(want)-1 && p.Size < minPart {
			return nil, "", 0, apiErr("EntityTooSmall", fmt.Sprintf("Your proposed upload is smaller than the minimum allowed object size. (part %d)", w.Number))
		}
		raw, err := hex.DecodeString(p.ETag)
		if err != nil {
			return nil, "", 0, fmt.Errorf("s3: part %d has a malformed ETag %q", p.Number, p.ETag)
		}
		sums.Write(raw)
		size += p.Size
		out[i] = p
	}
	return out, fmt.Sprintf("%s-%d", hex.EncodeToString(sums.Sum(nil)), len(want)), size, nil
}

func (s *Server) completeUpload(q *request, v url.Values) error {
	id := v.Get("uploadId")
	p, err := s.openPayload(q, maxXMLBody)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(p)
	if err != nil {
		return err
	}
	want, err := decodeComplete(body)
	if err != nil {
		return err
	}
	u, err := s.cfg.Index.GetUpload(q.ctx, q.bucket, id)
	if err != nil {
		return err
	}
	if u.Key != q.key {
		return fromIndex(ErrNoSuchUpload)
	}
	have, err := s.allParts(q, id)
	if err != nil {
		return err
	}
	parts, etag, size, err := planComplete(want, have, s.cfg.MinPartSize)
	if err != nil {
		return err
	}
	// The parts are joined into one blob (a chunk manifest when large), so that the
	// object reads as one file and the parts' blobs can be released.
	ka := s.keepAlive(q)
	var b Blob
	if size > 0 {
		b, err = s.put(q, &partsReader{s: s, q: q, parts: parts})
	}
	ka.stop()
	if err != nil {
		return err
	}
	e := Entry{Key: q.key, Blob: b, Size: size, ETag: etag, ContentType: u.ContentType, Metadata: u.Metadata, ModTime: s.cfg.Now().UTC()}
	old, recorded, err := s.cfg.Index.CompleteUpload(q.ctx, q.bucket, id, e)
	if err != nil {
		s.release(q, b)
		return err
	}
	if old != nil && old.Blob != b {
		s.release(q, old.Blob)
	}
	for _, p := range recorded {
		s.release(q, p.Blob)
	}
	return ka.finish(completeResult{Xmlns: s3NS, Location: "/" + q.bucket + "/" + q.key, Bucket: q.bucket, Key: q.key, ETag: `"` + etag + `"`})
}

// partsReader reads the parts one after the other, opening each when it is reached.
type partsReader struct {
	s     *Server
	q     *request
	parts []Part
	cur   io.ReadSeekCloser
	left  int64
}

func (r *partsReader) Read(p []byte) (int, error) {
	for r.cur == nil || r.left == 0 {
		if r.cur != nil {
			r.cur.Close()
			r.cur = nil
		}
		if len(r.parts) == 0 {
			return 0, io.EOF
		}
		part := r.parts[0]
		r.parts = r.parts[1:]
		if part.Size == 0 {
			continue
		}
		f, err := r.s.cfg.Store.Open(r.q.ctx, part.Blob)
		if err != nil {
			return 0, err
		}
		r.cur, r.left = f, part.Size
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, err := r.cur.Read(p)
	r.left -= int64(n)
	if err == io.EOF {
		if r.left > 0 {
			return n, fmt.Errorf("s3: a stored part is shorter than recorded")
		}
		err = nil
	}
	return n, err
}

func (s *Server) abortUpload(q *request, v url.Values) error {
	parts, err := s.cfg.Index.AbortUpload(q.ctx, q.bucket, v.Get("uploadId"))
	if err != nil {
		return err
	}
	for _, p := range parts {
		s.release(q, p.Blob)
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listParts(q *request, v url.Values) error {
	id := v.Get("uploadId")
	max, err := maxKeysParam(v, "max-parts")
	if err != nil {
		return err
	}
	after := 0
	if m := v.Get("part-number-marker"); m != "" {
		if after, err = strconv.Atoi(m); err != nil || after < 0 {
			return errInvalidArgument("part-number-marker must be a non-negative integer")
		}
	}
	u, err := s.cfg.Index.GetUpload(q.ctx, q.bucket, id)
	if err != nil {
		return err
	}
	res := listPartsResult{Xmlns: s3NS, Bucket: q.bucket, Key: u.Key, UploadID: id, PartNumberMarker: after, MaxParts: max}
	if max > 0 {
		ps, more, err := s.cfg.Index.ListParts(q.ctx, q.bucket, id, after, max)
		if err != nil {
			return err
		}
		for _, p := range ps {
			res.Parts = append(res.Parts, partXML{PartNumber: p.Number, LastModified: isoTime(p.ModTime), ETag: `"` + p.ETag + `"`, Size: p.Size})
		}
		res.IsTruncated = more
		if len(ps) > 0 {
			res.NextPartNumberMarker = ps[len(ps)-1].Number
		}
	}
	return writeXML(q, res)
}

func (s *Server) listUploads(q *request, v url.Values) error {
	max, err := maxKeysParam(v, "max-uploads")
	if err != nil {
		return err
	}
	uq := UploadQuery{Prefix: v.Get("prefix"), AfterKey: v.Get("key-marker"), AfterID: v.Get("upload-id-marker"), Max: max}
	res := listUploadsResult{Xmlns: s3NS, Bucket: q.bucket, KeyMarker: uq.AfterKey, UploadIDMarker: uq.AfterID, Prefix: uq.Prefix, MaxUploads: max}
	if max == 0 {
		if _, err := s.cfg.Index.HeadBucket(q.ctx, q.bucket); err != nil {
			return err
		}
		return writeXML(q, res)
	}
	us, more, err := s.cfg.Index.ListUploads(q.ctx, q.bucket, uq)
	if err != nil {
		return err
	}
	for _, u := range us {
		res.Uploads = append(res.Uploads, uploadXML{Key: u.Key, UploadID: u.ID, Initiated: isoTime(u.Initiated), StorageClass: "STANDARD"})
	}
	res.IsTruncated = more
	if len(us) > 0 {
		res.NextKeyMarker, res.NextUploadIDMarker = us[len(us)-1].Key, us[len(us)-1].ID
	}
	return writeXML(q, res)
}
