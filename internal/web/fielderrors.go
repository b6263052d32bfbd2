package web

import (
	"html"
	"html/template"
	"slices"
	"sort"
	"strings"
)

// ErrorSummary is what the error_summary partial shows at the top of a
// refused form: a title and each problem, linked to its field.
type ErrorSummary struct {
	Title  string
	Errors []FieldError
}

// NewErrorSummary lists errs (input name → message) in the order of the
// names given, which is the order of the form; names not given follow,
// sorted, so that no problem is left out of the summary.
func NewErrorSummary(title string, errs map[string]string, order ...string) ErrorSummary {
	s := ErrorSummary{Title: title}
	for _, name := range order {
		if msg := errs[name]; msg != "" {
			s.Errors = append(s.Errors, FieldError{Name: name, Error: msg})
		}
	}
	var rest []string
	for name, msg := range errs {
		if msg != "" && !slices.Contains(order, name) {
			rest = append(rest, name)
		}
	}
	sort.Strings(rest)
	for _, name := range rest {
		s.Errors = append(s.Errors, FieldError{Name: name, Error: errs[name]})
	}
	return s
}

// fieldAttrs are the accessibility attributes of the input name: its help
// texts (ids) and, when errs has a message for it, its error text
// (name-error, as field_error writes it) in aria-describedby, and
// aria-invalid. Screen readers then read the problem with the field.
func fieldAttrs(errs map[string]string, name string, help ...string) template.HTMLAttr {
	described := slices.Clone(help)
	invalid := errs[name] != ""
	if invalid {
		described = append(described, name+"-error")
	}
	var attrs []string
	if len(described) > 0 {
		attrs = append(attrs, `aria-describedby="`+html.EscapeString(strings.Join(described, " "))+`"`)
	}
	if invalid {
		attrs = append(attrs, `aria-invalid="true"`)
	}
	// Only ids chosen by the templates reach here, and they are escaped.
	return template.HTMLAttr(strings.Join(attrs, " ")) //nolint:gosec
}

// oneError is the errors of a form with one field, for the partials: no
// error when message is "".
func oneError(name, message string) map[string]string {
	if message == "" {
		return nil
	}
	return map[string]string{name: message}
}
