package web

import (
	"net/http"
	"net/url"
	"strconv"
)

// MaxPage bounds a page number, so a hand-edited URL cannot make the
// database skip millions of rows.
const MaxPage = 10000

// Pager is what the pager partial shows under a paged list: the page
// number and the links to the pages either side. Page structs embed it.
type Pager struct {
	Page             int
	PrevURL, NextURL string
}

// PageFrom reads the 1-based ?page= of a request; anything unusable is 1.
func PageFrom(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || n < 1 {
		return 1
	}
	return min(n, MaxPage)
}

// NewPager links page of the list at path (with its query, the filters)
// to the previous page and, when more follow, to the next.
func NewPager(path string, query url.Values, page int, more bool) Pager {
	p := Pager{Page: page}
	if more && page < MaxPage {
		p.NextURL = pageURL(path, query, page+1)
	}
	if page > 1 {
		p.PrevURL = pageURL(path, query, page-1)
	}
	return p
}

func pageURL(path string, query url.Values, page int) string {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	if page > 1 {
		q.Set("page", strconv.Itoa(page))
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}
