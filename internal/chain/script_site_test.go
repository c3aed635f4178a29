package chain

import (
	"crypto/sha256"
	"fmt"
	"strings"
)

// Script commands and operations of sites (see script_test.go).
//
//	mksite TITLE [put=/a,/b] [count=N] [pathlen=N] [size=N] [patch] [range=S-E]
//	       [header=k:v,...] [route=PAT>PATH,...] [meta=k:v,...] [as=NAME]
//	updsite SITE [put=...] [rm=/a,...] [count=N] [size=N] [title=T] [route=...] [meta=...]
//	rmsite SITE | sitename NAME SITE|none
//
// Queries: site SITE | resource SITE PATH | resources SITE [after=P] [limit=N] |
// sitenames [after=N] [limit=N] | whois NAME.

func (e *scriptEnv) sitePaths(a *args, k string) []string {
	var ps []string
	if v, ok := a.opt(k); ok && v != "" {
		ps = strings.Split(v, ",")
	}
	if k != "put" {
		return ps
	}
	if v, ok := a.opt("pathlen"); ok {
		ps = append(ps, "/"+strings.Repeat("p", int(e.u32(v))-1))
	}
	if v, ok := a.opt("count"); ok {
		for i := range int(e.u32(v)) {
			ps = append(ps, fmt.Sprintf("/f%04d.html", i))
		}
	}
	return ps
}

func (e *scriptEnv) siteResources(a *args) []Resource {
	size := e.optAmount(a, "size", 100)
	patch := a.flag("patch")
	var headers []Attribute
	if v, ok := a.opt("header"); ok {
		for _, kv := range strings.Split(v, ",") {
			k, val, _ := strings.Cut(kv, ":")
			headers = append(headers, Attribute{Key: k, Value: val})
		}
	}
	var rs []Resource
	for _, p := range e.sitePaths(a, "put") {
		r := Resource{Path: p, BlobID: e.blob("site-blob", 1000).id, Hash: sha256.Sum256([]byte(p)), Size: size,
			Headers: headers}
		if patch {
			r.PatchID = []byte("patch" + p)
		}
		if v, ok := a.opt("range"); ok {
			s, end, _ := strings.Cut(v, "-")
			r.HasRange, r.Start, r.End = true, e.amount(s), e.amount(end)
		}
		rs = append(rs, r)
	}
	return rs
}

func (e *scriptEnv) siteInfo(a *args) ([]Route, []Attribute) {
	var routes []Route
	if v, ok := a.opt("route"); ok {
		for _, r := range strings.Split(v, ",") {
			pat, path, _ := strings.Cut(r, ">")
			routes = append(routes, Route{Pattern: pat, Path: path})
		}
	}
	return routes, e.metadata(a)
}

func (e *scriptEnv) sitePayload(op string, a *args) (Payload, []string, bool) {
	switch op {
	case "mksite":
		routes, meta := e.siteInfo(a)
		return &CreateSite{Name: e.arg(a, 0), Routes: routes, Metadata: meta, Resources: e.siteResources(a)},
			e.as(a, e.arg(a, 0)), true
	case "updsite":
		p := &UpdateSite{Site: e.object(e.arg(a, 0)), Put: e.siteResources(a), Remove: e.sitePaths(a, "rm")}
		if v, ok := a.opt("title"); ok {
			p.SetInfo, p.Name = true, v
			p.Routes, p.Metadata = e.siteInfo(a)
		}
		return p, nil, true
	case "rmsite":
		return &DestroySite{Site: e.object(e.arg(a, 0))}, nil, true
	case "sitename":
		var site ObjectID
		if e.arg(a, 1) != "none" {
			site = e.object(e.arg(a, 1))
		}
		return &SetSiteName{Name: e.arg(a, 0), Site: site}, nil, true
	}
	return nil, nil, false
}

func (e *scriptEnv) formatResource(r *Resource) string {
	s := fmt.Sprintf("%s blob=%s hash=%x size=%d", r.Path, e.name32(r.BlobID), r.Hash[:4], r.Size)
	if r.PatchID != nil {
		s += fmt.Sprintf(" patch=%q", r.PatchID)
	}
	if r.HasRange {
		s += fmt.Sprintf(" range=%d-%d", r.Start, r.End)
	}
	for _, h := range r.Headers {
		s += fmt.Sprintf(" %s:%q", h.Key, h.Value)
	}
	return s
}

func (e *scriptEnv) siteQuery(cmd string, a *args) {
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
	limit := uint32(e.optAmount(a, "limit", 0))
	switch cmd {
	case "site":
		id := e.object(e.arg(a, 0))
		out := query(QuerySite, id[:])
		if out == nil {
			return
		}
		s, err := DecodeSite(out)
		must(err)
		e.printf("%s: owner=%s name=%q version=%d resources=%d bytes=%d", e.name32(s.ID), e.name32(s.Owner), s.Name,
			s.Version, s.Resources, s.Bytes)
		for _, r := range s.Routes {
			e.printf(" route:%s>%s", r.Pattern, r.Path)
		}
		for _, m := range s.Metadata {
			e.printf(" meta:%s=%q", m.Key, m.Value)
		}
		e.printf("\n")
	case "resource":
		out := query(QueryResource, ResourceRequest{Site: e.object(e.arg(a, 0)), Path: e.arg(a, 1)}.Encode())
		if out == nil {
			return
		}
		r, err := DecodeResource(out)
		must(err)
		e.printf("%s\n", e.formatResource(&r))
	case "resources":
		r := ResourcesRequest{Site: e.object(e.arg(a, 0)), After: e.optString(a, "after", ""), Limit: limit}
		for {
			page, err := DecodeResourcePage(query(QueryResources, r.Encode()))
			must(err)
			var ps []string
			for _, x := range page.Resources {
				ps = append(ps, x.Path)
			}
			e.printf("page: %s\n", strings.Join(ps, " "))
			if !page.HasNext {
				return
			}
			r.After = page.Resources[len(page.Resources)-1].Path
		}
	case "sitenames":
		r := SiteNamesRequest{After: e.optString(a, "after", ""), Limit: limit}
		for {
			page, err := DecodeSiteNamePage(query(QuerySiteNames, r.Encode()))
			must(err)
			var ns []string
			for _, x := range page.Names {
				ns = append(ns, fmt.Sprintf("%s=%s(%s)", x.Name, e.name32(x.Site), e.name32(x.Owner)))
			}
			e.printf("page: %s\n", strings.Join(ns, " "))
			if !page.HasNext {
				return
			}
			r.After = page.Names[len(page.Names)-1].Name
		}
	case "whois":
		out := query(QuerySiteName, SiteNameQuery(e.arg(a, 0)))
		if out == nil {
			return
		}
		n, err := DecodeSiteName(out)
		must(err)
		e.printf("%s: site=%s owner=%s\n", n.Name, e.name32(n.Site), e.name32(n.Owner))
	}
}
