// Package web is the plumbing every page shares: rendering templates inside
// the layout, the error page, request IDs and logs, security headers, client
// addresses behind proxies, cookies, and the site a request is for.
package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/meetings-portal/portal/internal/database"
	"github.com/meetings-portal/portal/web/templates"
)

// Renderer renders the embedded pages.
type Renderer struct {
	pages map[string]*template.Template
	log   *slog.Logger
	// buffers hold pages as they render: a page of tens of kilobytes grown
	// from nothing is a dozen allocations and copies each time.
	buffers sync.Pool
}

// keptBuffer bounds the buffers kept for the next page: one huge page (a
// long list) should not stay in memory.
const keptBuffer = 256 << 10

// FieldError is one form field's message, for the field_error partial.
type FieldError struct {
	Name  string // the input's name, which its id and the message's id follow
	Error string // "" when the field is fine
}

// shared are the files parsed with every page: the layout and the partials.
var shared = []string{"layout.html", "partials.html", "partial_media.html"}

// NewRenderer parses every page with the layout and the partials, or only
// the pages named (a renderer of error pages alone need not hold the
// others: 5 MB); static files are named by their content-hashed URLs from
// assets.
func NewRenderer(log *slog.Logger, assets *Assets, only ...string) (*Renderer, error) {
	funcs := template.FuncMap{
		"utc":    UTC,
		"date":   func(t time.Time) string { return t.UTC().Format("2006-01-02") },
		"join":   strings.Join,
		"static": assets.URL,
		"field": func(errs map[string]string, name string) FieldError {
			return FieldError{Name: name, Error: errs[name]}
		},
		// Refused forms: the summary at the top, and each field's
		// aria-invalid and aria-describedby (fielderrors.go).
		"errorSummary": NewErrorSummary,
		"fieldAttrs":   fieldAttrs,
		"oneError":     oneError,
	}
	names, err := fs.Glob(templates.FS, "*.html")
	if err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	r := &Renderer{pages: map[string]*template.Template{}, log: log}
	for _, name := range names {
		if slices.Contains(shared, name) || len(only) > 0 && !slices.Contains(only, strings.TrimSuffix(name, ".html")) {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templates.FS, append(slices.Clone(shared), name)...)
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		r.pages[strings.TrimSuffix(name, ".html")] = t
	}
	for _, page := range only {
		if _, ok := r.pages[page]; !ok {
			return nil, fmt.Errorf("no template %q", page)
		}
	}
	return r, nil
}

// UTC is how pages show a time: "2006-01-02 15:04:05 UTC".
func UTC(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// View is what every template receives: request-wide values and the page's
// own Data.
type View struct {
	Site          string // site name, "" off a site host
	SignedIn      bool
	SignOutAction string
	RequestID     string
	Data          any
}

// Render writes page with data and status. The page is rendered to a buffer
// first, so a template error becomes an error page, not half a page.
func (rd *Renderer) Render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	view := View{RequestID: RequestID(r.Context()), Data: data}
	if site, ok := SiteFrom(r.Context()); ok {
		view.Site = site.Name
	}
	if s, ok := r.Context().Value(signedInKey{}).(signedIn); ok {
		view.SignedIn, view.SignOutAction = true, s.action
	}
	rd.render(w, r, status, page, view)
}

func (rd *Renderer) render(w http.ResponseWriter, r *http.Request, status int, page string, view View) {
	t, ok := rd.pages[page]
	buf, _ := rd.buffers.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	defer func() {
		if buf.Cap() <= keptBuffer {
			buf.Reset()
			rd.buffers.Put(buf)
		}
	}()
	var err error
	if !ok {
		err = fmt.Errorf("no template %q", page)
	} else {
		err = t.ExecuteTemplate(buf, "layout", view)
	}
	if err != nil {
		rd.log.ErrorContext(r.Context(), "render page", "page", page, "error", err.Error())
		if page != "error" {
			rd.Error(w, r, http.StatusInternalServerError, "Something went wrong", "The page could not be shown. Please try again in a moment.")
			return
		}
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// The length is known: the page goes out whole, not in chunks.
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// ErrorPage is the data of the error template.
type ErrorPage struct {
	Title, Message, Detail string
}

// Error shows the error page with a message the person can act on.
func (rd *Renderer) Error(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	rd.Render(w, r, status, "error", ErrorPage{Title: title, Message: message})
}

// ServerError logs err with the request ID and shows a page that gives the
// reference but none of the detail. It is the one place that tells an
// explained failure (ExplainedError) and an outage from a fault: when the database could not be used just now
// (database.Unavailable: unreachable, too slow for the request's deadline,
// restarting) the answer is Unavailable's 503, which people and load
// balancers retry; anything else is a 500.
func (rd *Renderer) ServerError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil && errors.Is(err, context.Canceled) {
		// The browser went away (a page reloaded, an event stream closed):
		// nobody reads the answer, and nothing failed on this side.
		rd.log.InfoContext(r.Context(), "request abandoned by the client", "error", err.Error())
		return
	}
	var explained ExplainedError
	if errors.As(err, &explained) {
		rd.log.ErrorContext(r.Context(), "request failed", "error", err.Error())
		status, title, message := explained.Explain()
		rd.Error(w, r, status, title, message)
		return
	}
	if database.Unavailable(err) {
		rd.log.WarnContext(r.Context(), "storage unavailable", "error", err.Error())
		rd.Unavailable(w, r, "The portal cannot complete this request just now. Please try again in a few seconds.")
		return
	}
	rd.log.ErrorContext(r.Context(), "request failed", "error", err.Error())
	rd.Error(w, r, http.StatusInternalServerError, "Something went wrong",
		"The portal could not complete this request. Please try again in a moment.")
}

// ExplainedError is a failure that says itself what the person should
// read — a fault of the portal's configuration that the operator must fix,
// for example — which ServerError shows, with its status, instead of the
// generic page; the log gets the error in full, which says what to do.
type ExplainedError interface {
	error
	Explain() (status int, title, message string)
}

// RetryAfter is how long a 503 asks the browser, or the load balancer, to
// wait before trying again (the Retry-After header, RFC 9110 §10.2.3).
const RetryAfter = 5 * time.Second

// Unavailable is the 503 page with Retry-After: the portal cannot serve the
// request now but will shortly (its database is unreachable or slow, or it
// is still starting).
func (rd *Renderer) Unavailable(w http.ResponseWriter, r *http.Request, message string) {
	w.Header().Set("Retry-After", strconv.Itoa(int(RetryAfter/time.Second)))
	rd.Error(w, r, http.StatusServiceUnavailable, "Please try again shortly", message)
}

// NotFound is the 404 page.
func (rd *Renderer) NotFound(w http.ResponseWriter, r *http.Request) {
	rd.Error(w, r, http.StatusNotFound, "Page not found", "There is no page at this address.")
}

type signedInKey struct{}

type signedIn struct{ action string }

// MarkSignedIn tells the layout to show a sign-out button that posts to action.
func MarkSignedIn(r *http.Request, action string) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), signedInKey{}, signedIn{action: action}))
}
