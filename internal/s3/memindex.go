package s3

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
)

// MemIndex is an Index held in memory, for tests: it forgets everything when the
// process ends. It keeps each bucket's keys sorted, so List is a range scan as the
// chain index's is. The zero value is not usable; call NewMemIndex. Safe for concurrent
// use.
type MemIndex struct {
	mu sync.Mutex // guards buckets
	// buckets maps a name to its bucket.
	buckets map[string]*memBucket
}

type memBucket struct {
	b       Bucket
	keys    []string // sorted
	entries map[string]Entry
	uploads map[string]*memUpload
}

type memUpload struct {
	u     Upload
	parts map[int]Part
}

// NewMemIndex returns an empty MemIndex.
func NewMemIndex() *MemIndex {
	return &MemIndex{buckets: make(map[string]*memBucket)}
}

var _ Index = (*MemIndex)(nil)

func (m *MemIndex) bucket(name string) (*memBucket, error) {
	b, ok := m.buckets[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchBucket, name)
	}
	return b, nil
}

// ListBuckets implements Index.
func (m *MemIndex) ListBuckets(context.Context) ([]Bucket, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Bucket, 0, len(m.buckets))
	for _, b := range m.buckets {
		out = append(out, b.b)
	}
	slices.SortFunc(out, func(a, b Bucket) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// CreateBucket implements Index.
func (m *MemIndex) CreateBucket(_ context.Context, b Bucket) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.buckets[b.Name]; ok {
		return fmt.Errorf("%w: %s", ErrBucketExists, b.Name)
	}
	m.buckets[b.Name] = &memBucket{b: b, entries: make(map[string]Entry), uploads: make(map[string]*memUpload)}
	return nil
}

// DeleteBucket implements Index.
func (m *MemIndex) DeleteBucket(_ context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(name)
	if err != nil {
		return err
	}
	if len(b.keys) > 0 || len(b.uploads) > 0 {
		return fmt.Errorf("%w: %s", ErrBucketNotEmpty, name)
	}
	delete(m.buckets, name)
	return nil
}

// HeadBucket implements Index.
func (m *MemIndex) HeadBucket(_ context.Context, name string) (Bucket, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(name)
	if err != nil {
		return Bucket{}, err
	}
	return b.b, nil
}

// GetEntry implements Index.
func (m *MemIndex) GetEntry(_ context.Context, bucket, key string) (Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return Entry{}, err
	}
	e, ok := b.entries[key]
	if !ok {
		return Entry{}, fmt.Errorf("%w: %s", ErrNoSuchKey, key)
	}
	return cloneEntry(e), nil
}

func cloneEntry(e Entry) Entry {
	e.Metadata = slices.Clone(e.Metadata)
	return e
}

func (b *memBucket) put(e Entry) *Entry {
	old, ok := b.entries[e.Key]
	b.entries[e.Key] = cloneEntry(e)
	if ok {
		old = cloneEntry(old)
		return &old
	}
	i := sort.SearchStrings(b.keys, e.Key)
	b.keys = slices.Insert(b.keys, i, e.Key)
	return nil
}

// PutEntries implements Index.
func (m *MemIndex) PutEntries(_ context.Context, bucket string, entries []Entry) ([]*Entry, error) {
	if len(entries) > MaxBatch {
		return nil, fmt.Errorf("s3: %d entries in one batch, more than %d", len(entries), MaxBatch)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return nil, err
	}
	out := make([]*Entry, len(entries))
	for i, e := range entries {
		out[i] = b.put(e)
	}
	return out, nil
}

// DeleteKeys implements Index.
func (m *MemIndex) DeleteKeys(_ context.Context, bucket string, keys []string) ([]Entry, error) {
	if len(keys) > MaxBatch {
		return nil, fmt.Errorf("s3: %d keys in one batch, more than %d", len(keys), MaxBatch)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, k := range keys {
		e, ok := b.entries[k]
		if !ok {
			continue
		}
		delete(b.entries, k)
		i := sort.SearchStrings(b.keys, k)
		b.keys = slices.Delete(b.keys, i, i+1)
		out = append(out, e)
	}
	return out, nil
}

// List implements Index.
func (m *MemIndex) List(_ context.Context, bucket string, q ListQuery) (ListPage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return ListPage{}, err
	}
	return listSorted(b.keys, func(k string) Entry { return cloneEntry(b.entries[k]) }, q), nil
}

// listSorted applies ListQuery's rules to sorted keys, reading only the range the page
// needs. It is the reference the chain index's listing must agree with.
func listSorted(keys []string, entry func(string) Entry, q ListQuery) ListPage {
	if q.Max <= 0 {
		q.Max = 1000
	}
	start := q.Prefix
	skipUnder := ""
	if q.After >= start {
		start = q.After
		if q.Delimiter != "" && strings.HasPrefix(q.After, q.Prefix) && strings.HasSuffix(q.After, q.Delimiter) &&
			strings.Contains(q.After[len(q.Prefix):], q.Delimiter) {
			skipUnder = q.After
		}
	}
	i := sort.SearchStrings(keys, start)
	if i < len(keys) && keys[i] == q.After {
		i++
	}
	var page ListPage
	n := 0
	last := ""
	for ; i < len(keys); i++ {
		k := keys[i]
		if !strings.HasPrefix(k, q.Prefix) {
			break
		}
		if skipUnder != "" && strings.HasPrefix(k, skipUnder) {
			continue
		}
		if n == q.Max {
			page.Next = last
			return page
		}
		if q.Delimiter != "" {
			if j := strings.Index(k[len(q.Prefix):], q.Delimiter); j >= 0 {
				cp := k[:len(q.Prefix)+j+len(q.Delimiter)]
				page.CommonPrefixes = append(page.CommonPrefixes, cp)
				n++
				last = cp
				// Pass over every key under the common prefix.
				for i+1 < len(keys) && strings.HasPrefix(keys[i+1], cp) {
					i++
				}
				continue
			}
		}
		page.Entries = append(page.Entries, entry(k))
		n++
		last = k
	}
	return page
}

func (m *MemIndex) upload(bucket, id string) (*memBucket, *memUpload, error) {
	b, err := m.bucket(bucket)
	if err != nil {
		return nil, nil, err
	}
	u, ok := b.uploads[id]
	if !ok {
		return nil, nil, fmt.Errorf("%w: %s", ErrNoSuchUpload, id)
	}
	return b, u, nil
}

// CreateUpload implements Index.
func (m *MemIndex) CreateUpload(_ context.Context, bucket string, u Upload) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return err
	}
	if _, ok := b.uploads[u.ID]; ok {
		return fmt.Errorf("s3: upload %s exists", u.ID)
	}
	u.Metadata = slices.Clone(u.Metadata)
	b.uploads[u.ID] = &memUpload{u: u, parts: make(map[int]Part)}
	return nil
}

// GetUpload implements Index.
func (m *MemIndex) GetUpload(_ context.Context, bucket, uploadID string) (Upload, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, u, err := m.upload(bucket, uploadID)
	if err != nil {
		return Upload{}, err
	}
	out := u.u
	out.Metadata = slices.Clone(out.Metadata)
	return out, nil
}

// RecordPart implements Index.
func (m *MemIndex) RecordPart(_ context.Context, bucket, uploadID string, p Part) (*Part, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, u, err := m.upload(bucket, uploadID)
	if err != nil {
		return nil, err
	}
	old, ok := u.parts[p.Number]
	u.parts[p.Number] = p
	if ok {
		return &old, nil
	}
	return nil, nil
}

func sortedParts(u *memUpload) []Part {
	ps := make([]Part, 0, len(u.parts))
	for _, p := range u.parts {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b Part) int { return a.Number - b.Number })
	return ps
}

// ListParts implements Index.
func (m *MemIndex) ListParts(_ context.Context, bucket, uploadID string, after, max int) ([]Part, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, u, err := m.upload(bucket, uploadID)
	if err != nil {
		return nil, false, err
	}
	var out []Part
	for _, p := range sortedParts(u) {
		if p.Number <= after {
			continue
		}
		if len(out) == max {
			return out, true, nil
		}
		out = append(out, p)
	}
	return out, false, nil
}

// ListUploads implements Index.
func (m *MemIndex) ListUploads(_ context.Context, bucket string, q UploadQuery) ([]Upload, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, err := m.bucket(bucket)
	if err != nil {
		return nil, false, err
	}
	var all []Upload
	for _, u := range b.uploads {
		if strings.HasPrefix(u.u.Key, q.Prefix) {
			all = append(all, u.u)
		}
	}
	slices.SortFunc(all, func(a, b Upload) int {
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	var out []Upload
	for _, u := range all {
		if q.AfterKey != "" || q.AfterID != "" {
			if u.Key < q.AfterKey || (u.Key == q.AfterKey && (q.AfterID == "" || u.ID <= q.AfterID)) {
				continue
			}
		}
		if len(out) == q.Max {
			return out, true, nil
		}
		u.Metadata = slices.Clone(u.Metadata)
		out = append(out, u)
	}
	return out, false, nil
}

// CompleteUpload implements Index.
func (m *MemIndex) CompleteUpload(_ context.Context, bucket, uploadID string, e Entry) (*Entry, []Part, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, u, err := m.upload(bucket, uploadID)
	if err != nil {
		return nil, nil, err
	}
	if e.Key != u.u.Key {
		return nil, nil, fmt.Errorf("s3: completing upload %s of key %q as key %q", uploadID, u.u.Key, e.Key)
	}
	delete(b.uploads, uploadID)
	return b.put(e), sortedParts(u), nil
}

// AbortUpload implements Index.
func (m *MemIndex) AbortUpload(_ context.Context, bucket, uploadID string) ([]Part, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, u, err := m.upload(bucket, uploadID)
	if err != nil {
		return nil, err
	}
	delete(b.uploads, uploadID)
	return sortedParts(u), nil
}
