package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LogFormats are the values of PORTAL_LOG_FORMAT: json (one JSON object a
// line, for log collectors; the default) and text (short lines for a
// person watching a terminal, as `make run` uses).
var LogFormats = []string{"json", "text"}

// NewLogger returns the portal's log in format (one of LogFormats), at
// level Info, with the request ID of each request's lines.
func NewLogger(w io.Writer, format string) (*slog.Logger, error) {
	var h slog.Handler
	switch format {
	case "json", "":
		h = slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo})
	case "text":
		h = NewTextHandler(w, slog.LevelInfo)
	default:
		return nil, fmt.Errorf("log format %q: want json or text", format)
	}
	return slog.New(LogHandler{Handler: h}), nil
}

// TextHandler writes short lines meant to be read as they scroll by:
//
//	10:41:02 GET acme.localhost:8080/admin 200 3ms 4.1kB
//	10:41:05 WARN PORTAL_SMTP_URL is not set: … key=value
//
// The access log's records (message "request", see AccessLog) become the
// first form: what a developer looks for is the method, the address, the
// status and the time taken; the client address and request ID are left
// out. Every other record is its time, its level unless Info, its message
// and its attributes as key=value (values with spaces quoted).
type TextHandler struct {
	mu    *sync.Mutex
	w     io.Writer
	level slog.Leveler
	attrs []slog.Attr // from WithAttrs, with their group prefix applied
	group string      // prefix of later attributes, "a.b." or ""
}

// NewTextHandler returns a TextHandler writing records of level and above
// to w.
func NewTextHandler(w io.Writer, level slog.Leveler) *TextHandler {
	return &TextHandler{mu: &sync.Mutex{}, w: w, level: level}
}

// Enabled implements slog.Handler.
func (h *TextHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

// WithAttrs implements slog.Handler.
func (h *TextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), prefixed(h.group, attrs)...)
	return &c
}

// WithGroup implements slog.Handler.
func (h *TextHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.group = h.group + name + "."
	return &c
}

func prefixed(group string, attrs []slog.Attr) []slog.Attr {
	if group == "" {
		return attrs
	}
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = slog.Attr{Key: group + a.Key, Value: a.Value}
	}
	return out
}

// Handle implements slog.Handler.
func (h *TextHandler) Handle(_ context.Context, r slog.Record) error {
	attrs := append([]slog.Attr(nil), h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, prefixed(h.group, []slog.Attr{a})...)
		return true
	})
	var b strings.Builder
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	b.WriteString(t.Format("15:04:05"))
	if r.Message == "request" && r.Level == slog.LevelInfo && h.group == "" {
		writeRequest(&b, attrs)
	} else {
		if r.Level != slog.LevelInfo {
			b.WriteString(" " + r.Level.String())
		}
		b.WriteString(" " + r.Message)
		for _, a := range attrs {
			writeAttr(&b, "", a)
		}
	}
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.w, b.String())
	return err
}

// writeRequest writes an access-log record as "GET host/path 200 3ms 4.1kB".
func writeRequest(b *strings.Builder, attrs []slog.Attr) {
	get := func(key string) slog.Value {
		for _, a := range attrs {
			if a.Key == key {
				return a.Value.Resolve()
			}
		}
		return slog.StringValue("")
	}
	// A record that only looks like the access log's (the message
	// "request", numbers of another kind) must not panic the logger.
	number := func(key string) int64 {
		if v := get(key); v.Kind() == slog.KindInt64 {
			return v.Int64()
		}
		return 0
	}
	fmt.Fprintf(b, " %s %s%s %s %dms %s", get("method"), get("host"), get("path"), get("status"),
		number("duration_ms"), size(number("bytes")))
}

// size is a response size as a person reads it: 512B, 4.1kB, 2.3MB.
func size(n int64) string {
	switch {
	case n < 1000:
		return strconv.FormatInt(n, 10) + "B"
	case n < 1000*1000:
		return strconv.FormatFloat(float64(n)/1000, 'f', 1, 64) + "kB"
	default:
		return strconv.FormatFloat(float64(n)/1000/1000, 'f', 1, 64) + "MB"
	}
}

func writeAttr(b *strings.Builder, prefix string, a slog.Attr) {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range v.Group() {
			writeAttr(b, p, g)
		}
		return
	}
	if a.Equal(slog.Attr{}) {
		return
	}
	s := v.String()
	if s == "" || strings.ContainsAny(s, " \t\n\"=") {
		s = strconv.Quote(s)
	}
	b.WriteString(" " + prefix + a.Key + "=" + s)
}
