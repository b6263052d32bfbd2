//go:build mediabrowser

package media

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/meetings-portal/portal/web/static"
	"github.com/meetings-portal/portal/web/templates"
)

// TestBrowserTwoPeopleSeeEachOther drives meeting-media.js in Debian's
// Chromium (fake camera and microphone) against the SFU: two tabs join,
// each shows the other's named tile and receives its video. Until the
// meeting page exists it serves the partial on a bare page with the
// portal's CSP (plus connect-src for the WebSocket).
//
//	go test -tags mediabrowser -run TestBrowser ./internal/media/
func TestBrowserTwoPeopleSeeEachOther(t *testing.T) {
	s, err := New(Config{ListenIP: "127.0.0.1"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const key = "site:1/meeting:1"
	tmpl := template.Must(template.ParseFS(templates.FS, "partial_media.html"))
	var origin string
	mux := http.NewServeMux()
	mux.Handle("/static/", http.StripPrefix("/static/", http.FileServerFS(static.FS)))
	mux.HandleFunc("/room", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		s.Allow(key, q.Get("id"))
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'")
		fmt.Fprint(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>t</title><link rel="stylesheet" href="/static/style.css"></head><body><main>`)
		_ = tmpl.ExecuteTemplate(w, "media", map[string]string{"SignalURL": "/signal?" + r.URL.RawQuery, "SelfID": q.Get("id"), "Role": q.Get("role")})
		fmt.Fprint(w, `</main></body></html>`)
	})
	mux.HandleFunc("/signal", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		s.ServeSignalling(w, r, key, Participant{ID: q.Get("id"), Name: q.Get("name"), Role: Role(q.Get("role"))}, origin)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	origin = srv.URL

	alloc, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath("/usr/bin/chromium"), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("use-fake-device-for-media-stream", true), chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
	)...)
	defer cancel()
	browser, cancelBrowser := chromedp.NewContext(alloc)
	defer cancelBrowser()
	ctx, cancelTimeout := context.WithTimeout(browser, 90*time.Second)
	defer cancelTimeout()

	people := []Participant{{ID: "user:1", Name: "Alice Host", Role: RoleHost}, {ID: "user:2", Name: "Bob", Role: RoleParticipant}}
	tabs := []context.Context{}
	for i, p := range people {
		tab := ctx
		if i > 0 {
			tab, _ = chromedp.NewContext(ctx)
		}
		messages := chromedp.Console(tab)
		go func(id string) {
			for m, err := range messages {
				if err != nil {
					return
				}
				if m.Type == "error" || m.Type == "warning" || m.Type == chromedp.ConsoleException {
					t.Logf("%s console %s: %s", id, m.Type, m.Text)
				}
			}
		}(p.ID)
		u := fmt.Sprintf("%s/room?id=%s&name=%s&role=%s", srv.URL, p.ID, strings.ReplaceAll(p.Name, " ", "+"), p.Role)
		if err := chromedp.Do(tab, chromedp.Navigate(u), chromedp.WaitEnabled(`[data-media=join]`),
			chromedp.Sleep(500*time.Millisecond), chromedp.Click(`[data-media=join]`)); err != nil {
			t.Fatalf("%s joins: %v", p.ID, err)
		}
		tabs = append(tabs, tab)
	}
	for i, tab := range tabs {
		other := people[1-i]
		deadline := time.Now().Add(30 * time.Second)
		for {
			phase, err := chromedp.Run(tab, chromedp.Evaluate[string](`window.portalMedia.state`))
			if err != nil {
				t.Fatal(err)
			}
			captions, err := chromedp.Run(tab, chromedp.Evaluate[string](`[...document.querySelectorAll('.media-tile figcaption')].map(c => c.textContent).join('|')`))
			if err != nil {
				t.Fatal(err)
			}
			packets, err := chromedp.Run(tab, chromedp.Evaluate[float64](`(async () => { if (!window.portalMedia.pc) return 0; let n = 0;
				(await window.portalMedia.pc.getStats()).forEach(r => { if (r.type === 'inbound-rtp' && r.kind === 'video') n += r.packetsReceived; });
				return n; })()`, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatal(err)
			}
			if phase == "joined" && packets > 50 && strings.Contains(captions, other.Name) {
				t.Logf("%s: %s, tiles %q, %v video packets received", people[i].ID, phase, captions, packets)
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: phase %q, tiles %q, %v video packets from %s", people[i].ID, phase, captions, packets, other.ID)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	if dir := os.Getenv("MEDIA_SCREENSHOTS"); dir != "" {
		for i, tab := range tabs {
			png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("media-%d.png", i+1)), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The host mutes Bob from the participant list; Bob's page shows it.
	if err := chromedp.Do(tabs[0], chromedp.Click(`button[aria-label="Mute Bob"]`)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		pressed, err := chromedp.Run(tabs[1], chromedp.Evaluate[string](`document.querySelector('[data-media=mic]').getAttribute('aria-pressed')`))
		if err != nil {
			t.Fatal(err)
		}
		if pressed == "true" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bob's mute button after the host muted him: aria-pressed=%q", pressed)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
