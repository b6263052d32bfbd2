package idpmeta

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateEndpointAccepts(t *testing.T) {
	for _, raw := range []string{
		"https://login.microsoftonline.com/" + azureTenantID + "/saml2",
		"https://idp.example.org:8443/sso?tenant=1",
		"HTTPS://IDP.EXAMPLE.ORG/SSO",
		"http://localhost:8080/sso",
		"http://idp.localhost:8080/saml/sso",
		"http://IDP.LOCALHOST./sso",
		"http://127.0.0.1/sso",
		"http://127.1.2.3:9000/sso",
		"http://[::1]:8080/sso",
	} {
		t.Run(raw, func(t *testing.T) {
			if err := ValidateEndpoint(raw); err != nil {
				t.Errorf("ValidateEndpoint(%q) = %v", raw, err)
			}
		})
	}
}

func TestValidateEndpointRefuses(t *testing.T) {
	const httpMessage = " is not an https address (plain http is accepted only for this computer, such as localhost, during development)."
	tests := []struct {
		raw     string
		message string
	}{
		{"", "The URL is empty."},
		{"   ", "The URL is empty."},
		{"javascript:alert(1)", "The URL javascript:alert(1) is not an https address."},
		{"JavaScript:alert(1)", "The URL JavaScript:alert(1) is not an https address."},
		{"data:text/html;base64,PHNjcmlwdD4=", "The URL data:text/html;base64,PHNjcmlwdD4= is not an https address."},
		{"ftp://idp.example.org/sso", "The URL ftp://idp.example.org/sso is not an https address."},
		{"/saml2", "The URL /saml2 is not a complete address: it must start with https://."},
		{"//evil.example/sso", "The URL //evil.example/sso is not a complete address: it must start with https://."},
		{"idp.example.org/sso", "The URL idp.example.org/sso is not a complete address: it must start with https://."},
		{"http://idp.example.org/sso", "The URL http://idp.example.org/sso" + httpMessage},
		{"http://localhost.evil.example/sso", "The URL http://localhost.evil.example/sso" + httpMessage},
		{"http://10.0.0.1/sso", "The URL http://10.0.0.1/sso" + httpMessage},
		{"https:///sso", "The URL https:///sso has no host name."},
		{"https:idp.example.org", "The URL https:idp.example.org has no host name."},
		{"https://login.microsoftonline.com@evil.example/saml2", "The URL https://login.microsoftonline.com@evil.example/saml2 contains a user name or password; remove the part before @."},
		{"https://user:pass@idp.example.org/sso", "The URL https://user:pass@idp.example.org/sso contains a user name or password; remove the part before @."},
		{"https://idp.example.org/sso#frag", "The URL https://idp.example.org/sso#frag contains a fragment (#…), which cannot be sent to the server."},
		{"https://idp.example.org/sso#", "The URL https://idp.example.org/sso# contains a fragment (#…), which cannot be sent to the server."},
		{"https://idp.example.org:port/sso", "The URL https://idp.example.org:port/sso is not a valid address."},
		{" https://idp.example.org/sso", `The URL " https://idp.example.org/sso" is not a valid address.`},
		{"https://idp.example.org/\x7f", `The URL "https://idp.example.org/\x7f" is not a valid address.`},
		{"javascript:" + strings.Repeat("a", 300), "The URL javascript:" + strings.Repeat("a", 189) + "… is not an https address."},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			err := ValidateEndpoint(tt.raw)
			var refusal *Error
			if !errors.As(err, &refusal) {
				t.Fatalf("ValidateEndpoint(%q) = %v, want an *Error", tt.raw, err)
			}
			if refusal.Reason != ReasonBadEndpointURL {
				t.Errorf("Reason = %q, want %q", refusal.Reason, ReasonBadEndpointURL)
			}
			if refusal.Message != tt.message {
				t.Errorf("Message = %q\nwant      %q", refusal.Message, tt.message)
			}
		})
	}
}
