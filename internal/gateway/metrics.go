package gateway

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/walrus-go/walrus/internal/client"
)

// metrics are the handler's Prometheus metrics; with no registerer they are kept but not
// exported.
type metrics struct {
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	inFlight    *prometheus.GaugeVec
	readBytes   prometheus.Gauge
	bytesStored prometheus.Counter
	bytesRead   prometheus.Counter
}

// badCounter is implemented by *client.Client: counts of storage node answers that failed
// verification.
type badCounter interface {
	BadResponses() client.BadResponses
}

func newMetrics(reg prometheus.Registerer, blobs any) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "walrus", Subsystem: "gateway", Name: "requests_total",
			Help: "HTTP requests served, by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "walrus", Subsystem: "gateway", Name: "request_duration_seconds",
			Help:    "Time to serve a request, by route.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"route"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "walrus", Subsystem: "gateway", Name: "in_flight",
			Help: "Requests being served: stores (holding a store slot), reads, store bodies being received (body), and stores waiting for room in the store memory (memory).",
		}, []string{"kind"}),
		readBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "walrus", Subsystem: "gateway", Name: "read_buffer_bytes",
			Help: "Bytes of blob rows that reads in flight have reserved (bounded by the read buffer).",
		}),
		bytesStored: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "walrus", Subsystem: "gateway", Name: "stored_bytes_total",
			Help: "Bytes of blobs stored.",
		}),
		bytesRead: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "walrus", Subsystem: "gateway", Name: "read_bytes_total",
			Help: "Bytes of blobs read.",
		}),
	}
	collectors := []prometheus.Collector{m.requests, m.duration, m.inFlight, m.readBytes, m.bytesStored, m.bytesRead}
	if bc, ok := blobs.(badCounter); ok {
		for kind, get := range map[string]func(client.BadResponses) int64{
			"metadata": func(b client.BadResponses) int64 { return b.Metadata },
			"sliver":   func(b client.BadResponses) int64 { return b.Slivers },
		} {
			collectors = append(collectors, prometheus.NewCounterFunc(prometheus.CounterOpts{
				Namespace: "walrus", Subsystem: "client", Name: "bad_node_responses_total",
				Help:        "Storage node answers that failed verification, by kind.",
				ConstLabels: prometheus.Labels{"kind": kind},
			}, func() float64 { return float64(get(bc.BadResponses())) }))
		}
	}
	if reg != nil {
		for _, c := range collectors {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

func (m *metrics) observe(route string, code int, start time.Time) {
	m.requests.WithLabelValues(route, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
}
