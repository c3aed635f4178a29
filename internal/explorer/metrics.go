package explorer

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/walrus-go/walrus/internal/netmetrics"
)

// maxMetricsBytes bounds one node's metrics page.
const maxMetricsBytes = 4 << 20

// The storage node counters recovery bandwidth is computed from.
const (
	metricRecoveryDownloaded = "walrus_node_recovery_downloaded_bytes_total"
	metricRecovered          = "walrus_node_recovered_bytes_total"
	// metricGatewayDuration is the gateway's request duration histogram, by route.
	metricGatewayDuration = "walrus_gateway_request_duration_seconds"
)

// scrapeNodes sums the recovery counters of every NodeMetrics URL.
func (x *Explorer) scrapeNodes(ctx context.Context) {
	if len(x.cfg.NodeMetrics) == 0 {
		return
	}
	var r recovery
	for _, u := range x.cfg.NodeMetrics {
		fams, err := x.scrape(ctx, u)
		if err != nil {
			r.Failed++
			x.cfg.Logger.Debug("explorer: scraping node metrics", "url", u, "err", err)
			continue
		}
		r.Scraped++
		r.Downloaded += uint64(sumFamily(fams[metricRecoveryDownloaded]))
		r.Recovered += uint64(sumFamily(fams[metricRecovered]))
	}
	x.mu.Lock()
	x.recovery = r
	x.mu.Unlock()
}

func (x *Explorer) scrape(ctx context.Context, u string) (map[string]*dto.MetricFamily, error) {
	ctx, cancel := context.WithTimeout(ctx, x.cfg.NodeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/plain")
	resp, err := x.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(io.LimitReader(resp.Body, maxMetricsBytes))
}

// sumFamily adds up the values of a counter or gauge family's samples.
func sumFamily(f *dto.MetricFamily) float64 {
	if f == nil {
		return 0
	}
	var s float64
	for _, m := range f.GetMetric() {
		switch {
		case m.GetCounter() != nil:
			s += m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			s += m.GetGauge().GetValue()
		case m.GetUntyped() != nil:
			s += m.GetUntyped().GetValue()
		}
	}
	if math.IsNaN(s) || s < 0 {
		return 0
	}
	return s
}

// Latency is the percentiles of one kind of gateway request, in seconds (null: no requests
// yet, or no gateway metrics).
type Latency struct {
	Count uint64   `json:"count"`
	P50   *float64 `json:"p50Seconds"`
	P99   *float64 `json:"p99Seconds"`
}

// readRoutes and writeRoutes are the gateway routes counted as reads and writes.
var (
	readRoutes  = map[string]bool{"read": true, "read_by_object": true, "read_byte_range": true, "read_stream": true, "read_concat": true}
	writeRoutes = map[string]bool{"store": true}
)

// latencies returns the read and write latency seen by the gateway.
func (x *Explorer) latencies() (read, write Latency) {
	if x.cfg.Gateway == nil {
		return
	}
	fams, err := x.cfg.Gateway.Gather()
	if err != nil {
		return
	}
	for _, f := range fams {
		if f.GetName() != metricGatewayDuration {
			continue
		}
		read = histogramLatency(f, func(route string) bool { return readRoutes[route] })
		write = histogramLatency(f, func(route string) bool { return writeRoutes[route] })
	}
	return
}

// histogramLatency merges the histograms of the routes that match and takes p50 and p99.
func histogramLatency(f *dto.MetricFamily, match func(string) bool) Latency {
	byBound := map[float64]uint64{}
	var count uint64
	for _, m := range f.GetMetric() {
		route := ""
		for _, l := range m.GetLabel() {
			if l.GetName() == "route" {
				route = l.GetValue()
			}
		}
		h := m.GetHistogram()
		if h == nil || !match(route) {
			continue
		}
		count += h.GetSampleCount()
		for _, b := range h.GetBucket() {
			byBound[b.GetUpperBound()] += b.GetCumulativeCount()
		}
	}
	l := Latency{Count: count}
	if count == 0 {
		return l
	}
	buckets := make([]netmetrics.Bucket, 0, len(byBound)+1)
	for ub, c := range byBound {
		buckets = append(buckets, netmetrics.Bucket{UpperBound: ub, Count: c})
	}
	buckets = append(buckets, netmetrics.Bucket{UpperBound: math.Inf(1), Count: count})
	p50, p99 := netmetrics.Percentile(0.5, buckets, count), netmetrics.Percentile(0.99, buckets, count)
	l.P50, l.P99 = &p50, &p99
	return l
}

// promCollector exports the explorer's metrics.
type promCollector struct{ x *Explorer }

var (
	descStoredBlobs   = prometheus.NewDesc("walrus_network_stored_blobs", "Live blob objects (registered, not deleted or expired).", nil, nil)
	descStoredBytes   = prometheus.NewDesc("walrus_network_stored_bytes", "Unencoded bytes of live blobs.", nil, nil)
	descEncodedBytes  = prometheus.NewDesc("walrus_network_encoded_bytes", "Encoded bytes of live blobs (slivers and metadata).", nil, nil)
	descOverhead      = prometheus.NewDesc("walrus_network_replication_overhead", "Encoded bytes per unencoded byte stored.", nil, nil)
	descMetadataShare = prometheus.NewDesc("walrus_network_metadata_share", "Share of encoded bytes that are metadata copies.", nil, nil)
	descNakamoto      = prometheus.NewDesc("walrus_network_nakamoto_coefficient", "Fewest operators holding more than one third, by stake or by shards.", []string{"by"}, nil)
	descHHI           = prometheus.NewDesc("walrus_network_hhi", "Herfindahl-Hirschman index (0-10000) of operators' stake or shards.", []string{"by"}, nil)
	descGini          = prometheus.NewDesc("walrus_network_gini", "Gini coefficient of operators' stake or shards.", []string{"by"}, nil)
	descLargest       = prometheus.NewDesc("walrus_network_largest_operator_share", "The largest operator's share of stake or shards.", []string{"by"}, nil)
	descChurn         = prometheus.NewDesc("walrus_network_shards_moved", "Shards whose node changed at the start of the current epoch.", nil, nil)
	descEpoch         = prometheus.NewDesc("walrus_network_epoch", "The current epoch.", nil, nil)
	descNodeUp        = prometheus.NewDesc("walrus_network_node_up", "1 if the committee member answered the last health sample.", []string{"node_id", "name"}, nil)
	descNodeUptime    = prometheus.NewDesc("walrus_network_node_uptime_ratio", "Share of health samples the committee member answered.", []string{"node_id", "name"}, nil)
	descHolderBytes   = prometheus.NewDesc("walrus_network_holder_bytes", "Unencoded bytes of live blobs owned by one of the ten largest holders.", []string{"address"}, nil)
	descHolderBlobs   = prometheus.NewDesc("walrus_network_holder_blobs", "Live blobs owned by one of the ten largest holders (by bytes).", []string{"address"}, nil)
	descHolders       = prometheus.NewDesc("walrus_network_holders", "Accounts owning live blobs.", nil, nil)
	descRecovery      = prometheus.NewDesc("walrus_network_recovery_bytes_per_lost_byte", "Bytes downloaded by nodes to recover per sliver byte recovered.", nil, nil)
)

func (c promCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descStoredBlobs, descStoredBytes, descEncodedBytes, descOverhead, descMetadataShare,
		descNakamoto, descHHI, descGini, descLargest, descChurn, descEpoch, descNodeUp, descNodeUptime, descRecovery,
		descHolderBytes, descHolderBlobs, descHolders} {
		ch <- d
	}
}

func (c promCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.x.cfg.NodeTimeout)
	defer cancel()
	ov, err := c.x.overview(ctx)
	if err != nil {
		return
	}
	g := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	g(descEpoch, float64(ov.Epoch))
	g(descStoredBlobs, float64(ov.Stored.Blobs))
	g(descStoredBytes, float64(ov.Stored.Bytes))
	g(descEncodedBytes, float64(ov.Stored.EncodedBytes))
	g(descOverhead, ov.Overhead.Factor)
	g(descMetadataShare, ov.Overhead.MetadataShare)
	for by, cn := range map[string]Concentrations{"stake": {ov.Stake}, "shards": {ov.Shards}} {
		g(descNakamoto, float64(cn.C.Nakamoto), by)
		g(descHHI, cn.C.HHI, by)
		g(descGini, cn.C.Gini, by)
		g(descLargest, cn.C.LargestShare, by)
	}
	g(descHolders, float64(ov.Holders))
	for _, h := range ov.LargestHolders {
		g(descHolderBytes, float64(h.Bytes), h.Address)
		g(descHolderBlobs, float64(h.Blobs), h.Address)
	}
	g(descChurn, float64(ov.ShardsMoved))
	g(descRecovery, ov.Recovery.PerLostByte)
	for _, n := range ov.Committee {
		up := 0.0
		if n.Up {
			up = 1
		}
		g(descNodeUp, up, n.NodeID, n.Name)
		g(descNodeUptime, n.Uptime, n.NodeID, n.Name)
	}
}

// Concentrations wraps one distribution for the exporter.
type Concentrations struct{ C netmetrics.Concentration }
