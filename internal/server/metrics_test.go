package server_test

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestMetricsCountRequestsByRoutePatternNotByPath(t *testing.T) {
	p := newPortal(t)
	m := p.App.Metrics
	p.do("GET", acme, "/admin", nil)
	p.do("GET", acme, "/meet/some-room-name", nil)
	p.do("GET", "nobody.localhost:8080", "/x/y/z", nil)

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	out := rec.Body.String()
	for _, want := range []string{
		`portal_http_requests_total{method="GET",route="/admin",status="200"} 1`,
		`portal_http_requests_total{method="GET",route="/meet/{room}",status="200"} 1`,
		`portal_http_request_duration_seconds_bucket{method="GET",route="/admin"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s in:\n%s", want, grepLines(out, "portal_http_requests_total"))
		}
	}
	if strings.Contains(out, "some-room-name") || strings.Contains(out, "/x/y/z") {
		t.Error("a raw path became a label value")
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
