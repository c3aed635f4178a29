package daemon

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/walrus-go/walrus/internal/redstuff"
	sn "github.com/walrus-go/walrus/internal/storagenode"
	"github.com/walrus-go/walrus/internal/storagenode/store"
)

// Stats are the daemon's counters since it started, for tests and tools; the same values
// are exported as Prometheus metrics.
type Stats struct {
	// IngestBytes and ServedBytes count request body bytes of uploads (PUT, POST) and
	// response bytes of reads (GET, and shard sync answers) of the node REST API.
	IngestBytes, ServedBytes int64

	// RecoveryDownloadedBytes counts every response byte received from peers while
	// recovering blobs (blob sync and shard recovery): metadata and recovery symbols.
	RecoveryDownloadedBytes int64
	// RecoveryMetadataBytes counts the metadata responses among them.
	RecoveryMetadataBytes int64
	// RecoverySymbolBytes counts the symbol data of the recovery symbols received.
	// Symbols come without proofs (bare); RecoveryFramingBytes counts the rest of those
	// answers (counts, sizes, bitmaps of the symbols served). RecoveryProofBytes counts
	// the rest of the encoding (Merkle proofs, indices) of symbols fetched with proofs,
	// which happens only when a rebuilt sliver does not match its hash (a lying peer or
	// an inconsistent blob); RecoveryProofRounds counts those rounds.
	RecoverySymbolBytes, RecoveryFramingBytes, RecoveryProofBytes, RecoveryProofRounds int64
	// RecoveredBytes counts the symbol bytes of the slivers rebuilt and stored, and
	// RecoveredSlivers their number.
	RecoveredBytes, RecoveredSlivers int64

	// ShardSyncBytes counts response bytes of shard sync requests; ShardSyncSlivers the
	// slivers received that way and stored.
	ShardSyncBytes, ShardSyncSlivers int64

	// BadPeerResponses counts answers of other nodes that failed verification (bad
	// metadata, symbols, slivers or signatures).
	BadPeerResponses int64
	// BlobSyncsDone counts blobs whose sync completed; BlobSyncsPending is the number of
	// blobs queued or being synced.
	BlobSyncsDone, BlobSyncsPending int64
	// BlobSyncsDeferred counts blob syncs put off for a client's upload of the blob to
	// this node: in progress, just ended, or expected right after the certificate
	// (Config.IngestQuiet).
	BlobSyncsDeferred int64
	// InvalidBlobsSubmitted counts invalid-blob certificates the node submitted.
	InvalidBlobsSubmitted int64
	// EpochSyncsSubmitted counts EpochSyncDone transactions the node submitted.
	EpochSyncsSubmitted int64
	// GCRuns counts completed garbage collections; GCBlobs the blobs whose data they
	// deleted.
	GCRuns, GCBlobs int64
	// EventLag is the number of chain events not yet applied, as last measured.
	EventLag int64
}

// counters holds the Stats; every field is updated atomically.
type counters struct {
	ingest, served                                    atomic.Int64
	recDownloaded, recMetadata, recSymbols, recProofs atomic.Int64
	recFraming, recProofRounds                        atomic.Int64
	recovered, recoveredSlivers                       atomic.Int64
	syncBytes, syncSlivers                            atomic.Int64
	bad                                               atomic.Int64
	blobsDone, blobsPending, blobsDeferred            atomic.Int64
	invalidated, epochSyncs                           atomic.Int64
	gcRuns, gcBlobs                                   atomic.Int64
	eventLag, cursor, epoch                           atomic.Int64
}

func (c *counters) stats() Stats {
	return Stats{
		IngestBytes: c.ingest.Load(), ServedBytes: c.served.Load(),
		RecoveryDownloadedBytes: c.recDownloaded.Load(), RecoveryMetadataBytes: c.recMetadata.Load(),
		RecoverySymbolBytes: c.recSymbols.Load(), RecoveryProofBytes: c.recProofs.Load(),
		RecoveryFramingBytes: c.recFraming.Load(), RecoveryProofRounds: c.recProofRounds.Load(),
		RecoveredBytes: c.recovered.Load(), RecoveredSlivers: c.recoveredSlivers.Load(),
		ShardSyncBytes: c.syncBytes.Load(), ShardSyncSlivers: c.syncSlivers.Load(),
		BadPeerResponses: c.bad.Load(), BlobSyncsDone: c.blobsDone.Load(), BlobSyncsPending: c.blobsPending.Load(),
		BlobSyncsDeferred:     c.blobsDeferred.Load(),
		InvalidBlobsSubmitted: c.invalidated.Load(), EpochSyncsSubmitted: c.epochSyncs.Load(),
		GCRuns: c.gcRuns.Load(), GCBlobs: c.gcBlobs.Load(), EventLag: c.eventLag.Load(),
	}
}

// metrics are the Prometheus metrics of one daemon, registered on its own registry.
type metrics struct {
	reg    *prometheus.Registry
	ingest *prometheus.CounterVec
	served *prometheus.CounterVec
	bad    *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry, c *counters, node *sn.Node) *metrics {
	m := &metrics{
		reg: reg,
		ingest: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "walrus_node_ingest_bytes_total", Help: "Request body bytes of uploads to the node REST API, by endpoint.",
		}, []string{"endpoint"}),
		served: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "walrus_node_served_bytes_total", Help: "Response bytes of reads from the node REST API, by endpoint.",
		}, []string{"endpoint"}),
		bad: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "walrus_node_bad_peer_responses_total", Help: "Answers of other storage nodes that failed verification, by kind.",
		}, []string{"kind"}),
	}
	counter := func(name, help string, v *atomic.Int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v.Load()) })
	}
	gauge := func(name, help string, v *atomic.Int64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return float64(v.Load()) })
	}
	reg.MustRegister(m.ingest, m.served, m.bad,
		counter("walrus_node_recovery_downloaded_bytes_total", "Bytes downloaded from peers to recover blobs (metadata and recovery symbols).", &c.recDownloaded),
		counter("walrus_node_recovery_metadata_bytes_total", "Bytes of metadata downloaded from peers to recover blobs.", &c.recMetadata),
		counter("walrus_node_recovery_symbol_bytes_total", "Symbol data bytes of the recovery symbols received.", &c.recSymbols),
		counter("walrus_node_recovery_proof_bytes_total", "Merkle proof and index bytes of recovery symbols fetched with proofs (only after a rebuilt sliver did not match its hash).", &c.recProofs),
		counter("walrus_node_recovery_framing_bytes_total", "Framing bytes (counts, sizes, bitmaps) of the recovery symbols received without proofs.", &c.recFraming),
		counter("walrus_node_recovery_proof_rounds_total", "Rounds of proof fetching after a rebuilt sliver did not match its hash.", &c.recProofRounds),
		counter("walrus_node_recovered_bytes_total", "Sliver bytes rebuilt from recovery symbols and stored.", &c.recovered),
		counter("walrus_node_recovered_slivers_total", "Slivers rebuilt from recovery symbols and stored.", &c.recoveredSlivers),
		counter("walrus_node_shard_sync_bytes_total", "Bytes received from previous shard owners by shard sync.", &c.syncBytes),
		counter("walrus_node_shard_sync_slivers_total", "Slivers received by shard sync and stored.", &c.syncSlivers),
		counter("walrus_node_blob_syncs_total", "Blob syncs completed.", &c.blobsDone),
		counter("walrus_node_blob_syncs_deferred_total", "Blob syncs put off for a client's upload of the blob to this node (in progress, just ended, or expected just after the certificate).", &c.blobsDeferred),
		gauge("walrus_node_blob_syncs_pending", "Blobs queued or being synced.", &c.blobsPending),
		counter("walrus_node_invalid_blob_certificates_total", "Invalid-blob certificates submitted.", &c.invalidated),
		counter("walrus_node_epoch_sync_done_total", "EpochSyncDone transactions submitted.", &c.epochSyncs),
		counter("walrus_node_gc_runs_total", "Garbage collections completed.", &c.gcRuns),
		counter("walrus_node_gc_blobs_total", "Blobs whose data garbage collection deleted.", &c.gcBlobs),
		gauge("walrus_node_event_lag", "Chain events not yet applied (measured every 10 s).", &c.eventLag),
		gauge("walrus_node_event_cursor", "Sequence number of the next chain event to apply.", &c.cursor),
		gauge("walrus_node_epoch", "Current epoch as the node knows it.", &c.epoch),
		shardCollector{node},
	)
	return m
}

func (m *metrics) badResponse(c *counters, kind string) {
	c.bad.Add(1)
	m.bad.WithLabelValues(kind).Inc()
}

// badPeer counts n bad answers of one kind from a peer and logs them once: a peer whose
// answers fail verification is faulty or lying, which an operator wants to see.
func (d *Daemon) badPeer(kind, peer string, blob redstuff.BlobID, n int, err error) {
	for range n {
		d.metrics.badResponse(&d.counters, kind)
	}
	d.log.Warn("a peer's answer failed verification", "kind", kind, "peer", peer, "blob", blob, "count", n, "err", err)
}

// shardCollector exports the number of shards in each status.
type shardCollector struct{ node *sn.Node }

var shardDesc = prometheus.NewDesc("walrus_node_shards", "Shards the node holds, by status.", []string{"status"}, nil)

func (s shardCollector) Describe(ch chan<- *prometheus.Desc) { ch <- shardDesc }

func (s shardCollector) Collect(ch chan<- prometheus.Metric) {
	counts := map[store.ShardStatus]int{}
	for _, sh := range s.node.Shards() {
		counts[sh.Status]++
	}
	for _, st := range []store.ShardStatus{store.ShardActive, store.ShardActiveSync, store.ShardActiveRecover, store.ShardLockedToMove} {
		ch <- prometheus.MustNewConstMetric(shardDesc, prometheus.GaugeValue, float64(counts[st]), st.String())
	}
}

// endpointOf names the API endpoint of a request path for the byte counters.
func endpointOf(path string) string {
	switch {
	case strings.HasPrefix(path, "/v1/migrate/"):
		return "sync_shard"
	case strings.HasPrefix(path, "/v1/challenges/"):
		return "challenges"
	case !strings.HasPrefix(path, "/v1/blobs/"):
		return "other"
	case strings.Contains(path, "/recoverySymbols"):
		return "recovery_symbols"
	case strings.Contains(path, "/slivers"):
		return "slivers"
	case strings.Contains(path, "/metadata"):
		return "metadata"
	}
	return "other"
}

// countBytes wraps the node API handler to count upload and served bytes.
func countBytes(h http.Handler, m *metrics, c *counters) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ep := endpointOf(r.URL.Path)
		if r.Method == http.MethodPut || r.Method == http.MethodPost {
			r.Body = &countingBody{ReadCloser: r.Body, n: func(k int) {
				c.ingest.Add(int64(k))
				m.ingest.WithLabelValues(ep).Add(float64(k))
			}}
		}
		serve := r.Method == http.MethodGet || ep == "sync_shard" || ep == "challenges"
		if serve {
			w = &countingWriter{ResponseWriter: w, n: func(k int) {
				c.served.Add(int64(k))
				m.served.WithLabelValues(ep).Add(float64(k))
			}}
		}
		h.ServeHTTP(w, r)
	})
}

type countingBody struct {
	io.ReadCloser
	n func(int)
}

func (b *countingBody) Read(p []byte) (int, error) {
	k, err := b.ReadCloser.Read(p)
	if k > 0 {
		b.n(k)
	}
	return k, err
}

type countingWriter struct {
	http.ResponseWriter
	n func(int)
}

func (w *countingWriter) Write(p []byte) (int, error) {
	k, err := w.ResponseWriter.Write(p)
	if k > 0 {
		w.n(k)
	}
	return k, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// byteCounter in a request context makes the peer transport count the response bytes.
type byteCounterKey struct{}

func withByteCounter(ctx context.Context, counters ...*atomic.Int64) context.Context {
	return context.WithValue(ctx, byteCounterKey{}, counters)
}

// countingTransport counts the response body bytes of requests whose context carries
// byte counters (withByteCounter).
type countingTransport struct{ base http.RoundTripper }

func (t countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp == nil {
		return resp, err
	}
	if cs, ok := req.Context().Value(byteCounterKey{}).([]*atomic.Int64); ok && len(cs) > 0 {
		resp.Body = &countingBody{ReadCloser: resp.Body, n: func(k int) {
			for _, c := range cs {
				c.Add(int64(k))
			}
		}}
	}
	return resp, nil
}
