package web

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
)

// Assets serves the embedded stylesheet and scripts under /static/ at
// content-hashed URLs (/static/style.css?v=<hash>): a URL names one version
// of a file, so browsers may keep it for a year, and a new release's pages
// name new URLs.
type Assets struct {
	files  http.Handler
	hashes map[string]string // file name → first 16 hex digits of its SHA-256
}

// NewAssets hashes every file of fsys.
func NewAssets(fsys fs.FS) (*Assets, error) {
	a := &Assets{files: http.StripPrefix("/static/", http.FileServerFS(fsys)), hashes: map[string]string{}}
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		a.hashes[path] = hex.EncodeToString(sum[:8])
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("hash static files: %w", err)
	}
	return a, nil
}

// URL is the address of the static file name, with its content hash.
func (a *Assets) URL(name string) (string, error) {
	h, ok := a.hashes[name]
	if !ok {
		return "", fmt.Errorf("no static file %q", name)
	}
	return "/static/" + name + "?v=" + h, nil
}

// ServeHTTP serves /static/NAME. A request for the current version may be
// cached for a year; any other (an old page, a hand-typed address) is
// revalidated every time.
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/static/")
	if h, ok := a.hashes[name]; ok && r.URL.Query().Get("v") == h {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	a.files.ServeHTTP(w, r)
}
