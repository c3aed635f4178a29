package quilt

import (
	"bytes"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/walrus-go/walrus/internal/bcs"
)

// putString appends a BCS string.
func putString(e *bcs.Encoder, s string) { e.Bytes([]byte(s)) }

// bcsString returns the BCS form of s.
func bcsString(s string) []byte {
	var e bcs.Encoder
	putString(&e, s)
	return e.Out()
}

// putTags appends a BCS Map<String,String> with its entries in canonical order: sorted by
// the BCS bytes of their keys, as the Rust bcs crate writes maps.
func putTags(e *bcs.Encoder, tags map[string]string) {
	keys := make([][]byte, 0, len(tags))
	for k := range tags {
		keys = append(keys, bcsString(k))
	}
	slices.SortFunc(keys, bytes.Compare)
	e.Len(len(keys))
	for _, kb := range keys {
		d := bcs.NewDecoder(kb)
		e.Fixed(kb)
		putString(e, tags[string(d.Bytes(len(kb)))])
	}
}

// readString reads a BCS string of at most max bytes that must be valid UTF-8.
func readString(d *bcs.Decoder, max int, what string) string {
	b := d.Bytes(max)
	if d.Err() == nil && !utf8.Valid(b) {
		d.Fail(fmt.Errorf("%w: %s is not valid UTF-8", ErrMalformed, what))
	}
	return string(b)
}

// readTags reads a BCS Map<String,String> and rejects keys that are not strictly
// increasing in BCS byte order (the Rust bcs crate's canonical-map rule).
func readTags(d *bcs.Decoder) map[string]string {
	n := d.Len(d.Remaining())
	tags := make(map[string]string, min(n, 64))
	var prev []byte
	for i := 0; i < n && d.Err() == nil; i++ {
		start := d.Offset()
		k := readString(d, MaxTagsLen, "tag key")
		if d.Err() != nil {
			break
		}
		kb := bcsString(k)
		if i > 0 && bytes.Compare(prev, kb) >= 0 {
			d.Fail(fmt.Errorf("%w: tag keys not in canonical order at offset %d", ErrMalformed, start))
			break
		}
		prev = kb
		tags[k] = readString(d, MaxTagsLen, "tag value")
	}
	return tags
}

// tagsBytes returns the BCS encoding of tags.
func tagsBytes(tags map[string]string) []byte {
	var e bcs.Encoder
	putTags(&e, tags)
	return e.Out()
}
