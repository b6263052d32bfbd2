package idpmeta

import (
	"net"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxShownURL is how much of a refused address an error message quotes, so
// that a hostile file cannot fill the admin page with one attribute.
const maxShownURL = 200

// ValidateEndpoint checks an identity provider endpoint (SSO or SLO URL)
// before the portal ever sends a browser there. It is used by Parse and by
// the manual fields of the admin page.
//
// Only https is accepted: the AuthnRequest and the user's session pass
// through this address. Plain http is allowed for loopback hosts only
// (127.0.0.0/8, ::1, localhost and *.localhost) so that a development IdP
// such as the one `make run` starts works. Relative addresses, javascript:,
// data: and every other scheme are refused (a javascript: SSO URL would run
// script on the portal's origin when the user is redirected), as are
// addresses carrying a user name or password (https://good.example@evil.example
// misleads whoever reads them) and fragments, which the HTTP-Redirect binding
// cannot carry to the server.
//
// The error is an *Error with Reason ReasonBadEndpointURL.
func ValidateEndpoint(raw string) error {
	if _, err := checkURL("The URL", raw, isLoopbackHost); err != nil {
		return refuseWithCause(ReasonBadEndpointURL, err.Message, err.cause)
	}
	return nil
}

// checkURL parses raw and applies the rules of ValidateEndpoint. what names
// the address in the message ("The SSO URL"). plainHTTPAllowed says for
// which hosts http is acceptable; nil means none. The returned *Error has
// no Reason: the caller sets the one that fits.
func checkURL(what, raw string, plainHTTPAllowed func(host string) bool) (*url.URL, *Error) {
	if strings.TrimSpace(raw) == "" {
		return nil, &Error{Message: what + " is empty."}
	}
	shown := showURL(raw)
	u, err := url.Parse(raw)
	if err != nil {
		return nil, &Error{Message: what + " " + shown + " is not a valid address.", cause: err}
	}
	switch {
	case u.Scheme == "":
		return nil, &Error{Message: what + " " + shown + " is not a complete address: it must start with https://."}
	case u.Scheme == "http" && plainHTTPAllowed == nil:
		return nil, &Error{Message: what + " " + shown + " is not an https address."}
	case u.Scheme == "http":
		if u.Host == "" || !plainHTTPAllowed(u.Hostname()) {
			return nil, &Error{Message: what + " " + shown + " is not an https address (plain http is accepted only for this computer, such as localhost, during development)."}
		}
	case u.Scheme != "https":
		return nil, &Error{Message: what + " " + shown + " is not an https address."}
	}
	switch {
	case u.Opaque != "" || u.Hostname() == "":
		return nil, &Error{Message: what + " " + shown + " has no host name."}
	case u.User != nil:
		return nil, &Error{Message: what + " " + shown + " contains a user name or password; remove the part before @."}
	case u.Fragment != "" || strings.HasSuffix(raw, "#"):
		return nil, &Error{Message: what + " " + shown + " contains a fragment (#…), which cannot be sent to the server."}
	}
	if _, err := strconv.Atoi(u.Port()); u.Port() != "" && err != nil {
		return nil, &Error{Message: what + " " + shown + " has an invalid port.", cause: err}
	}
	return u, nil
}

// isLoopbackHost reports whether host names this computer: a loopback IP
// address, localhost, or a name under .localhost (RFC 6761 §6.3 reserves
// it for loopback, and browsers resolve it there).
func isLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// showURL returns raw as it can be put in a message: quoted when it holds
// spaces or unprintable characters (so the admin sees exactly what is in
// the file), and cut short when long.
func showURL(raw string) string {
	if utf8.RuneCountInString(raw) > maxShownURL {
		runes := []rune(raw)
		raw = string(runes[:maxShownURL]) + "…"
	}
	for _, r := range raw {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return strconv.QuoteToGraphic(raw)
		}
	}
	return raw
}
