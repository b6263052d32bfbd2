package server_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"

	"github.com/meetings-portal/portal/internal/portaltest"
)

func newFormRequest(host, path string, form url.Values) *http.Request {
	return portaltest.Request("POST", host, path, form)
}

func serve(p *portal, req *http.Request) *http.Response {
	return p.Serve(req)
}

var regexpStylesheet = regexp.MustCompile(`<link rel="stylesheet" href="([^"]+)"`)

func serveFront(t *testing.T, h http.Handler, host, path string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, portaltest.Request("GET", host, path, nil))
	resp := rec.Result()
	return resp, readBody(t, resp)
}
