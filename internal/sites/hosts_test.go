package sites

import "testing"

func TestClassifyHost(t *testing.T) {
	dev, _ := ParseBaseURL("http://localhost:8080")
	prod, _ := ParseBaseURL("https://meet.example.com")
	cases := []struct {
		hosts    Hosts
		header   string
		wantKind HostKind
		wantName string
	}{
		{dev, "acme.localhost:8080", HostSite, "acme"},
		{dev, "ACME.LocalHost:8080", HostSite, "acme"},
		{dev, "acme.localhost.:8080", HostSite, "acme"},
		{dev, "acme.my.localhost:8080", HostAlias, "acme"},
		{dev, "localhost:8080", HostBase, ""},
		{dev, "idp.localhost:8080", HostService, "idp"},
		{dev, "www.localhost:8080", HostService, "www"},
		{dev, "acme.localhost:9090", HostUnknown, ""},
		{dev, "acme.localhost", HostUnknown, ""},
		{dev, "acme.evil.com:8080", HostUnknown, ""},
		{dev, "evil-localhost:8080", HostUnknown, ""},
		{dev, "a.b.localhost:8080", HostUnknown, ""},
		{dev, "-x.localhost:8080", HostUnknown, ""},
		{dev, ".localhost:8080", HostUnknown, ""},
		{dev, "x.my.my.localhost:8080", HostUnknown, ""},
		{prod, "acme.meet.example.com", HostSite, "acme"},
		{prod, "acme.meet.example.com:443", HostSite, "acme"},
		{prod, "acme.meet.example.com:8443", HostUnknown, ""},
		{prod, "acme.my.meet.example.com", HostAlias, "acme"},
		{prod, "meet.example.com", HostBase, ""},
	}
	for _, c := range cases {
		kind, name := c.hosts.Classify(c.header)
		if kind != c.wantKind || name != c.wantName {
			t.Errorf("Classify(%q) under %s = %v %q, want %v %q", c.header, c.hosts.BaseURL(), kind, name, c.wantKind, c.wantName)
		}
	}
}

func TestSiteURLs(t *testing.T) {
	dev, _ := ParseBaseURL("http://localhost:8080")
	if got := dev.SiteURL("acme"); got != "http://acme.localhost:8080" {
		t.Errorf("SiteURL = %s", got)
	}
	if got := dev.SignOnURL("acme"); got != "http://acme.my.localhost:8080" {
		t.Errorf("SignOnURL = %s", got)
	}
	prod, _ := ParseBaseURL("https://meet.example.com/")
	if got := prod.SiteURL("acme"); got != "https://acme.meet.example.com" {
		t.Errorf("SiteURL = %s", got)
	}
	for _, bad := range []string{"ftp://x", "http://", "http://x/path", "http://u@x", "::"} {
		if _, err := ParseBaseURL(bad); err == nil {
			t.Errorf("ParseBaseURL(%q) accepted", bad)
		}
	}
}
