package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A renderer of some pages only renders those, and refuses to be made
// with a page that does not exist (a typo would leave it with none).
func TestRendererOfSomePages(t *testing.T) {
	rd, err := NewRenderer(discardLogger(), testAssets(t), "error")
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	rd.Unavailable(w, httptest.NewRequest(http.MethodGet, "/", nil), "The portal is starting.")
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "The portal is starting.") {
		t.Errorf("error page: %d %q", w.Code, w.Body.String())
	}
	if len(rd.pages) != 1 {
		t.Errorf("%d pages parsed, want only the error page", len(rd.pages))
	}
	if _, err := NewRenderer(discardLogger(), testAssets(t), "eror"); err == nil {
		t.Error("a renderer of a page that does not exist was made")
	}
}
