package chain

// ownBucket returns the sender's bucket of the given name.
func (c *ctx) ownBucket(name string) (*Bucket, error) {
	return lookupBucket(c.kv, c.sender, name)
}

func lookupBucket(kv Store, owner Address, name string) (*Bucket, error) {
	v, ok := kv.Get(keyBucketName(owner, name))
	if !ok || len(v) != 32 {
		return nil, errorf(ErrNoSuchBucket, "%q", name)
	}
	o, ok := getObject(kv, ObjectID(v))
	b, isBucket := o.(*Bucket)
	if !ok || !isBucket {
		panic("chain: bucket name index points at no bucket")
	}
	return b, nil
}

func (c *ctx) execCreateBucket(p *CreateBucket) error {
	if err := CheckBucketName(p.Name); err != nil {
		return err
	}
	if _, ok := c.kv.Get(keyBucketName(c.sender, p.Name)); ok {
		return errorf(ErrBucketExists, "%q", p.Name)
	}
	b := &Bucket{ID: c.newObjectID(), Owner: c.sender, Name: p.Name, Created: c.header.Time}
	createObject(c.kv, b)
	c.kv.Set(keyBucketName(c.sender, p.Name), b.ID[:])
	c.emit(&BucketCreated{Bucket: b.ID, Owner: b.Owner, Name: b.Name})
	return nil
}

func (c *ctx) execDeleteBucket(p *DeleteBucket) error {
	b, err := c.ownBucket(p.Name)
	if err != nil {
		return err
	}
	if b.Entries > 0 || b.Uploads > 0 {
		return errorf(ErrBucketNotEmpty, "%q holds %d entries and %d uploads", b.Name, b.Entries, b.Uploads)
	}
	deleteObject(c.kv, b)
	c.kv.Delete(keyBucketName(b.Owner, b.Name))
	c.emit(&BucketDeleted{Bucket: b.ID, Owner: b.Owner, Name: b.Name})
	return nil
}

// transferBucket moves the bucket's name to the recipient's namespace (the caller moves the
// object and its owner index).
func (c *ctx) transferBucket(b *Bucket, to Address) error {
	if v, ok := c.kv.Get(keyBucketName(to, b.Name)); ok && ObjectID(v) != b.ID {
		return errorf(ErrBucketExists, "the recipient has a bucket %q", b.Name)
	}
	c.kv.Delete(keyBucketName(b.Owner, b.Name))
	c.kv.Set(keyBucketName(to, b.Name), b.ID[:])
	return nil
}

// checkRef checks that a non-zero Ref.Object is a Blob object storing Ref.BlobID.
func (c *ctx) checkRef(r *BlobRef) error {
	if r.Object == (ObjectID{}) {
		return nil
	}
	o, err := c.object(r.Object, KindBlob)
	if err != nil {
		return err
	}
	if b := o.(*Blob); b.BlobID != r.BlobID {
		return errorf(ErrBlobIDMismatch, "blob object %s stores %s, not %s", r.Object, b.BlobID, r.BlobID)
	}
	return nil
}

func getEntry(kv Store, bucket ObjectID, k string) (Entry, bool) {
	s, ok := get[storedEntry](kv, keyEntry(bucket, k))
	s.Key = k
	return s.Entry, ok
}

// putEntry writes an entry, counting it if new and emitting EntryRemoved for the one it
// replaces.
func (c *ctx) putEntry(b *Bucket, x *EntryData) {
	if old, ok := getEntry(c.kv, b.ID, x.Key); ok {
		c.emit(&EntryRemoved{Bucket: b.ID, Entry: old, Overwritten: true})
	} else {
		b.Entries++
	}
	c.kv.Set(keyEntry(b.ID, x.Key), encodeBCS(&storedEntry{Entry{EntryData: *x, Modified: c.header.Time}}))
}

// distinct checks that a batch has 1 to MaxBatch distinct keys.
func distinct(keys func(yield func(string) bool)) error {
	seen := map[string]bool{} // membership only; never iterated
	for k := range keys {
		if seen[k] {
			return errorf(ErrInvalidArgument, "key %q appears twice in the batch", k)
		}
		seen[k] = true
	}
	if len(seen) == 0 || len(seen) > MaxBatch {
		return errorf(ErrInvalidArgument, "batch of %d keys, want 1 to %d", len(seen), MaxBatch)
	}
	return nil
}

func (c *ctx) execPutEntries(p *PutEntries) error {
	b, err := c.ownBucket(p.Bucket)
	if err != nil {
		return err
	}
	err = distinct(func(yield func(string) bool) {
		for i := range p.Entries {
			if !yield(p.Entries[i].Key) {
				return
			}
		}
	})
	if err != nil {
		return err
	}
	for i := range p.Entries {
		x := &p.Entries[i]
		if err := x.Check(); err != nil {
			return err
		}
		if err := c.checkRef(&x.Ref); err != nil {
			return err
		}
		c.putEntry(b, x)
	}
	putObject(c.kv, b)
	return nil
}

func (c *ctx) execDeleteEntries(p *DeleteEntries) error {
	b, err := c.ownBucket(p.Bucket)
	if err != nil {
		return err
	}
	err = distinct(func(yield func(string) bool) {
		for _, k := range p.Keys {
			if !yield(k) {
				return
			}
		}
	})
	if err != nil {
		return err
	}
	for _, k := range p.Keys {
		if err := CheckObjectKey(k); err != nil {
			return err
		}
		old, ok := getEntry(c.kv, b.ID, k)
		if !ok {
			continue
		}
		c.kv.Delete(keyEntry(b.ID, k))
		b.Entries--
		c.emit(&EntryRemoved{Bucket: b.ID, Entry: old})
	}
	putObject(c.kv, b)
	return nil
}

func getUpload(kv Store, bucket ObjectID, id string) (Upload, bool) {
	s, ok := get[storedUpload](kv, keyUpload(bucket, id))
	s.ID = id
	return s.Upload, ok
}

func putUpload(kv Store, bucket ObjectID, u *Upload) {
	kv.Set(keyUpload(bucket, u.ID), encodeBCS(&storedUpload{*u}))
}

func (c *ctx) upload(b *Bucket, id string) (*Upload, error) {
	u, ok := getUpload(c.kv, b.ID, id)
	if !ok {
		return nil, errorf(ErrNoSuchUpload, "%q", id)
	}
	return &u, nil
}

func (c *ctx) execCreateUpload(p *CreateUpload) error {
	b, err := c.ownBucket(p.Bucket)
	if err != nil {
		return err
	}
	if err := CheckUploadID(p.ID); err != nil {
		return err
	}
	if err := CheckObjectKey(p.Key); err != nil {
		return err
	}
	if err := checkMeta(p.ContentType, p.Metadata); err != nil {
		return err
	}
	if _, ok := getUpload(c.kv, b.ID, p.ID); ok {
		return errorf(ErrInvalidArgument, "upload ID %q is in use", p.ID)
	}
	u := &Upload{ID: p.ID, Key: p.Key, ContentType: p.ContentType, Metadata: p.Metadata, Initiated: c.header.Time}
	putUpload(c.kv, b.ID, u)
	c.kv.Set(keyUploadByKey(b.ID, u.Key, u.ID), nil)
	b.Uploads++
	putObject(c.kv, b)
	return nil
}

func (c *ctx) execPutPart(p *PutPart) error {
	b, err := c.ownBucket(p.Bucket)
	if err != nil {
		return err
	}
	u, err := c.upload(b, p.Upload)
	if err != nil {
		return err
	}
	if p.Number < 1 || p.Number > MaxPartNumber {
		return errorf(ErrInvalidArgument, "part number %d, want 1 to %d", p.Number, MaxPartNumber)
	}
	if err := checkETag(p.ETag); err != nil {
		return err
	}
	if err := c.checkRef(&p.Ref); err != nil {
		return err
	}
	k := keyPart(b.ID, u.ID, p.Number)
	if old, ok := get[Part](c.kv, k); ok {
		c.emit(&PartRemoved{Bucket: b.ID, Upload: u.ID, Part: old})
	} else {
		u.Parts++
		putUpload(c.kv, b.ID, u)
	}
	c.kv.Set(k, encodeBCS(&Part{Number: p.Number, Ref: p.Ref, Size: p.Size, ETag: p.ETag, Modified: c.header.Time}))
	return nil
}

// endUpload removes an upload and its parts (at most MaxPartNumber) and emits UploadEnded.
func (c *ctx) endUpload(b *Bucket, u *Upload, completed bool) {
	var keys [][]byte
	iteratePrefix(c.kv, keyPartPrefix(b.ID, u.ID), func(k, _ []byte) bool {
		keys = append(keys, append([]byte(nil), k...))
		return true
	})
	for _, k := range keys {
		c.kv.Delete(k)
	}
	c.kv.Delete(keyUpload(b.ID, u.ID))
	c.kv.Delete(keyUploadByKey(b.ID, u.Key, u.ID))
	b.Uploads--
	c.emit(&UploadEnded{Bucket: b.ID, Upload: u.ID, Key: u.Key, Parts: uint32(len(keys)), Completed: completed})
}

func (c *ctx) execCompleteUpload(p *CompleteUpload) error {
	b, err := c.ownBucket(p.Bucket)
	if err != nil {
		return err
	}
	u, err := c.upload(b, p.Upload)
	if err != nil {
		return err
	}
	x := &EntryData{Key: u.Key, Ref: p.Ref, Size: p.Size, ETag: p.ETag, ContentType: u.ContentType, Metadata: u.Metadata}
	if err := x.Check(); err != nil {
		return err
	}
	if err := c.checkRef(&x.Ref); err != nil {
		return err
	}
	c.endUpload(b, u, true)
	c.putEntry(b, x)
	putObject(c.kv, b)
	return nil
}

func (c *ctx) execAbortUpload(p *AbortUpload) error {
	b, err := c.ownBucket(p.Bucket)
	if err != nil {
		return err
	}
	u, err := c.upload(b, p.Upload)
	if err != nil {
		return err
	}
	c.endUpload(b, u, false)
	putObject(c.kv, b)
	return nil
}
