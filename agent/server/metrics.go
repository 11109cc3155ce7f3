package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the agent's Prometheus series, on a registry of its own (no
// global state, so several servers can live in one test process).
type metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	attestations *prometheus.CounterVec
	tsmDuration  prometheus.Histogram
	inFlight     prometheus.Gauge
	waiting      prometheus.Gauge
	handshakes   *prometheus.CounterVec
	upstreamErrs *prometheus.CounterVec
}

func newMetrics(version, platform string, fake bool) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cube_agent_http_requests_total",
		Help: "HTTP requests served, by handler and status code.",
	}, []string{"handler", "code"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "cube_agent_http_request_duration_seconds",
		Help:    "Time to serve a request (for the proxy: until the backend's response ends).",
		Buckets: []float64{.001, .005, .01, .05, .1, .5, 1, 5, 15, 60, 300},
	}, []string{"handler"})
	m.attestations = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cube_agent_attestations_total",
		Help: "Attestation reports requested, by outcome (ok, error, busy, unavailable).",
	}, []string{"result"})
	m.tsmDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "cube_agent_tsm_report_duration_seconds",
		Help:    "Time the TSM took to produce a report or quote.",
		Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	})
	m.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "cube_agent_attestations_in_flight",
		Help: "Reports being generated now.",
	})
	m.waiting = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "cube_agent_attestations_waiting",
		Help: "Attestation requests waiting for a slot.",
	})
	m.handshakes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cube_agent_atls_handshakes_total",
		Help: "Attested TLS certificates served, by outcome.",
	}, []string{"result"})
	m.upstreamErrs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cube_agent_proxy_errors_total",
		Help: "Proxied requests that failed, by reason (backend, canceled, too_large, timeout).",
	}, []string{"reason"})
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "cube_agent_build_info",
		Help:        "Always 1; labels say which agent this is.",
		ConstLabels: prometheus.Labels{"version": version, "platform": platform, "fake_tsm": strconv.FormatBool(fake)},
	})
	info.Set(1)
	m.reg.MustRegister(m.requests, m.duration, m.attestations, m.tsmDuration, m.inFlight, m.waiting,
		m.handshakes, m.upstreamErrs, info,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// instrument counts and times requests to h under a handler label.
func (m *metrics) instrument(name string, h http.Handler) http.Handler {
	dur := m.duration.WithLabelValues(name)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		code := rec.code
		if code == 0 {
			code = http.StatusOK
		}
		m.requests.WithLabelValues(name, strconv.Itoa(code)).Inc()
		dur.Observe(time.Since(start).Seconds())
	})
}

// recorder notes the status code and passes everything else through,
// including Flush (streaming) and Unwrap (http.ResponseController).
type recorder struct {
	http.ResponseWriter
	code  int
	bytes int64
}

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
