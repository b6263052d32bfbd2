// Package static embeds the stylesheet and scripts served under /static/ on
// every host. No page carries inline script or style (the CSP forbids it).
package static

import "embed"

// FS holds the static files.
//
//go:embed *.css *.js
var FS embed.FS
