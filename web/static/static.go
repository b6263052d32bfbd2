// Package static embeds the stylesheet, scripts and icon served under /static/ on
// every host. No page carries inline script or style (the CSP forbids it).
package static

import "embed"

// FS holds the static files.
//
//go:embed *.css *.js *.svg
var FS embed.FS
