package s3

import (
	"encoding/base64"
	"net/url"
	"strconv"
)

// maxKeysParam parses a max-keys style parameter: default and cap MaxListKeys.
func maxKeysParam(v url.Values, name string) (int, error) {
	s := v.Get(name)
	if s == "" {
		return MaxListKeys, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, errInvalidArgument(name + " must be a non-negative integer")
	}
	return min(n, MaxListKeys), nil
}

func (s *Server) listObjects(q *request, v url.Values, v2 bool) error {
	max, err := maxKeysParam(v, "max-keys")
	if err != nil {
		return err
	}
	enc := v.Get("encoding-type")
	if enc != "" && enc != "url" {
		return errInvalidArgument("Invalid Encoding Method specified in Request")
	}
	esc := func(s string) string {
		if enc == "url" {
			return url.QueryEscape(s)
		}
		return s
	}
	lq := ListQuery{Prefix: v.Get("prefix"), Delimiter: v.Get("delimiter"), Max: max}
	var token string
	if v2 {
		lq.After = v.Get("start-after")
		if token = v.Get("continuation-token"); token != "" {
			after, err := base64.RawURLEncoding.DecodeString(token)
			if err != nil || len(after) > MaxKeyLength {
				return errInvalidArgument("The continuation token provided is incorrect")
			}
			lq.After = string(after)
		}
	} else {
		lq.After = v.Get("marker")
	}
	var page ListPage
	if max > 0 {
		if page, err = s.cfg.Index.List(q.ctx, q.bucket, lq); err != nil {
			return err
		}
	} else if _, err := s.cfg.Index.HeadBucket(q.ctx, q.bucket); err != nil {
		return err
	}
	var contents []objectXML
	for _, e := range page.Entries {
		contents = append(contents, objectXML{Key: esc(e.Key), LastModified: isoTime(e.ModTime), ETag: `"` + e.ETag + `"`, Size: e.Size, StorageClass: "STANDARD"})
	}
	var cps []prefixXML
	for _, p := range page.CommonPrefixes {
		cps = append(cps, prefixXML{Prefix: esc(p)})
	}
	if v2 {
		res := listV2Result{
			Xmlns: s3NS, Name: q.bucket, Prefix: esc(lq.Prefix), Delimiter: esc(lq.Delimiter), StartAfter: esc(v.Get("start-after")),
			ContinuationToken: token, KeyCount: len(contents) + len(cps), MaxKeys: max, EncodingType: enc,
			IsTruncated: page.Next != "", Contents: contents, CommonPrefixes: cps,
		}
		if page.Next != "" {
			res.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(page.Next))
		}
		return writeXML(q, res)
	}
	return writeXML(q, listV1Result{
		Xmlns: s3NS, Name: q.bucket, Prefix: esc(lq.Prefix), Marker: esc(lq.After), NextMarker: esc(page.Next),
		Delimiter: esc(lq.Delimiter), MaxKeys: max, EncodingType: enc, IsTruncated: page.Next != "",
		Contents: contents, CommonPrefixes: cps,
	})
}
