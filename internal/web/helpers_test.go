package web

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/meetings-portal/portal/web/static"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func testAssets(t *testing.T) *Assets {
	t.Helper()
	a, err := NewAssets(static.FS)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
