package s3

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"slices"
	"testing"
)

// TestObjectFlow walks one object through put, get (whole, ranges, conditions), head,
// copy, overwrite and delete, checking ETags, metadata and that replaced bytes are
// released.
func TestObjectFlow(t *testing.T) {
	g := newTestGateway(t, nil)
	g.must(200, "PUT", "/bkt", nil)
	data := []byte("0123456789abcdef")
	resp, _ := g.must(200, "PUT", "/bkt/dir/a.txt", data, "Content-Md5", md5b64(data), "X-Amz-Meta-Color", "blue", "Content-Type", "text/plain")
	if want := `"` + md5hex(data) + `"`; resp.Header.Get("ETag") != want {
		t.Fatalf("ETag %s, want %s", resp.Header.Get("ETag"), want)
	}
	resp, b := g.must(200, "GET", "/bkt/dir/a.txt", nil)
	if !bytes.Equal(b, data) || resp.Header.Get("X-Amz-Meta-Color") != "blue" || resp.Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("GET: %q %v", b, resp.Header)
	}
	for _, c := range []struct{ rng, want, cr string }{
		{"bytes=2-5", "2345", "bytes 2-5/16"},
		{"bytes=10-", "abcdef", "bytes 10-15/16"},
		{"bytes=-3", "def", "bytes 13-15/16"},
		{"bytes=14-100", "ef", "bytes 14-15/16"},
	} {
		resp, b := g.must(206, "GET", "/bkt/dir/a.txt", nil, "Range", c.rng)
		if string(b) != c.want || resp.Header.Get("Content-Range") != c.cr {
			t.Fatalf("Range %s: %q %s", c.rng, b, resp.Header.Get("Content-Range"))
		}
	}
	g.must(304, "GET", "/bkt/dir/a.txt", nil, "If-None-Match", `"`+md5hex(data)+`"`)
	g.must(412, "GET", "/bkt/dir/a.txt", nil, "If-Match", `"nope"`)
	resp, b = g.must(200, "HEAD", "/bkt/dir/a.txt", nil)
	if len(b) != 0 || resp.ContentLength != int64(len(data)) {
		t.Fatalf("HEAD: %d bytes, length %d", len(b), resp.ContentLength)
	}
	g.must(404, "HEAD", "/bkt/none", nil)

	// Copy with replaced metadata.
	_, b = g.must(200, "PUT", "/bkt/copy.txt", nil, "X-Amz-Copy-Source", "/bkt/dir/a.txt", "X-Amz-Metadata-Directive", "REPLACE", "X-Amz-Meta-Shape", "round")
	var cr copyResult
	if err := xml.Unmarshal(b, &cr); err != nil || cr.ETag != `"`+md5hex(data)+`"` {
		t.Fatalf("copy result %q: %v", b, err)
	}
	resp, b = g.must(200, "GET", "/bkt/copy.txt", nil)
	if !bytes.Equal(b, data) || resp.Header.Get("X-Amz-Meta-Shape") != "round" || resp.Header.Get("X-Amz-Meta-Color") != "" {
		t.Fatalf("copy: %q %v", b, resp.Header)
	}
	if n := g.store.count(); n != 2 {
		t.Fatalf("%d blobs stored, want 2", n)
	}
	// An overwrite releases the old blob, a delete releases the last one.
	g.must(200, "PUT", "/bkt/copy.txt", []byte("new"))
	if n := g.store.count(); n != 2 {
		t.Fatalf("%d blobs after overwrite, want 2", n)
	}
	g.must(204, "DELETE", "/bkt/copy.txt", nil)
	g.must(204, "DELETE", "/bkt/copy.txt", nil) // deleting a missing key succeeds, as in S3
	if n := g.store.count(); n != 1 {
		t.Fatalf("%d blobs after delete, want 1", n)
	}
	// Empty objects are stored nowhere.
	g.must(200, "PUT", "/bkt/empty", []byte{})
	if _, b := g.must(200, "GET", "/bkt/empty", nil); len(b) != 0 {
		t.Fatalf("empty object read %q", b)
	}
	// DeleteObjects.
	_, b = g.must(200, "POST", "/bkt?delete", []byte(`<Delete><Object><Key>dir/a.txt</Key></Object><Object><Key>empty</Key></Object></Delete>`))
	var dr deleteResult
	if err := xml.Unmarshal(b, &dr); err != nil || len(dr.Deleted) != 2 {
		t.Fatalf("delete result %q: %v", b, err)
	}
	if n := g.store.count(); n != 0 {
		t.Fatalf("%d blobs after DeleteObjects, want 0", n)
	}
	g.must(204, "DELETE", "/bkt", nil)
	g.must(404, "HEAD", "/bkt", nil)
}

// TestMultipart uploads parts out of order, replaces one, completes, and checks the
// object, its multipart ETag and the release of every part's blob.
func TestMultipart(t *testing.T) {
	g := newTestGateway(t, nil)
	g.must(200, "PUT", "/bkt", nil)
	_, b := g.must(200, "POST", "/bkt/mp?uploads", nil, "X-Amz-Meta-K", "v")
	var init initiateResult
	if err := xml.Unmarshal(b, &init); err != nil {
		t.Fatal(err)
	}
	up := "/bkt/mp?uploadId=" + init.UploadID
	parts := [][]byte{[]byte("first part "), []byte("second part "), []byte("third")}
	g.must(200, "PUT", up+"&partNumber=3", parts[2])
	g.must(200, "PUT", up+"&partNumber=1", []byte("to be replaced"))
	g.must(200, "PUT", up+"&partNumber=1", parts[0])
	g.must(200, "PUT", up+"&partNumber=2", parts[1])
	_, b = g.must(200, "GET", up, nil)
	var lp listPartsResult
	if err := xml.Unmarshal(b, &lp); err != nil || len(lp.Parts) != 3 || lp.Parts[0].ETag != `"`+md5hex(parts[0])+`"` {
		t.Fatalf("ListParts %q: %v", b, err)
	}
	_, b = g.must(200, "GET", "/bkt?uploads", nil)
	var lu listUploadsResult
	if err := xml.Unmarshal(b, &lu); err != nil || len(lu.Uploads) != 1 || lu.Uploads[0].UploadID != init.UploadID {
		t.Fatalf("ListMultipartUploads %q: %v", b, err)
	}
	var body bytes.Buffer
	body.WriteString("<CompleteMultipartUpload>")
	sums := md5.New()
	for i, p := range parts {
		fmt.Fprintf(&body, `<Part><PartNumber>%d</PartNumber><ETag>"%s"</ETag></Part>`, i+1, md5hex(p))
		s := md5.Sum(p)
		sums.Write(s[:])
	}
	body.WriteString("</CompleteMultipartUpload>")
	_, b = g.must(200, "POST", up, body.Bytes())
	var res completeResult
	wantETag := fmt.Sprintf(`"%s-3"`, hex.EncodeToString(sums.Sum(nil)))
	if err := xml.Unmarshal(bytes.TrimSpace(b), &res); err != nil || res.ETag != wantETag {
		t.Fatalf("complete %q: %v (want ETag %s)", b, err, wantETag)
	}
	resp, b := g.must(200, "GET", "/bkt/mp", nil)
	if string(b) != "first part second part third" || resp.Header.Get("ETag") != wantETag || resp.Header.Get("X-Amz-Meta-K") != "v" {
		t.Fatalf("object %q %v", b, resp.Header)
	}
	if n := g.store.count(); n != 1 {
		t.Fatalf("%d blobs after complete, want 1 (parts released)", n)
	}
	g.must(404, "GET", up, nil)

	// Abort releases the parts.
	_, b = g.must(200, "POST", "/bkt/ab?uploads", nil)
	if err := xml.Unmarshal(b, &init); err != nil {
		t.Fatal(err)
	}
	g.must(200, "PUT", "/bkt/ab?partNumber=1&uploadId="+init.UploadID, []byte("x"))
	g.must(204, "DELETE", "/bkt/ab?uploadId="+init.UploadID, nil)
	if n := g.store.count(); n != 1 {
		t.Fatalf("%d blobs after abort, want 1", n)
	}
}

// TestListing pages through ListObjectsV2 with and without a delimiter and compares
// with a naive model.
func TestListing(t *testing.T) {
	g := newTestGateway(t, nil)
	g.must(200, "PUT", "/bkt", nil)
	keys := []string{"a", "a/1", "a/2", "a/b/1", "b", "b/x", "c/", "c/d", "dd", "e/f/g"}
	for _, k := range keys {
		g.must(200, "PUT", "/bkt/"+k, []byte(k))
	}
	list := func(prefix, delim string, max int) (got []string) {
		token := ""
		for range 100 {
			q := fmt.Sprintf("/bkt?list-type=2&max-keys=%d&prefix=%s&delimiter=%s", max, prefix, delim)
			if token != "" {
				q += "&continuation-token=" + token
			}
			_, b := g.must(200, "GET", q, nil)
			var r listV2Result
			if err := xml.Unmarshal(b, &r); err != nil {
				t.Fatal(err)
			}
			if r.KeyCount > max {
				t.Fatalf("KeyCount %d over max-keys %d", r.KeyCount, max)
			}
			for _, c := range r.Contents {
				got = append(got, c.Key)
			}
			for _, p := range r.CommonPrefixes {
				got = append(got, p.Prefix+"*")
			}
			if !r.IsTruncated {
				return got
			}
			token = r.NextContinuationToken
		}
		t.Fatal("listing does not end")
		return nil
	}
	model := func(prefix, delim string) (want []string) {
		seen := map[string]bool{}
		for _, k := range keys {
			if len(k) < len(prefix) || k[:len(prefix)] != prefix {
				continue
			}
			if delim != "" {
				if i := bytes.Index([]byte(k[len(prefix):]), []byte(delim)); i >= 0 {
					cp := k[:len(prefix)+i+len(delim)] + "*"
					if !seen[cp] {
						seen[cp] = true
						want = append(want, cp)
					}
					continue
				}
			}
			want = append(want, k)
		}
		return want
	}
	sortAll := func(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
	for _, prefix := range []string{"", "a", "a/", "c/", "z"} {
		for _, delim := range []string{"", "/"} {
			for _, max := range []int{1, 2, 3, 1000} {
				got, want := sortAll(list(prefix, delim, max)), sortAll(model(prefix, delim))
				if !slices.Equal(got, want) {
					t.Errorf("prefix %q delimiter %q max %d: got %q, want %q", prefix, delim, max, got, want)
				}
			}
		}
	}
}
