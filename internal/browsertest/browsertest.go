// Package browsertest runs the portal in-process and drives it with Debian's
// headless Chromium through chromedp, so tests can check what a person sees:
// pages that render under the Content-Security-Policy, forms that submit,
// redirects that land where they should.
//
// A test calls New, which gives it a portal on a fresh database and a browser
// tab:
//
//	env := browsertest.New(t)
//	if err := chromedp.Do(env.Ctx, chromedp.Navigate(env.SiteURL("acme")+"/admin")); err != nil {
//		t.Fatal(err)
//	}
//	env.Screenshot("admin-sign-in")
//
// Every test fails, and never skips, when /usr/bin/chromium is missing: a
// browser test that silently skips in CI proves nothing. The browser is never
// downloaded; install Debian's package (apt-get install chromium).
package browsertest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/meetings-portal/portal/internal/devidp"
	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/web"
)

// ChromiumPath is Debian's Chromium, the only browser the tests use.
const ChromiumPath = "/usr/bin/chromium"

// Timeout bounds one test's whole browser session (start, pages, screenshots,
// every window): long enough for the longest, TestEveryPageIsAccessible
// (27 s alone under the race detector, and over 90 s once on a machine
// also running the other packages' tests and a second browser test), short
// enough that a hang fails soon.
const Timeout = 2 * time.Minute

// MediaTimeout bounds a session of NewWithMedia: three windows encoding
// and decoding video take a 2-core machine's whole CPU, and more when other
// tests (or the race detector) share it.
const MediaTimeout = 3 * time.Minute

// Env is a running portal and a browser tab pointed at nothing yet.
type Env struct {
	// Portal is the portal, served on a real listener: its App (stores,
	// services), CreateSite and clock.
	*portaltest.Portal
	t *testing.T

	// BaseURL is the portal's base URL, http://localhost:<port>; site NAME
	// is at http://NAME.localhost:<port>, which Chromium resolves to
	// loopback by itself.
	BaseURL string
	// Ctx is the chromedp context of the tab; it ends after Timeout
	// (MediaTimeout).
	Ctx context.Context

	console *consoleLog
	windows int    // opened by NewWindow
	shotDir string // under t.TempDir(), made by the first Screenshot
	shots   int
}

// New starts the portal on 127.0.0.1 at a random port, over a fresh
// database, built with the given portaltest options (a lower rate limit, a
// fake fetcher, …), and a headless Chromium with an empty profile.
// Everything stops when the test ends.
func New(t *testing.T, options ...portaltest.Option) *Env {
	t.Helper()
	return newEnv(t, browser{timeout: Timeout}, options)
}

// browser is how a test's Chromium is started.
type browser struct {
	flags   []chromedp.ExecAllocatorOption // beyond the usual ones
	timeout time.Duration                  // of the whole session
}

// fakeMedia are the Chromium flags of a browser with a camera, a
// microphone and a screen to share, all fake: every window may use them
// without asking (headless Chromium then captures a generated 800×600
// screen for getDisplayMedia).
var fakeMedia = []chromedp.ExecAllocatorOption{
	chromedp.Flag("use-fake-device-for-media-stream", true),
	chromedp.Flag("use-fake-ui-for-media-stream", true),
	// Received audio plays without a click on that very element.
	chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
	// The test portal's SFU announces only its loopback address, which
	// Chromium's ICE otherwise ignores; and its own addresses go unhidden
	// (no mDNS .local names), as a browser that has been granted the
	// camera shows them anyway.
	chromedp.Flag("allow-loopback-in-peer-connection", true),
	chromedp.Flag("disable-features", "WebRtcHideLocalIpsWithMdns"),
}

// NewWithMedia is New with a browser whose windows have a fake camera,
// microphone and screen (Chromium's own: a moving test pattern and a
// periodic beep), for meetings with audio and video.
func NewWithMedia(t *testing.T, options ...portaltest.Option) *Env {
	t.Helper()
	return newEnv(t, browser{flags: fakeMedia, timeout: MediaTimeout}, options)
}

func newEnv(t *testing.T, b browser, options []portaltest.Option) *Env {
	t.Helper()
	requireChromium(t)
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("browsertest: listen: %v", err)
	}
	port := listener.Addr().(*net.TCPAddr).Port
	baseURL := fmt.Sprintf("http://localhost:%d", port)
	log := slog.New(web.LogHandler{Handler: slog.NewTextHandler(portalLog(t), &slog.HandlerOptions{Level: slog.LevelInfo})})
	portal := portaltest.New(t, append([]portaltest.Option{portaltest.WithBaseURL(baseURL), portaltest.WithLog(log)}, options...)...)
	ts := httptest.NewUnstartedServer(portal.Server)
	ts.Listener.Close()
	ts.Listener = listener
	ts.Start()
	t.Cleanup(ts.Close)

	ctx := startBrowser(t, b)
	env := &Env{Portal: portal, t: t, BaseURL: baseURL, Ctx: ctx}
	env.console = watchConsole(t, ctx, "the first window")
	// Every page of the portal must work without inline script or style;
	// a violation is a bug in whichever test's page caused it.
	t.Cleanup(env.failOnCSPViolations)
	return env
}

// StartDevIdP serves the development identity provider at
// idp.localhost:<port>, as `portal serve --dev-idp` does, with password for
// its demo users.
func (e *Env) StartDevIdP(password string) *devidp.IdP {
	e.t.Helper()
	idp, err := e.App.StartDevIdP(context.Background(), password)
	if err != nil {
		e.t.Fatal(err)
	}
	return idp
}

// NewWindow opens another person's browser window at the same portal: a tab
// in a browser context of its own, sharing no cookies with Ctx (like a
// private window, or another computer). Its pages are held to the
// Content-Security-Policy like Ctx's; it closes when the test ends.
func (e *Env) NewWindow() context.Context {
	e.t.Helper()
	return e.NewNamedWindow(fmt.Sprintf("window %d", e.windows+2))
}

// NewNamedWindow is NewWindow for a person the test names: if the test
// fails, the window's console is shown under that name.
func (e *Env) NewNamedWindow(name string) context.Context {
	e.t.Helper()
	ctx, cancel := chromedp.NewContext(e.Ctx, chromedp.WithNewBrowserContext())
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		e.t.Fatalf("browsertest: open %s: %v", name, err)
	}
	e.windows++
	console := watchConsole(e.t, ctx, name)
	e.t.Cleanup(cancel)
	e.t.Cleanup(func() {
		_ = console.sync(ctx)
		for _, v := range console.newCSPViolations() {
			e.t.Errorf("Content-Security-Policy violation in %s: %s", name, v)
		}
	})
	return ctx
}

// SiteURL is the address of site name, for example http://acme.localhost:43817.
func (e *Env) SiteURL(name string) string { return e.App.Hosts.SiteURL(name) }

// Screenshot saves a PNG of the whole page as NN-name.png in the test's
// temporary directory and, when PORTAL_SCREENSHOTS_DIR is set, as name.png
// there too (where docs/screenshots are refreshed from). It returns the path
// in the temporary directory.
func (e *Env) Screenshot(name string) string {
	e.t.Helper()
	return e.ScreenshotOf(e.Ctx, name)
}

// ScreenshotOf is Screenshot of another window (NewWindow).
func (e *Env) ScreenshotOf(ctx context.Context, name string) string {
	e.t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		e.t.Fatalf("screenshot %s: %v", name, err)
	}
	if e.shotDir == "" {
		e.shotDir = filepath.Join(e.t.TempDir(), "screenshots")
		if err := os.MkdirAll(e.shotDir, 0o755); err != nil {
			e.t.Fatal(err)
		}
	}
	e.shots++
	file := safeName(name) + ".png"
	path := filepath.Join(e.shotDir, fmt.Sprintf("%02d-%s", e.shots, file))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		e.t.Fatalf("screenshot %s: %v", name, err)
	}
	e.t.Logf("screenshot %s", path)
	if dir := os.Getenv("PORTAL_SCREENSHOTS_DIR"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			e.t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, file), png, 0o644); err != nil {
			e.t.Fatalf("screenshot %s: %v", name, err)
		}
	}
	return path
}

var unsafeChars = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)

func safeName(name string) string {
	return strings.Trim(unsafeChars.ReplaceAllString(name, "-"), "-.")
}

// requireChromium fails the test (never skips it) when the browser is
// missing, and says how to install it.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		t.Fatalf("browser tests need Debian's Chromium at %s: run apt-get install -y chromium (.ci/run does); never a downloaded browser: %v", ChromiumPath, err)
	}
}

// startBrowser starts Debian's Chromium, headless, with a fresh profile and
// b's extra flags, and returns the context of its first tab, which ends
// after b's timeout.
func startBrowser(t *testing.T, b browser) context.Context {
	t.Helper()
	output := &lockedBuffer{}
	allocOpts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(ChromiumPath),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "chromium-profile")),
		chromedp.NoSandbox, // tests run as root in CI, where the sandbox cannot start
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		// The machines have no network but the package registries: without
		// these, Chromium keeps trying to reach Google's services.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.WindowSize(1280, 900),
		chromedp.CombinedOutput(output),
	)
	allocOpts = append(allocOpts, b.flags...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), allocOpts...)
	timeoutCtx, cancelTimeout := context.WithTimeout(allocCtx, b.timeout)
	ctx, cancelTab := chromedp.NewContext(timeoutCtx,
		chromedp.WithErrorf(func(format string, args ...any) { t.Logf("chromedp: "+format, args...) }))
	t.Cleanup(func() {
		cancelTab()
		cancelTimeout()
		cancelAlloc() // waits for the browser to exit
		if t.Failed() && output.Len() > 0 {
			t.Logf("chromium output (last 4 KiB):\n%s", output.Tail(4096))
		}
	})
	// Start the browser now, so that a broken installation fails here with
	// a clear message rather than in the test's first step.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browsertest: start %s: %v\n%s", ChromiumPath, err, output.Tail(4096))
	}
	return ctx
}

// portalLog is where the portal's log goes: with -v, to the test's output
// as it is written; otherwise to a buffer shown only if the test fails, at
// its end, after the test's own messages. A browser test's log runs to
// thousands of lines, and CI shows only the first and last lines of a
// failing test's output: the failure itself must not be lost among them.
func portalLog(t *testing.T) io.Writer {
	if testing.Verbose() {
		return t.Output()
	}
	buf := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() && buf.Len() > 0 {
			t.Logf("the portal's log (at most its last 256 KiB):\n%s", buf.Tail(256<<10))
		}
	})
	return buf
}

// lockedBuffer collects Chromium's output, written from the allocator's
// goroutine, or the portal's log, and is read at cleanup.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

func (b *lockedBuffer) Tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	if len(s) > n {
		// From the first whole line.
		s = s[len(s)-n:]
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
		s = "…\n" + s
	}
	return s
}

// WaitForURL waits until the tab's address is want, across any number of
// navigations (redirects, auto-submitted SAML forms), and fails the test
// with the last address seen if Ctx ends first. Waiting for an element is
// not enough after a form that submits itself: the intermediate page may
// have the same element.
func (e *Env) WaitForURL(want string) {
	e.t.Helper()
	e.WaitForURLOf(e.Ctx, want)
}

// WaitForURLOf is WaitForURL in another window (NewWindow).
func (e *Env) WaitForURLOf(ctx context.Context, want string) {
	e.t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var last string
	for {
		// During a navigation the evaluation may fail (its JavaScript
		// context is gone); the next tick tries again.
		if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
			if loc == want {
				return
			}
			last = loc
		}
		select {
		case <-ctx.Done():
			e.t.Fatalf("waiting for the browser to reach %s: %v; it is at %s", want, ctx.Err(), last)
		case <-tick.C:
		}
	}
}
