package web

import (
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestCheckInputRefusesWhatNoPageCanUse(t *testing.T) {
	rd, err := NewRenderer(discardLogger(), testAssets(t))
	if err != nil {
		t.Fatal(err)
	}
	rules := InputRules{
		Fields:     map[string]Field{"email": {Label: "E-mail address", Max: 10}},
		DefaultMax: 20,
		Exempt:     []string{"POST /saml/acs"},
	}
	var reached url.Values
	h := rd.CheckInput(rules)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = r.PostForm }))
	cases := []struct {
		name, method, target, body string
		status                     int
		message                    string
	}{
		{"plain text", "POST", "/x", "email=a%40b.test&note=Zo%C3%AB+%E2%9C%93%0D%0A%09", 200, ""},
		{"a NUL", "POST", "/x", "email=a%00b", 400, "The field “E-mail address” contains a control character (U+0000)"},
		{"invalid UTF-8 in the query", "GET", "/x?note=%FF", "", 400, "The field “note” is not valid UTF-8 text"},
		{"DEL", "GET", "/x?note=%7F", "", 400, "(U+007F)"},
		{"C1 control", "GET", "/x?note=%C2%85", "", 400, "(U+0085)"},
		{"over the field's bound", "POST", "/x", "email=" + strings.Repeat("é", 11), 400, "is longer than 10 characters"},
		{"at the field's bound, in characters", "POST", "/x", "email=" + strings.Repeat("é", 10), 200, ""},
		// A text area at its maxlength of 20 with three line breaks: the
		// browser counts each as one, and sends each as CRLF.
		{"line breaks sent as CRLF count as one", "POST", "/x", "note=" + strings.Repeat("aaaa%0D%0A", 3) + "aaaaa", 200, ""},
		{"but a lone CR still counts", "POST", "/x", "note=" + strings.Repeat("aaaa%0D%0D", 3) + "aaaaa", 400, "is longer than 20 characters"},
		{"over the default bound", "GET", "/x?other=" + strings.Repeat("a", 21), "", 400, "The field “other” is longer than 20 characters"},
		{"a NUL in a name", "GET", "/x?a%00=1", "", 400, `The field “"a\x00"”`},
		{"a NUL in the path", "GET", "/x%00y", "", 400, "The address contains a control character"},
		{"broken percent-encoding", "POST", "/x", "email=%zz", 400, "its encoding is broken"},
		{"the ACS reads its own form", "POST", "/saml/acs", "SAMLResponse=%00" + strings.Repeat("A", 100), 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reached = nil
			var req *http.Request
			if c.method == "POST" {
				req = httptest.NewRequest("POST", c.target, strings.NewReader(c.body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			} else {
				req = httptest.NewRequest("GET", c.target, nil)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, c.status, rec.Body.String())
			}
			if c.status == 200 && reached == nil && c.method == "POST" && c.target != "/saml/acs" {
				t.Error("the handler did not get the parsed form")
			}
			if c.message != "" && !strings.Contains(html.UnescapeString(rec.Body.String()), c.message) {
				t.Errorf("the page does not say %q:\n%s", c.message, rec.Body.String())
			}
		})
	}
}
