package sites

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Hosts maps host names to sites under the base URL: site "acme" lives at
// acme.<base host>, and acme.my.<base host> (Webex's
// <customer>.my.webex.com-style sign-on URL) is an alias for it.
type Hosts struct {
	Scheme string // http or https
	Host   string // lower-case base host name, without port
	Port   string // explicit port of the base URL, or ""
}

// ParseBaseURL reads PORTAL_BASE_URL.
func ParseBaseURL(raw string) (Hosts, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Hosts{}, fmt.Errorf("base URL %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return Hosts{}, fmt.Errorf("base URL %q: scheme must be http or https", raw)
	}
	if u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return Hosts{}, fmt.Errorf("base URL %q: want scheme://host[:port] with no path", raw)
	}
	return Hosts{Scheme: u.Scheme, Host: strings.ToLower(u.Hostname()), Port: u.Port()}, nil
}

// HTTPS reports whether the portal is served over https (cookies get the
// __Host- prefix and Secure, responses get HSTS).
func (h Hosts) HTTPS() bool { return h.Scheme == "https" }

func (h Hosts) url(host string) string {
	if h.Port != "" {
		host = net.JoinHostPort(host, h.Port)
	}
	return h.Scheme + "://" + host
}

// BaseURL is the landing page's URL.
func (h Hosts) BaseURL() string { return h.url(h.Host) }

// SiteURL is a site's canonical URL, with no trailing slash.
func (h Hosts) SiteURL(name string) string { return h.url(name + "." + h.Host) }

// SignOnURL is the site's <site>.my.<base> alias, the Sign on URL admins
// enter in Azure.
func (h Hosts) SignOnURL(name string) string { return h.url(name + ".my." + h.Host) }

// ServiceURL is the URL of a portal service host such as "idp".
func (h Hosts) ServiceURL(service string) string { return h.url(service + "." + h.Host) }

// HostKind says what a Host header names.
type HostKind int

const (
	HostUnknown HostKind = iota // not under the base host, or the wrong port
	HostBase                    // the bare base host: the landing page
	HostSite                    // a site's canonical host
	HostAlias                   // <site>.my.<base>
	HostService                 // a reserved name such as idp.<base>
)

// Classify reads a Host header. The name it returns is lower-cased and is a
// valid site name for HostSite and HostAlias, a reserved name for HostService.
// It does not check that the site exists.
func (h Hosts) Classify(hostHeader string) (HostKind, string) {
	host, port := hostHeader, ""
	if hp, p, err := net.SplitHostPort(hostHeader); err == nil {
		host, port = hp, p
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if port != h.Port && !(port == "" && h.Port == defaultPort(h.Scheme)) && !(h.Port == "" && port == defaultPort(h.Scheme)) {
		return HostUnknown, ""
	}
	if host == h.Host {
		return HostBase, ""
	}
	label, ok := strings.CutSuffix(host, "."+h.Host)
	if !ok || label == "" {
		return HostUnknown, ""
	}
	if site, ok := strings.CutSuffix(label, ".my"); ok {
		if name, err := NormalizeName(site); err == nil && name == site {
			return HostAlias, name
		}
		return HostUnknown, ""
	}
	if reserved[label] {
		return HostService, label
	}
	if name, err := NormalizeName(label); err == nil && name == label {
		return HostSite, name
	}
	return HostUnknown, ""
}

func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}
