package web

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestTextHandler(t *testing.T) {
	tests := []struct {
		name string
		log  func(*slog.Logger)
		want string // after the time
	}{
		{"access log", func(l *slog.Logger) {
			r := httptest.NewRequest("GET", "http://acme.localhost:8080/admin/sso", nil)
			AccessLog(l)(r, 200, 4134, 3*time.Millisecond)
		}, "GET acme.localhost:8080/admin/sso 200 3ms 4.1kB"},
		{"small response", func(l *slog.Logger) {
			r := httptest.NewRequest("POST", "http://localhost:8080/x", nil)
			AccessLog(l)(r, 303, 12, 0)
		}, "POST localhost:8080/x 303 0ms 12B"},
		{"a record that only looks like the access log", func(l *slog.Logger) {
			l.Info("request", "method", "GET", "duration_ms", "slow", "bytes", 1.5)
		}, "GET   0ms 0B"},
		{"info", func(l *slog.Logger) { l.Info("portal ready") }, "portal ready"},
		{"warning with attributes", func(l *slog.Logger) {
			l.Warn("not ready yet", "reason", "no database", "tries", 3)
		}, `WARN not ready yet reason="no database" tries=3`},
		{"empty value", func(l *slog.Logger) { l.Error("x", "detail", "") }, `ERROR x detail=""`},
		{"groups and WithAttrs", func(l *slog.Logger) {
			l.With("site", "acme").WithGroup("idp").Info("imported", "entity_id", "https://sts/x", slog.Group("cert", "days", 30))
		}, "imported site=acme idp.entity_id=https://sts/x idp.cert.days=30"},
		{"debug is dropped", func(l *slog.Logger) { l.Debug("noise") }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			tt.log(slog.New(NewTextHandler(&out, slog.LevelInfo)))
			if tt.want == "" {
				if out.Len() != 0 {
					t.Fatalf("wrote %q, want nothing", out.String())
				}
				return
			}
			line := strings.TrimSuffix(out.String(), "\n")
			if !regexp.MustCompile(`^\d\d:\d\d:\d\d `).MatchString(line) {
				t.Fatalf("line %q does not start with the time", line)
			}
			if got := line[len("15:04:05 "):]; got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestNewLogger(t *testing.T) {
	for _, tt := range []struct {
		format, want string
		err          bool
	}{
		{"json", `"msg":"hello"`, false},
		{"", `"msg":"hello"`, false},
		{"text", " hello\n", false},
		{"yaml", "", true},
	} {
		var out bytes.Buffer
		log, err := NewLogger(&out, tt.format)
		if tt.err {
			if err == nil {
				t.Errorf("format %q: no error", tt.format)
			}
			continue
		}
		if err != nil {
			t.Fatalf("format %q: %v", tt.format, err)
		}
		log.InfoContext(context.Background(), "hello")
		if !strings.Contains(out.String(), tt.want) {
			t.Errorf("format %q wrote %q, want it to hold %q", tt.format, out.String(), tt.want)
		}
	}
}
