// Package templates embeds the portal's html/template pages: one layout and
// one file per page, each defining "title" and "content".
package templates

import "embed"

// FS holds layout.html and every page.
//
//go:embed *.html
var FS embed.FS
