// Package metrics exposes the portal's Prometheus metrics. They are served on
// their own listen address (PORTAL_METRICS_ADDR), never on customers' site
// hosts.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the collectors and the registry they live in.
type Metrics struct {
	Registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	// SignIns counts SAML sign-in outcomes by result and reason.
	SignIns *prometheus.CounterVec
	// AdminSignInFailures counts failed admin sign-ins; AdminLockouts the
	// lockouts they caused, distributed="true" when the failures came from
	// more than one address (guessing spread over many addresses).
	AdminSignInFailures prometheus.Counter
	AdminLockouts       *prometheus.CounterVec
}

// New registers the portal's collectors (and Go's runtime ones) in a fresh
// registry, so tests can make as many as they like.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_http_requests_total", Help: "HTTP requests by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "portal_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
		SignIns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_saml_signins_total", Help: "SAML sign-ins by result and reason.",
		}, []string{"result", "reason"}),
	}
	m.AdminSignInFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "portal_admin_signin_failures_total", Help: "Failed admin sign-ins (wrong e-mail address or password).",
	})
	m.AdminLockouts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "portal_admin_signin_lockouts_total",
		Help: "Admin accounts locked after repeated failed sign-ins; distributed=\"true\" when the failures came from several addresses.",
	}, []string{"distributed"})
	reg.MustRegister(m.requests, m.latency, m.SignIns, m.AdminSignInFailures, m.AdminLockouts,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// Observe records one request under its chi route pattern (never the raw
// path, which would let anyone create unbounded label values); it is a
// web.Observer.
func (m *Metrics) Observe(r *http.Request, status, _ int, elapsed time.Duration) {
	route := "unmatched"
	if rctx := chi.RouteContext(r.Context()); rctx != nil {
		if p := rctx.RoutePattern(); p != "" {
			route = p
		}
	}
	m.requests.WithLabelValues(route, r.Method, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route, r.Method).Observe(elapsed.Seconds())
}
