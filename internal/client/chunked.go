package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"sync/atomic"
	"time"

	"github.com/walrus-go/walrus/internal/chain"
	"github.com/walrus-go/walrus/internal/manifest"
	"github.com/walrus-go/walrus/internal/redstuff"
)

// DefaultMaxChunkSize caps the default chunk size. A chunk in the store pipeline costs
// several times its size in memory (the data, its encoding, the upload bodies), the
// pipeline holds two and tail uploads may still hold a third: with 16 MiB chunks a store
// of any file peaks at about 450 MiB of RSS on a 100-shard devnet (32 MiB chunks: about
// 750 MiB, with no gain in throughput).
const DefaultMaxChunkSize = 16 << 20

// DefaultChunkSize returns the default chunk size for a network whose maximum blob size
// is maxBlob: the largest power of two that is at most both maxBlob and
// DefaultMaxChunkSize (1 MiB at 10 shards, 16 MiB from about 20 shards on).
func DefaultChunkSize(maxBlob uint64) int64 {
	c := min(maxBlob, DefaultMaxChunkSize)
	if c == 0 {
		return 0
	}
	return int64(1) << (bits.Len64(c) - 1)
}

// FileResult describes a file stored as chunks (StoreResult.File): its size and
// SHA-256, and the blob of each chunk in order.
type FileResult struct {
	Size      uint64        `json:"size"`
	SHA256    string        `json:"sha256"`
	ChunkSize int64         `json:"chunkSize"`
	Chunks    []ChunkResult `json:"chunks"`
	// Cost is what the chunks' stores paid, in FROST without fees (the manifest's own
	// cost is in NewlyCreated).
	Cost uint64 `json:"chunksCost"`
}

// ChunkResult is one chunk of a stored file.
type ChunkResult struct {
	BlobID string `json:"blobId"`
	Size   uint64 `json:"size"`
	// Object is the Blob object created for the chunk (empty if it was already certified).
	Object string `json:"object,omitempty"`
}

// chunk is one chunk on its way through the store pipeline.
type chunk struct {
	data []byte
	eb   *redstuff.EncodedBlob
	err  error
}

// StoreFile stores what r yields. Up to the chunk size (StoreOptions.ChunkSize, default
// DefaultChunkSize) it is one blob, exactly as Store stores it. A larger file is cut into
// chunks, each stored as a blob of its own, and then a manifest blob (package manifest)
// listing them with the file's SHA-256 is stored; the result is the manifest's, with
// StoreResult.File set, and the manifest's blob ID stands for the file (OpenFile reads
// it back). Every part gets the same end epoch and persistence; each chunk gets a Blob
// object of its own even if the same content is already certified, so that deleting or
// extending one file never touches the chunks of another.
//
// Chunks go through a pipeline: the next chunk is read and encoded while the previous one
// is registered and uploaded, and at most two chunks (with their encodings) are held at
// once, so memory is bounded by the chunk size, not the file size. Tail uploads of
// earlier chunks go on in the background as after Store.
//
// If a chunk fails, the chunks stored before it stay stored until they expire (or are
// deleted) and the error names the chunk. A dry run encodes every chunk and returns the
// manifest's blob ID with the cost of all parts.
func (c *Client) StoreFile(ctx context.Context, r io.Reader, opts StoreOptions) (*StoreResult, error) {
	if c.closed.Load() {
		return nil, errors.New("client: closed")
	}
	params, err := c.chain.Params(ctx)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	enc, err := c.Encoding(int(params.NShards))
	if err != nil {
		return nil, err
	}
	maxBlob := enc.MaxBlobSize()
	size := opts.ChunkSize
	if size <= 0 {
		size = DefaultChunkSize(maxBlob)
	}
	size = min(size, int64(maxBlob))
	first := make([]byte, size)
	n, err := io.ReadFull(r, first)
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return c.Store(ctx, first[:n], opts)
	case err != nil:
		return nil, fmt.Errorf("client: reading the file: %w", err)
	}
	var peek [1]byte
	k, err := io.ReadFull(r, peek[:])
	switch {
	case k == 0 && errors.Is(err, io.EOF):
		return c.Store(ctx, first, opts)
	case err != nil:
		return nil, fmt.Errorf("client: reading the file: %w", err)
	}
	return c.storeChunked(ctx, io.MultiReader(bytesReader(first), bytesReader(peek[:])), r, size, maxBlob, enc, opts)
}

func bytesReader(b []byte) io.Reader { return &sliceReader{b: b} }

// sliceReader is a bytes.Reader that lets go of its slice at the end.
type sliceReader struct{ b []byte }

func (s *sliceReader) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		s.b = nil
		return 0, io.EOF
	}
	n := copy(p, s.b)
	s.b = s.b[n:]
	return n, nil
}

// storeChunked stores a file of more than one chunk: head (what was read to find out)
// and then rest.
func (c *Client) storeChunked(ctx context.Context, head, rest io.Reader, size int64, maxBlob uint64, enc *redstuff.Config, opts StoreOptions) (*StoreResult, error) {
	start := time.Now()
	if (opts.Share || opts.SendTo != chain.Address{}) && !opts.DryRun {
		return nil, fmt.Errorf("%w: a file stored as chunks cannot be shared or sent (only its manifest would be)", ErrInvalidOptions)
	}
	var requests atomic.Int64
	ctx = withCounter(ctx, &requests)
	// All parts end in the same epoch, whatever epoch changes happen during the store.
	sys, err := c.chain.System(ctx)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	params, err := c.chain.Params(ctx)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	epochs, err := opts.epochsAhead(sys.Epoch, params.MaxEpochsAhead)
	if err != nil {
		return nil, err
	}
	partOpts := opts
	partOpts.Epochs, partOpts.EndEpoch = 0, sys.Epoch+epochs
	chunkOpts := partOpts
	chunkOpts.Force = true
	maxChunks := min(manifest.MaxChunks, int((maxBlob-manifest.HeaderSize)/manifest.ChunkEntrySize))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The producer reads and encodes chunk i+1 while the consumer stores chunk i; the
	// channel is unbuffered, so at most two chunks exist at once.
	chunks := make(chan chunk)
	hash := sha256.New()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(chunks)
		r := io.MultiReader(head, rest)
		for i := 0; ; i++ {
			buf := make([]byte, size)
			n, err := io.ReadFull(r, buf)
			if n == 0 && errors.Is(err, io.EOF) {
				return
			}
			var ch chunk
			switch {
			case err != nil && !errors.Is(err, io.ErrUnexpectedEOF):
				ch.err = fmt.Errorf("client: reading chunk %d of the file: %w", i, err)
			case i >= maxChunks:
				ch.err = fmt.Errorf("%w: more than %d chunks of %d bytes; store with larger chunks", ErrTooLarge, maxChunks, size)
			default:
				ch.data = buf[:n]
				hash.Write(ch.data)
				if ch.eb, err = c.encoders.encode(enc, ch.data); err != nil {
					ch.err = fmt.Errorf("client: encoding chunk %d: %w", i, err)
				}
			}
			select {
			case chunks <- ch:
			case <-ctx.Done():
				return
			}
			if ch.err != nil || n < len(buf) {
				return
			}
		}
	}()
	defer func() { cancel(); <-done }()

	m := &manifest.Manifest{ChunkSize: uint64(size)}
	file := &FileResult{ChunkSize: size}
	var total StoreStats
	var dryEncoded, dryStorage, dryWrite uint64
	for ch := range chunks {
		i := len(m.Chunks)
		if ch.err != nil {
			return nil, ch.err
		}
		res, err := c.store(ctx, ch.data, ch.eb, chunkOpts)
		if err != nil {
			return nil, fmt.Errorf("client: storing chunk %d (%d bytes at offset %d): %w", i, len(ch.data), int64(i)*size, err)
		}
		addStats(&total, res.Stats)
		id, err := redstuff.ParseBlobID(res.BlobID())
		if err != nil {
			return nil, fmt.Errorf("client: chunk %d: %w", i, err)
		}
		cr := ChunkResult{BlobID: res.BlobID(), Size: uint64(len(ch.data))}
		switch {
		case res.NewlyCreated != nil:
			cr.Object = res.NewlyCreated.BlobObject.ID
			file.Cost += res.NewlyCreated.Cost
		case res.DryRun != nil:
			dryEncoded += res.DryRun.EncodedSize
			dryStorage += res.DryRun.StorageCost
			dryWrite += res.DryRun.WriteCost
		}
		file.Chunks = append(file.Chunks, cr)
		m.Chunks = append(m.Chunks, manifest.Chunk{BlobID: id, Size: cr.Size})
		m.Size += cr.Size
		c.log.Debug("client: chunk stored", "chunk", i, "blob", cr.BlobID, "bytes", cr.Size)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	copy(m.Hash[:], hash.Sum(nil))
	file.Size, file.SHA256 = m.Size, hex.EncodeToString(m.Hash[:])
	b, err := m.Encode()
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	res, err := c.store(ctx, b, nil, partOpts)
	if err != nil {
		return nil, fmt.Errorf("client: storing the manifest of %d chunks: %w", len(m.Chunks), err)
	}
	addStats(&total, res.Stats)
	if res.DryRun != nil {
		res.DryRun.UnencodedSize = m.Size
		res.DryRun.EncodedSize += dryEncoded
		res.DryRun.StorageCost += dryStorage
		res.DryRun.WriteCost += dryWrite
	}
	res.File = file
	res.Stats = total
	res.Stats.HTTPRequests = requests.Load()
	res.Stats.Total = time.Since(start)
	return res, nil
}

// addStats adds the durations and counts of one part's store to a file's.
func addStats(to *StoreStats, s StoreStats) {
	to.Encode += s.Encode
	to.Check += s.Check
	to.Register += s.Register
	to.Upload += s.Upload
	to.Certify += s.Certify
	to.Transactions += s.Transactions
	to.SliverUploads += s.SliverUploads
	to.PairsUploaded += s.PairsUploaded
	to.UploadsBehind += s.UploadsBehind
	to.EpochChanges += s.EpochChanges
	to.Nodes, to.ConfirmedWeight, to.TailNodes = s.Nodes, s.ConfirmedWeight, s.TailNodes
}
