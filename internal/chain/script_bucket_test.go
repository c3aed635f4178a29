package chain

import (
	"fmt"
	"strconv"
	"strings"
)

// Script commands and operations of the bucket index (see script_test.go).

// ref returns the blob reference of the options blob=B (default def) and obj=OBJ.
func (e *scriptEnv) ref(a *args, def string, size uint64) BlobRef {
	name := def
	if v, ok := a.opt("blob"); ok {
		name = v
	}
	r := BlobRef{BlobID: e.blob(name, size).id, Manifest: a.flag("manifest")}
	if v, ok := a.opt("obj"); ok {
		r.Object = e.object(v)
	}
	return r
}

// keys returns the key operands after the bucket, plus the keys of the options keylen=N
// (one key of N bytes) and count=N (keys n0000, n0001, ...).
func (e *scriptEnv) keys(a *args) []string {
	keys := a.pos[1:]
	if v, ok := a.opt("keylen"); ok {
		keys = append(keys, strings.Repeat("k", int(e.u32(v))))
	}
	if v, ok := a.opt("count"); ok {
		for i := range int(e.u32(v)) {
			keys = append(keys, fmt.Sprintf("n%04d", i))
		}
	}
	return keys
}

func (e *scriptEnv) metadata(a *args) []Attribute {
	v, ok := a.opt("meta")
	if !ok {
		return nil
	}
	var m []Attribute
	for _, kv := range strings.Split(v, ",") {
		k, val, _ := strings.Cut(kv, ":")
		m = append(m, Attribute{Key: k, Value: val})
	}
	return m
}

func (e *scriptEnv) optString(a *args, k, def string) string {
	if v, ok := a.opt(k); ok {
		return v
	}
	return def
}

func (e *scriptEnv) bucketPayload(op string, a *args) (Payload, []string, bool) {
	size := func() uint64 { return e.optAmount(a, "size", 100) }
	switch op {
	case "mkbucket":
		return &CreateBucket{Name: e.arg(a, 0)}, e.as(a, e.arg(a, 0)), true
	case "rmbucket":
		return &DeleteBucket{Name: e.arg(a, 0)}, nil, true
	case "put":
		manifest := a.flag("manifest")
		p := &PutEntries{Bucket: e.arg(a, 0)}
		for _, k := range e.keys(a) {
			sz := size()
			r := e.ref(a, k, sz)
			r.Manifest = manifest
			p.Entries = append(p.Entries, EntryData{Key: k, Ref: r, Size: sz, ETag: e.optString(a, "etag", "etag-"+k),
				ContentType: e.optString(a, "type", ""), Metadata: e.metadata(a)})
		}
		return p, nil, true
	case "del":
		return &DeleteEntries{Bucket: e.arg(a, 0), Keys: e.keys(a)}, nil, true
	case "mkupload":
		return &CreateUpload{Bucket: e.arg(a, 0), ID: e.arg(a, 2), Key: e.arg(a, 1), ContentType: e.optString(a, "type", ""),
			Metadata: e.metadata(a)}, nil, true
	case "part":
		n := e.u32(e.arg(a, 2))
		return &PutPart{Bucket: e.arg(a, 0), Upload: e.arg(a, 1), Number: n,
			Ref: e.ref(a, fmt.Sprintf("%s-part%d", e.arg(a, 1), n), size()), Size: size(),
			ETag: e.optString(a, "etag", fmt.Sprintf("etag-%d", n))}, nil, true
	case "complete":
		manifest := a.flag("manifest")
		r := e.ref(a, e.arg(a, 1)+"-manifest", size())
		r.Manifest = manifest
		return &CompleteUpload{Bucket: e.arg(a, 0), Upload: e.arg(a, 1), Ref: r, Size: size(),
			ETag: e.optString(a, "etag", "etag-"+e.arg(a, 1))}, nil, true
	case "abort":
		return &AbortUpload{Bucket: e.arg(a, 0), Upload: e.arg(a, 1)}, nil, true
	}
	return nil, nil, false
}

func (e *scriptEnv) formatEntry(x *Entry) string {
	s := fmt.Sprintf("%s blob=%s", strconv.Quote(x.Key), e.name32(x.Ref.BlobID))
	if x.Ref.Object != (ObjectID{}) {
		s += " obj=" + e.name32(x.Ref.Object)
	}
	if x.Ref.Manifest {
		s += " manifest"
	}
	s += fmt.Sprintf(" size=%d etag=%s modified=+%ds", x.Size, x.ETag, (x.Modified-genesisTime)/1e9)
	if x.ContentType != "" {
		s += " type=" + strconv.Quote(x.ContentType)
	}
	for _, m := range x.Metadata {
		s += fmt.Sprintf(" meta:%s=%q", m.Key, m.Value)
	}
	return s
}

func (e *scriptEnv) bucketQuery(cmd string, a *args) {
	owner := e.account(e.arg(a, 0))
	limit := uint32(e.optAmount(a, "limit", 0))
	query := func(path string, req []byte) []byte {
		out, err := e.app.Query(path, req)
		if err != nil {
			e.printf("error %s: %s\n", CodeName(CodeOf(err)), e.nameIDs(err.Error()))
			return nil
		}
		return out
	}
	must := func(err error) {
		if err != nil {
			e.fatalf("%v", err)
		}
	}
	switch cmd {
	case "bucket":
		out := query(QueryBucket, BucketRequest{Owner: owner, Name: e.arg(a, 1)}.Encode())
		if out == nil {
			return
		}
		b, err := DecodeBucket(out)
		must(err)
		e.printf("%s: owner=%s name=%q created=+%ds entries=%d uploads=%d\n", e.name32(b.ID), e.name32(b.Owner), b.Name,
			(b.Created-genesisTime)/1e9, b.Entries, b.Uploads)
	case "buckets":
		r := BucketsRequest{Owner: owner, After: e.optString(a, "after", ""), Limit: limit}
		for {
			page, err := DecodeBucketPage(query(QueryBuckets, r.Encode()))
			must(err)
			var names []string
			for _, b := range page.Buckets {
				names = append(names, b.Name)
			}
			e.printf("page: %s\n", strings.Join(names, " "))
			if !page.HasNext {
				return
			}
			r.After = page.Buckets[len(page.Buckets)-1].Name
		}
	case "entry":
		out := query(QueryEntry, EntryRequest{Owner: owner, Bucket: e.arg(a, 1), Key: e.arg(a, 2)}.Encode())
		if out == nil {
			return
		}
		x, err := DecodeEntry(out)
		must(err)
		e.printf("%s\n", e.formatEntry(&x))
	case "list":
		r := ListRequest{Owner: owner, Bucket: e.arg(a, 1), Prefix: e.optString(a, "prefix", ""),
			Delimiter: e.optString(a, "delim", ""), Limit: limit}
		if v, ok := a.opt("after"); ok {
			r.Start = StartAfter(v)
		}
		for {
			out := query(QueryEntries, r.Encode())
			if out == nil {
				return
			}
			page, err := DecodeEntryPage(out)
			must(err)
			e.printf("page:")
			for _, x := range page.Entries {
				e.printf(" %s", x.Key)
			}
			for _, cp := range page.CommonPrefixes {
				e.printf(" [%s]", cp)
			}
			if page.Truncated {
				e.printf(" next=%q", page.Next)
			}
			e.printf("\n")
			if !page.Truncated {
				return
			}
			r.Start = page.Next
		}
	case "uploads":
		r := UploadsRequest{Owner: owner, Bucket: e.arg(a, 1), Prefix: e.optString(a, "prefix", ""), Limit: limit}
		for {
			out := query(QueryUploads, r.Encode())
			if out == nil {
				return
			}
			page, err := DecodeUploadPage(out)
			must(err)
			e.printf("page:")
			for _, u := range page.Uploads {
				e.printf(" %s:%s(parts=%d)", u.Key, u.ID, u.Parts)
			}
			e.printf("\n")
			if !page.Truncated {
				return
			}
			r.Start = page.Next
		}
	case "parts":
		r := PartsRequest{Owner: owner, Bucket: e.arg(a, 1), Upload: e.arg(a, 2),
			After: uint32(e.optAmount(a, "after", 0)), Limit: limit}
		for {
			out := query(QueryParts, r.Encode())
			if out == nil {
				return
			}
			page, err := DecodePartPage(out)
			must(err)
			e.printf("upload %s key=%q type=%q parts=%d:", page.Upload.ID, page.Upload.Key, page.Upload.ContentType, page.Upload.Parts)
			for _, p := range page.Parts {
				e.printf(" %d:%s/%d/%s", p.Number, e.name32(p.Ref.BlobID), p.Size, p.ETag)
			}
			e.printf("\n")
			if !page.Truncated {
				return
			}
			r.After = page.Parts[len(page.Parts)-1].Number
		}
	}
}
