package chain

import "unicode/utf8"

// ownedSite returns the sender's site.
func (c *ctx) ownedSite(id ObjectID) (*Site, error) {
	o, err := c.object(id, KindSite)
	if err != nil {
		return nil, err
	}
	if o.OwnerAddress() != c.sender {
		return nil, errorf(ErrNotOwner, "site %s", id)
	}
	return o.(*Site), nil
}

func getResource(kv Store, site ObjectID, path string) (Resource, bool) {
	s, ok := get[storedResource](kv, keyResource(site, path))
	s.Path = path
	return s.Resource, ok
}

// checkSiteInfo checks a site's display name (UTF-8), routes and metadata (the decoder
// bounded and sorted them).
func checkSiteInfo(name string, routes []Route, meta []Attribute) error {
	if !utf8.ValidString(name) {
		return errorf(ErrInvalidArgument, "site display name is not UTF-8")
	}
	if err := checkMeta("", meta); err != nil {
		return err
	}
	return checkRoutes(routes)
}

// writeResources checks a batch of resources and paths to remove (distinct, 1 to
// MaxSiteBatch in all) and applies it to the site, returning how many were put and removed.
func (c *ctx) writeResources(s *Site, put []Resource, remove []string) (uint32, uint32, error) {
	err := distinct(func(yield func(string) bool) {
		for i := range put {
			if !yield(put[i].Path) {
				return
			}
		}
		for _, p := range remove {
			if !yield(p) {
				return
			}
		}
	})
	if err != nil && len(put)+len(remove) > 0 {
		return 0, 0, err
	}
	if len(put)+len(remove) > MaxSiteBatch {
		return 0, 0, errorf(ErrInvalidArgument, "batch of %d paths, want at most %d", len(put)+len(remove), MaxSiteBatch)
	}
	for i := range put {
		if err := put[i].Check(); err != nil {
			return 0, 0, err
		}
	}
	for _, p := range remove {
		if err := CheckResourcePath(p); err != nil {
			return 0, 0, err
		}
	}
	var removed uint32
	for _, p := range remove {
		old, ok := getResource(c.kv, s.ID, p)
		if !ok {
			continue
		}
		c.kv.Delete(keyResource(s.ID, p))
		s.Resources--
		s.Bytes -= old.Size
		removed++
	}
	for i := range put {
		r := &put[i]
		if old, ok := getResource(c.kv, s.ID, r.Path); ok {
			s.Bytes -= old.Size
		} else {
			s.Resources++
		}
		bytes, err := add(s.Bytes, r.Size)
		if err != nil {
			return 0, 0, err
		}
		s.Bytes = bytes
		c.kv.Set(keyResource(s.ID, r.Path), encodeBCS(&storedResource{*r}))
	}
	return uint32(len(put)), removed, nil
}

func (c *ctx) execCreateSite(p *CreateSite) error {
	if err := checkSiteInfo(p.Name, p.Routes, p.Metadata); err != nil {
		return err
	}
	s := &Site{ID: c.newObjectID(), Owner: c.sender, Name: p.Name, Created: c.header.Time, Routes: p.Routes,
		Metadata: p.Metadata}
	n, _, err := c.writeResources(s, p.Resources, nil)
	if err != nil {
		return err
	}
	createObject(c.kv, s)
	c.emit(&SiteCreated{Site: s.ID, Owner: s.Owner, Resources: n})
	return nil
}

func (c *ctx) execUpdateSite(p *UpdateSite) error {
	s, err := c.ownedSite(p.Site)
	if err != nil {
		return err
	}
	if p.SetInfo {
		if err := checkSiteInfo(p.Name, p.Routes, p.Metadata); err != nil {
			return err
		}
		s.Name, s.Routes, s.Metadata = p.Name, p.Routes, p.Metadata
	} else if p.Name != "" || len(p.Routes) > 0 || len(p.Metadata) > 0 {
		return errorf(ErrInvalidArgument, "name, routes or metadata without SetInfo")
	}
	if !p.SetInfo && len(p.Put)+len(p.Remove) == 0 {
		return errorf(ErrInvalidArgument, "empty update")
	}
	put, removed, err := c.writeResources(s, p.Put, p.Remove)
	if err != nil {
		return err
	}
	s.Version++
	putObject(c.kv, s)
	c.emit(&SiteUpdated{Site: s.ID, Version: s.Version, Put: put, Removed: removed})
	return nil
}

func (c *ctx) execDestroySite(p *DestroySite) error {
	s, err := c.ownedSite(p.Site)
	if err != nil {
		return err
	}
	if s.Resources > MaxSiteBatch {
		return errorf(ErrSiteTooLarge, "site %s has %d resources, remove some first (at most %d)", s.ID, s.Resources, MaxSiteBatch)
	}
	var keys [][]byte
	iteratePrefix(c.kv, keyResourcePrefix(s.ID), func(k, _ []byte) bool {
		keys = append(keys, append([]byte(nil), k...))
		return true
	})
	for _, k := range keys {
		c.kv.Delete(k)
	}
	deleteObject(c.kv, s)
	c.emit(&SiteDestroyed{Site: s.ID, Owner: s.Owner, Resources: uint32(len(keys))})
	return nil
}

func (c *ctx) execSetSiteName(p *SetSiteName) error {
	if err := CheckSiteName(p.Name); err != nil {
		return err
	}
	if old, ok := get[storedSiteName](c.kv, keySiteName(p.Name)); ok && old.Owner != c.sender {
		return errorf(ErrNameTaken, "%q", p.Name)
	}
	if p.Site == (ObjectID{}) {
		c.kv.Delete(keySiteName(p.Name))
	} else {
		if _, err := c.ownedSite(p.Site); err != nil {
			return err
		}
		c.kv.Set(keySiteName(p.Name), encodeBCS(&storedSiteName{SiteName{Owner: c.sender, Site: p.Site}}))
	}
	c.emit(&SiteNameSet{Name: p.Name, Owner: c.sender, Site: p.Site})
	return nil
}
