package server_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
)

func newFormRequest(host, path string, form url.Values) *http.Request {
	req := httptest.NewRequest("POST", "http://"+host+path, strings.NewReader(form.Encode()))
	req.Host = host
	req.RemoteAddr = "192.0.2.10:40000"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return req
}

func serve(p *portal, req *http.Request) *http.Response {
	rec := httptest.NewRecorder()
	p.srv.ServeHTTP(rec, req)
	return rec.Result()
}
