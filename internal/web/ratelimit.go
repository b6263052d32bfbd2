package web

import (
	"net/http"
	"time"

	"github.com/go-chi/httprate"
)

// RateKey is the rate-limit key of a request: its site and its client
// address, an IPv6 client by its /64 (a client controls a whole /64).
func RateKey(r *http.Request) (string, error) {
	site, _ := SiteFrom(r.Context())
	return site.Name + "|" + httprate.CanonicalizeIP(ClientFrom(r.Context()).IP), nil
}

// RateLimit lets each client (RateKey) make requests per window through the
// routes it guards; the rest get the 429 page with message. The counters
// live in this process (httprate's memory store): behind a load balancer
// with N processes a client gets up to N times the limit. One middleware
// value shares one counter between every route it is used on.
func (rd *Renderer) RateLimit(requests int, window time.Duration, message string) func(http.Handler) http.Handler {
	return httprate.LimitBy(requests, window, RateKey,
		httprate.WithLimitHandler(func(w http.ResponseWriter, r *http.Request) {
			rd.Error(w, r, http.StatusTooManyRequests, "Too many sign-in attempts", message)
		}))
}
