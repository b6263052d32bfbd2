package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func TestStaticFilesAreCachedForAYearOnlyAtTheirCurrentHashedURL(t *testing.T) {
	files := fstest.MapFS{"style.css": {Data: []byte("body{}")}}
	a, err := NewAssets(files)
	if err != nil {
		t.Fatal(err)
	}
	current, err := a.URL("style.css")
	if err != nil || !strings.HasPrefix(current, "/static/style.css?v=") {
		t.Fatalf("URL = %q, %v", current, err)
	}
	if _, err := a.URL("missing.js"); err == nil {
		t.Error("a missing file got a URL: a template naming it must fail to render")
	}
	for _, tc := range []struct {
		url, cache string
		status     int
	}{
		{current, "public, max-age=31536000, immutable", http.StatusOK},
		{"/static/style.css?v=0123456789abcdef", "no-cache", http.StatusOK},
		{"/static/style.css", "no-cache", http.StatusOK},
		// net/http drops caching headers from its error answers.
		{"/static/nothing.css", "", http.StatusNotFound},
	} {
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, httptest.NewRequest("GET", tc.url, nil))
		if rec.Code != tc.status || rec.Header().Get("Cache-Control") != tc.cache {
			t.Errorf("GET %s: %d %q, want %d %q", tc.url, rec.Code, rec.Header().Get("Cache-Control"), tc.status, tc.cache)
		}
	}

	// A changed file gets a new URL.
	changed := fstest.MapFS{"style.css": {Data: []byte("body{color:red}")}}
	b, err := NewAssets(fs.FS(changed))
	if err != nil {
		t.Fatal(err)
	}
	if next, _ := b.URL("style.css"); next == current {
		t.Errorf("the URL did not change with the content: %s", next)
	}
}
