package web

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"log/slog"

	"github.com/meetings-portal/portal/internal/sites"
)

type siteKey struct{}
type requestIDKey struct{}
type clientKey struct{}

// WithSite records the site a request is for.
func WithSite(ctx context.Context, site sites.Site) context.Context {
	return context.WithValue(ctx, siteKey{}, site)
}

// SiteFrom returns the request's site, resolved from its Host header.
func SiteFrom(ctx context.Context) (sites.Site, bool) {
	s, ok := ctx.Value(siteKey{}).(sites.Site)
	return s, ok
}

// RequestID returns the request's ID, shown to people as a reference.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// NewReference returns a short random reference such as 7KQ2-M4XD-9PLA,
// easy to read out over the phone.
func NewReference() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	s := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)[:12]
	return s[:4] + "-" + s[4:8] + "-" + s[8:12]
}

// Client is where a request came from, after trusted proxies.
type Client struct {
	IP    string
	HTTPS bool
}

// ClientFrom returns the request's client address and scheme.
func ClientFrom(ctx context.Context) Client {
	c, _ := ctx.Value(clientKey{}).(Client)
	return c
}

// LogHandler adds the request ID to every log line written with a request's
// context.
type LogHandler struct{ slog.Handler }

// Handle implements slog.Handler.
func (h LogHandler) Handle(ctx context.Context, rec slog.Record) error {
	if id := RequestID(ctx); id != "" {
		rec.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, rec)
}

// WithAttrs implements slog.Handler.
func (h LogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return LogHandler{h.Handler.WithAttrs(attrs)}
}

// WithGroup implements slog.Handler.
func (h LogHandler) WithGroup(name string) slog.Handler {
	return LogHandler{h.Handler.WithGroup(name)}
}
