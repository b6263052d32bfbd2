package web

import "net/http"

// Notices are the fixed banners a page shows after a change redirected back
// to it with ?done=KEY (or ?problem=KEY): only these texts can appear, never
// text from the URL.
type Notices map[string]string

// From returns the banner the request's query parameter param names, or "".
func (n Notices) From(r *http.Request, param string) string {
	return n[r.URL.Query().Get(param)]
}
