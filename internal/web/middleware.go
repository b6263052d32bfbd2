package web

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"
)

// RequestIDs gives every request a reference, echoed in X-Request-ID, logged
// on every line and shown on error pages.
func RequestIDs(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := NewReference()
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
	})
}

// TrustedProxies holds the CIDRs of load balancers whose X-Forwarded-For and
// X-Forwarded-Proto headers are believed.
type TrustedProxies []netip.Prefix

// ParseTrustedProxies reads a comma-separated CIDR list (a bare address
// counts as /32 or /128).
func ParseTrustedProxies(s string) (TrustedProxies, error) {
	var out TrustedProxies
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !strings.Contains(part, "/") {
			addr, err := netip.ParseAddr(part)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: %w", part, err)
			}
			out = append(out, netip.PrefixFrom(addr, addr.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", part, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func (t TrustedProxies) trusts(ip string) bool {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, p := range t {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Clients records the client address and scheme. X-Forwarded-* headers count
// only when the peer is a trusted proxy; the client is then the right-most
// address in X-Forwarded-For that is not itself a trusted proxy, since
// everything left of it can be forged by the client.
func (t TrustedProxies) Clients(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			peer = r.RemoteAddr
		}
		c := Client{IP: peer, HTTPS: r.TLS != nil}
		if t.trusts(peer) {
			if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
				hops := strings.Split(strings.Join(xff, ","), ",")
				for i := len(hops) - 1; i >= 0; i-- {
					hop := strings.TrimSpace(hops[i])
					if _, err := netip.ParseAddr(hop); err != nil {
						break
					}
					c.IP = hop
					if !t.trusts(hop) {
						break
					}
				}
			}
			if proto := r.Header.Get("X-Forwarded-Proto"); proto != "" {
				c.HTTPS = strings.EqualFold(strings.TrimSpace(strings.Split(proto, ",")[0]), "https")
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientKey{}, c)))
	})
}

// Observer is told about every response once it is written: its status,
// its size and how long it took (the access log, the metrics).
type Observer func(r *http.Request, status, bytes int, elapsed time.Duration)

// Observe wraps each response once and tells every observer about it.
func Observe(observers ...Observer) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &statusWriter{ResponseWriter: w}
			next.ServeHTTP(sw, r)
			if sw.status == 0 {
				sw.status = http.StatusOK
			}
			elapsed := time.Since(start)
			for _, o := range observers {
				o(r, sw.status, sw.bytes, elapsed)
			}
		})
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (flushing
// server-sent events, deadlines).
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// AccessLog writes one structured line per request.
func AccessLog(log *slog.Logger) Observer {
	return func(r *http.Request, status, bytes int, elapsed time.Duration) {
		log.InfoContext(r.Context(), "request",
			"method", r.Method, "host", r.Host, "path", r.URL.Path,
			"status", status, "bytes", bytes,
			"duration_ms", elapsed.Milliseconds(),
			"client_ip", ClientFrom(r.Context()).IP)
	}
}

// Recover turns a panic into a logged error and the error page: a person
// never sees a stack trace or a blank 500.
func (rd *Renderer) Recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				rd.log.ErrorContext(r.Context(), "panic", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				rd.Error(w, r, http.StatusInternalServerError, "Something went wrong",
					"The portal could not complete this request. Please try again in a moment.")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// ContentSecurityPolicy allows no inline script or style anywhere, and forms
// only to the page's own origin: the portal's pages never post elsewhere
// (sign-in starts with a redirect, not a form; the development IdP's pages,
// which post to a site's ACS, set their own policy). Scripts may connect to
// the page's own origin only: the meeting page's event stream and its
// fetch() POSTs.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// SecurityHeaders sets the headers every response carries; HSTS only when
// the portal is served over https.
func SecurityHeaders(https bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Security-Policy", ContentSecurityPolicy)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "same-origin")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			if https {
				h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
			}
			next.ServeHTTP(w, r)
		})
	}
}

// Deadline gives every request d to do its work: the database calls it makes
// with the request's context give up then, and the page says to try again
// (ServerError answers 503), so a database that stops answering cannot hold
// requests, and the browsers behind them, for the whole outage. A handler
// that streams for longer (server-sent events, a WebSocket) takes
// StreamContext instead and bounds each step of its own work.
func Deadline(d time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), streamKey{}, r.Context()), d)
			defer cancel()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

type streamKey struct{}

// StreamContext is the request's context without Deadline's limit: it ends
// when the client goes away or the server shuts down, not after d. It is
// for responses that last (an event stream, a WebSocket), whose handler
// gives each database call a deadline of its own.
func StreamContext(r *http.Request) context.Context {
	if ctx, ok := r.Context().Value(streamKey{}).(context.Context); ok {
		// The values added after Deadline (the site, the user) are kept.
		return valuesOf{Context: ctx, values: r.Context()}
	}
	return r.Context()
}

// valuesOf is a context whose deadline and cancellation are Context's and
// whose values are those of values (a descendant of Context).
type valuesOf struct {
	context.Context
	values context.Context
}

func (v valuesOf) Value(key any) any { return v.values.Value(key) }

// MaxBodyBytes caps every request body. Forms are small; the largest legal
// bodies are a SAML response (256 KiB decoded, about 350 KiB as base64 in a
// form) and a metadata upload (1 MiB plus multipart overhead).
const MaxBodyBytes = 2 << 20

// LimitBodies caps request bodies at MaxBodyBytes.
func LimitBodies(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}
