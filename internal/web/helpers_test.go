package web

import (
	"log/slog"
	"strings"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
