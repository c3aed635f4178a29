package site

import (
	"errors"
	"strings"
	"testing"
)

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig([]byte(`{
		"headers": {"/index.html": {"Content-Type": "text/html", "Cache-Control": "max-age=10"}},
		"routes": {"/*": "/index.html", "/app/*": "/app.html"},
		"metadata": {"description": "d"},
		"site_name": "My site",
		"object_id": "0x` + strings.Repeat("ab", 32) + `",
		"ignore": ["/private/*", "/*.tmp"]
	}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Headers["/index.html"]["cache-control"] != "max-age=10" || c.Headers["/index.html"]["content-type"] != "text/html" {
		t.Errorf("headers not lower-cased: %v", c.Headers)
	}
	if c.Object[0] != 0xab || c.SiteName != "My site" {
		t.Errorf("object %s name %q", c.Object, c.SiteName)
	}
	if rs := c.ChainRoutes(); len(rs) != 2 || rs[0].Pattern != "/*" || rs[1].Path != "/app.html" {
		t.Errorf("routes %v", rs)
	}
	for p, want := range map[string]bool{"/private/a": true, "/private/a/b": true, "/x.tmp": true, "/a/x.tmp": false, "/index.html": false} {
		if c.Ignored(p) != want {
			t.Errorf("Ignored(%s) = %v", p, !want)
		}
	}
}

func TestParseConfigRejects(t *testing.T) {
	for _, tc := range []struct{ json, want string }{
		{`[]`, "cannot unmarshal"},
		{`{"unknown": 1}`, "unknown field"},
		{`{} {}`, "trailing data"},
		{`{"headers": {"index.html": {}}}`, "must start with /"},
		{`{"headers": {"/a": {"Bad Header": "x"}}}`, "not an HTTP header name"},
		{`{"headers": {"/a": {"X-A": "a\nb"}}}`, "printable ASCII"},
		{`{"headers": {"/a": {"X-A": "1", "x-a": "2"}}}`, "given twice"},
		{`{"routes": {"/a*b": "/index.html"}}`, "* only at the end"},
		{`{"routes": {"app/*": "/index.html"}}`, "not a path pattern"},
		{`{"routes": {"/app/*": "index.html"}}`, "must start with /"},
		{`{"object_id": "0x12"}`, "object_id"},
		{`{"ignore": ["private/*"]}`, "must start with /"},
		{`{"ignore": ["/[a"]}`, "syntax error"},
		{`{"metadata": {"": "x"}}`, "empty key"},
		{`{"site_name": "` + strings.Repeat("n", 300) + `"}`, "site_name"},
		{strings.Repeat(" ", MaxConfigSize+1), "at most"},
	} {
		_, err := ParseConfig([]byte(tc.json))
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.60s: %v, want ErrConfig with %q", tc.json, err, tc.want)
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"headers": {"/index.html": {"Cache-Control": "no-cache"}}, "routes": {"/*": "/index.html"}}`))
	f.Add([]byte(`{"site_name": "s", "ignore": ["/a/*"], "metadata": {"k": "v"}, "object_id": "0x00"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b)
		if err != nil {
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("error without ErrConfig: %v", err)
			}
			return
		}
		// What parses is usable: headers and routes are what the chain accepts.
		for p, hs := range c.Headers {
			for k := range hs {
				if !headerName(k) {
					t.Fatalf("%s: header %q accepted", p, k)
				}
			}
		}
		for _, r := range c.ChainRoutes() {
			if checkPattern(r.Pattern) != nil {
				t.Fatalf("route %q accepted", r.Pattern)
			}
		}
		c.Ignored("/index.html")
	})
}
