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

// Budget is a rate limit charged only for what costs: each client
// (RateKey) may spend requests per window, and the handler decides what is
// charged. The sign-in budget is charged for sign-in starts, refused
// responses and unsolicited ones, but not for the answer to a request the
// client started, which it already paid for: a whole company behind one
// NAT address signing in at 9 a.m. spends one unit a person.
type Budget struct {
	limiter  *httprate.RateLimiter
	requests int
	render   *Renderer
	message  string
}

// Budget returns a budget of requests per window per client.
func (rd *Renderer) Budget(requests int, window time.Duration, message string) *Budget {
	return &Budget{limiter: httprate.NewRateLimiter(requests, window), requests: requests, render: rd, message: message}
}

// Limit charges every request through next and refuses those beyond the
// budget.
func (b *Budget) Limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b.Exhausted(w, r) {
			return
		}
		b.Charge(r)
		next.ServeHTTP(w, r)
	})
}

// Exhausted reports whether the request's client has spent its budget, and
// then answers the request (429, with Retry-After). It charges nothing.
func (b *Budget) Exhausted(w http.ResponseWriter, r *http.Request) bool {
	key, _ := RateKey(r)
	_, rate, err := b.limiter.Status(key)
	if err != nil || rate+1 <= float64(b.requests) {
		return false
	}
	w.Header().Set("Retry-After", "60")
	b.render.Error(w, r, http.StatusTooManyRequests, "Too many sign-in attempts", b.message)
	return true
}

// Charge spends one unit of the request's client's budget.
func (b *Budget) Charge(r *http.Request) {
	key, _ := RateKey(r)
	// OnLimit counts the request (unless the budget is spent) and sets
	// rate-limit headers, which go nowhere: the answer is the handler's.
	b.limiter.OnLimit(headerSink{}, r, key)
}

// headerSink is a ResponseWriter that keeps nothing.
type headerSink struct{}

func (headerSink) Header() http.Header         { return http.Header{} }
func (headerSink) Write(b []byte) (int, error) { return len(b), nil }
func (headerSink) WriteHeader(int)             {}
