package s3

import (
	"errors"
	"testing"
)

func FuzzDecodeComplete(f *testing.F) {
	f.Add([]byte(`<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><PartNumber>1</PartNumber><ETag>"a"</ETag></Part></CompleteMultipartUpload>`))
	f.Add([]byte(`<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>b</ETag></Part><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>`))
	f.Add([]byte(`<CompleteMultipartUpload></CompleteMultipartUpload><x/>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		parts, err := decodeComplete(b)
		if err != nil {
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v is not an S3 error", err)
			}
			return
		}
		if len(parts) == 0 || len(parts) > MaxParts {
			t.Fatalf("%d parts accepted", len(parts))
		}
		for i, p := range parts {
			if p.Number < 1 || p.Number > MaxParts || i > 0 && p.Number <= parts[i-1].Number {
				t.Fatalf("part numbers %v accepted", parts)
			}
		}
	})
}

func FuzzDecodeDelete(f *testing.F) {
	f.Add([]byte(`<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet><Object><Key>a/b</Key></Object></Delete>`))
	f.Add([]byte(`<Delete><Object><Key></Key></Object></Delete>`))
	f.Add([]byte(`<Delete><Object><Key>&#0;</Key></Object></Delete>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		keys, _, err := decodeDelete(b)
		if err != nil {
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v is not an S3 error", err)
			}
			return
		}
		if len(keys) == 0 || len(keys) > MaxBatch {
			t.Fatalf("%d keys accepted", len(keys))
		}
		for _, k := range keys {
			if !ValidKey(k) {
				t.Fatalf("invalid key %q accepted", k)
			}
		}
	})
}

func TestDecodeXML(t *testing.T) {
	ok := []string{
		`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"a"</ETag></Part></CompleteMultipartUpload>`,
		`<?xml version="1.0"?>` + "\n" + `<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><ETag>a</ETag><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>` + "\n",
	}
	for _, s := range ok {
		if _, err := decodeComplete([]byte(s)); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	bad := []string{``, `<Other/>`, `<CompleteMultipartUpload/>`, `<CompleteMultipartUpload><Part><PartNumber>0</PartNumber></Part></CompleteMultipartUpload>`,
		`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>trailing`}
	for _, s := range bad {
		if _, err := decodeComplete([]byte(s)); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}
