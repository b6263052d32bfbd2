package web

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"log/slog"
	"time"

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

// NewReference returns a short reference such as 7KQ2-M4XD-9PLA, easy to
// read out over the phone. Its first five characters are the minute it was
// made (they come round again every 63 years), the other seven 35 random
// bits: references made in the same minute share a prefix, so the index
// that finds a sign-in event by its reference is written in one small
// region instead of at a random page of every site's part
// (docs/PERFORMANCE.md).
func NewReference() string {
	return newReference(time.Now())
}

func newReference(now time.Time) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	minute := uint64(now.Unix()/60) & (1<<25 - 1)
	binary.BigEndian.PutUint64(b[:], minute<<39|binary.BigEndian.Uint64(b[:])>>25)
	s := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])[:12]
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
