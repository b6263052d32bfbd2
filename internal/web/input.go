package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"unicode"
	"unicode/utf8"
)

// Field is what one form or query field may hold.
type Field struct {
	Label string // how the page names it, for the error page; "" for the input's name
	Max   int    // at most this many characters
}

// InputRules bound the text of requests, field by field (by input name).
type InputRules struct {
	Fields map[string]Field
	// DefaultMax bounds the characters of any field not in Fields.
	DefaultMax int
	// Exempt are the requests ("POST /saml/acs") that read their input
	// themselves, unchecked.
	Exempt []string
}

// maxFieldName bounds the name of a field.
const maxFieldName = 256

// InputError is a request whose text the portal refuses to read.
type InputError struct {
	Field   string // the input's label or name; "" for the address
	Problem string // what is wrong, in words
}

func (e *InputError) Error() string {
	if e.Field == "" {
		return "the address " + e.Problem
	}
	return "the field " + e.Field + " " + e.Problem
}

// Check reports the first field of values that breaks the rules, or nil.
func (rules InputRules) Check(values url.Values) *InputError {
	for name, vs := range values {
		if problem := textProblem(name, maxFieldName); problem != "" {
			return &InputError{Field: fmt.Sprintf("%q", name), Problem: problem}
		}
		field, ok := rules.Fields[name]
		if !ok {
			field = Field{Max: rules.DefaultMax}
		}
		label := field.Label
		if label == "" {
			label = name
		}
		for _, v := range vs {
			if problem := textProblem(v, field.Max); problem != "" {
				return &InputError{Field: label, Problem: problem}
			}
		}
	}
	return nil
}

// textProblem says what makes s unusable as text of at most max characters,
// or "" when it is fine. PostgreSQL refuses invalid UTF-8 and NUL in text;
// other control characters are never typed into a form (a tab, a line feed
// and a carriage return are, in a text area) and only carry tricks.
func textProblem(s string, max int) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8 text"
	}
	// A browser sends a text area's line breaks as CRLF but counts each as
	// one character against its maxlength: so do we, or a text area filled
	// to its limit would be refused.
	n, prev := 0, rune(0)
	for _, r := range s {
		if r != '\n' || prev != '\r' {
			n++
		}
		prev = r
		if unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return fmt.Sprintf("contains a control character (U+%04X), which cannot be used", r)
		}
	}
	if max > 0 && n > max {
		return fmt.Sprintf("is longer than %d characters", max)
	}
	return ""
}

// CheckInput validates the text of every request once, where it is
// decoded, before any handler reads it: the path, the query and a
// URL-encoded form (which it parses, so handlers read r.Form and r.PostForm
// as usual; a multipart body is left to its handler). A request that breaks
// the rules gets the 400 page saying which field and why — not a database
// error and a 500 — and nothing is logged beyond the access log: bad input
// is the sender's mistake, not the portal's.
func (rd *Renderer) CheckInput(rules InputRules) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if slices.Contains(rules.Exempt, r.Method+" "+r.URL.Path) {
				next.ServeHTTP(w, r)
				return
			}
			if problem := textProblem(r.URL.Path, 0); problem != "" {
				rd.badInput(w, r, &InputError{Problem: problem})
				return
			}
			if err := r.ParseForm(); err != nil {
				var tooLarge *http.MaxBytesError
				if errors.As(err, &tooLarge) {
					rd.Error(w, r, http.StatusRequestEntityTooLarge, "Too large", "What was sent is too large for this page.")
					return
				}
				rd.Error(w, r, http.StatusBadRequest, "Could not be read",
					"What was sent could not be read (its encoding is broken). Go back, reload the page and try again.")
				return
			}
			// r.Form holds the query and the URL-encoded body together.
			if bad := rules.Check(r.Form); bad != nil {
				rd.badInput(w, r, bad)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func (rd *Renderer) badInput(w http.ResponseWriter, r *http.Request, bad *InputError) {
	message := "The address " + bad.Problem + "."
	if bad.Field != "" {
		message = "The field “" + bad.Field + "” " + bad.Problem + ". Go back, correct it and send it again."
	}
	rd.Error(w, r, http.StatusBadRequest, "This cannot be used", message)
}
