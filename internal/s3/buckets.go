package s3

import (
	"io"
	"net/http"
)

func (s *Server) listBuckets(q *request) error {
	bs, err := s.cfg.Index.ListBuckets(q.ctx)
	if err != nil {
		return err
	}
	res := listBucketsResult{Xmlns: s3NS, Owner: owner{ID: q.sig.accessKey, DisplayName: q.sig.accessKey}}
	for _, b := range bs {
		res.Buckets = append(res.Buckets, bucketXML{Name: b.Name, CreationDate: isoTime(b.Created)})
	}
	return writeXML(q, res)
}

func (s *Server) createBucket(q *request) error {
	// The body, if any, is a CreateBucketConfiguration naming a region: read (bounded)
	// and ignored, the gateway has one region.
	p, err := s.openPayload(q, maxXMLBody)
	if err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, p); err != nil {
		return err
	}
	if err := s.cfg.Index.CreateBucket(q.ctx, Bucket{Name: q.bucket, Created: s.cfg.Now().UTC()}); err != nil {
		return err
	}
	q.w.Header().Set("Location", "/"+q.bucket)
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) deleteBucket(q *request) error {
	if err := s.cfg.Index.DeleteBucket(q.ctx, q.bucket); err != nil {
		return err
	}
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}
