package idpmeta

// Reason codes of *Error. They are stable: the admin page and the sign-in
// event log store and compare them, so never rename one.
const (
	// Reasons from Parse.
	ReasonTooLarge        = "too-large"
	ReasonDoctype         = "doctype"
	ReasonNotXML          = "not-xml"
	ReasonEncoding        = "unsupported-encoding"
	ReasonTooDeep         = "too-deep"
	ReasonNotMetadata     = "not-metadata"
	ReasonNoIdP           = "no-idp-descriptor"
	ReasonSeveralIdPs     = "several-idps"
	ReasonNoEntityID      = "no-entity-id"
	ReasonNoCertificate   = "no-signing-certificate"
	ReasonBadCertificate  = "bad-certificate"
	ReasonNoRedirectSSO   = "no-redirect-sso"
	ReasonBadSSOURL       = "bad-sso-url"
	ReasonBadSLOURL       = "bad-slo-url"
	ReasonBadEndpointURL  = "bad-url"
	ReasonBadMetadataURL  = "bad-metadata-url"
	ReasonAddressRefused  = "address-not-allowed"
	ReasonTooManyRedirect = "too-many-redirects"
	ReasonFetchTimeout    = "fetch-timeout"
	ReasonFetchFailed     = "fetch-failed"
	ReasonUntrustedTLS    = "untrusted-certificate"
	ReasonHTTPStatus      = "http-status"
	// ReasonDNS: the metadata URL's host name was not found.
	ReasonDNS = "dns-failed"
	// ReasonConnectionRefused: nothing listens at the address and port.
	ReasonConnectionRefused = "connection-refused"
	// ReasonTLS: the TLS handshake failed for another reason than an
	// untrusted certificate (a server that does not speak https, no
	// common protocol version or cipher suite).
	ReasonTLS = "tls-failed"
)

// Error is what every function of this package returns when the metadata or
// an address is refused. Message is a complete sentence written for a site
// administrator, shown as-is on the admin page and by `portal sso import`
// (escaped there: it may quote text from the uploaded file). Reason is the
// machine-readable code, one of the Reason constants.
type Error struct {
	Reason  string
	Message string

	// cause is the underlying technical error, if any, kept for the logs
	// (Error, Unwrap) but never put in front of the admin as Message.
	cause error
}

// Error returns the admin-readable message, followed by the technical cause
// in parentheses when there is one, so that a log line has both.
func (e *Error) Error() string {
	if e.cause != nil {
		return e.Message + " (" + e.cause.Error() + ")"
	}
	return e.Message
}

// Unwrap gives errors.Is/As access to the technical cause.
func (e *Error) Unwrap() error { return e.cause }

func refuse(reason, message string) *Error {
	return &Error{Reason: reason, Message: message}
}

func refuseWithCause(reason, message string, cause error) *Error {
	return &Error{Reason: reason, Message: message, cause: cause}
}
