package server_test

import (
	"net/http"
	"net/url"

	"github.com/meetings-portal/portal/internal/portaltest"
)

func newFormRequest(host, path string, form url.Values) *http.Request {
	return portaltest.Request("POST", host, path, form)
}

func serve(p *portal, req *http.Request) *http.Response {
	return p.Serve(req)
}
