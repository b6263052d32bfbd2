package web

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// MaxQuoted is how much of a value from outside (a claim, a header) a
// message quotes; MaxLogged is how long any one value of a log line may be.
const (
	MaxQuoted = 128
	MaxLogged = 2048
)

// Shorten makes s safe to write in a log line or a stored event: valid
// UTF-8 without NUL, and at most max bytes, cut on a rune boundary and
// marked with the whole length. A value the sender chose (a 6,000-character
// uid) is then never written whole, however many times it is logged.
func Shorten(s string, max int) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
	if len(s) <= max {
		return s
	}
	mark := fmt.Sprintf("… (%d bytes)", len(s))
	cut := max - len(mark)
	if cut < 0 {
		cut = 0
	}
	return strings.ToValidUTF8(s[:cut], "") + mark
}

// ShortValues wraps a log handler so that every string value of every line
// is Shorten-ed to MaxLogged bytes: the last guard when a message quotes
// a value from outside whole.
func ShortValues(h slog.Handler) slog.Handler { return shortValues{h} }

type shortValues struct{ slog.Handler }

func (h shortValues) Handle(ctx context.Context, rec slog.Record) error {
	short := slog.NewRecord(rec.Time, rec.Level, Shorten(rec.Message, MaxLogged), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		short.AddAttrs(shortAttr(a))
		return true
	})
	return h.Handler.Handle(ctx, short)
}

func (h shortValues) WithAttrs(attrs []slog.Attr) slog.Handler {
	short := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		short[i] = shortAttr(a)
	}
	return shortValues{h.Handler.WithAttrs(short)}
}

func (h shortValues) WithGroup(name string) slog.Handler {
	return shortValues{h.Handler.WithGroup(name)}
}

func shortAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, Shorten(v.String(), MaxLogged))
	case slog.KindGroup:
		group := v.Group()
		out := make([]any, len(group))
		for i, g := range group {
			out[i] = shortAttr(g)
		}
		return slog.Group(a.Key, out...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, Shorten(err.Error(), MaxLogged))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
