package browsertest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// consoleLog keeps every console message of the tab: calls of the console
// API, uncaught exceptions and the browser's own log, where Chromium reports
// Content-Security-Policy violations.
type consoleLog struct {
	mu      sync.Mutex
	msgs    []chromedp.ConsoleMessage
	arrived chan struct{} // closed and replaced at every message
	checked int           // messages already searched for CSP violations
	syncs   atomic.Int64
}

// watchConsole collects the console of the tab in ctx; if the test fails,
// its end shows what the page said there under name.
func watchConsole(t *testing.T, ctx context.Context, name string) *consoleLog {
	t.Helper()
	c := &consoleLog{arrived: make(chan struct{})}
	t.Cleanup(func() { c.reportIfFailed(t, name) })
	// Console subscribes when it returns, so nothing after this line is lost;
	// the messages are read on another goroutine.
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return // the tab's context ended
			}
			c.mu.Lock()
			c.msgs = append(c.msgs, m)
			close(c.arrived)
			c.arrived = make(chan struct{})
			c.mu.Unlock()
		}
	}()
	return c
}

// sync waits until every message the page wrote so far has been collected:
// the messages arrive in order, so once a marker written now is seen, all
// earlier ones are in.
func (c *consoleLog) sync(ctx context.Context) error {
	marker := fmt.Sprintf("browsertest-sync-%d", c.syncs.Add(1))
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf("console.debug(%q)", marker))); err != nil {
		return fmt.Errorf("sync console: %w", err)
	}
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		arrived := c.arrived
		for _, m := range c.msgs {
			if m.Text == marker {
				c.mu.Unlock()
				return nil
			}
		}
		c.mu.Unlock()
		select {
		case <-arrived:
		case <-ctx.Done():
			return fmt.Errorf("sync console: %w", ctx.Err())
		case <-deadline.C:
			return fmt.Errorf("sync console: marker %s not seen in 5s", marker)
		}
	}
}

func (c *consoleLog) snapshot() []chromedp.ConsoleMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]chromedp.ConsoleMessage, 0, len(c.msgs))
	for _, m := range c.msgs {
		if !strings.HasPrefix(m.Text, "browsertest-sync-") {
			out = append(out, m)
		}
	}
	return out
}

// reportIfFailed logs, when the test has failed, the page's last console
// messages that were not debug lines: a script's error or warning explains
// many a wait that never ended.
func (c *consoleLog) reportIfFailed(t *testing.T, name string) {
	if !t.Failed() {
		return
	}
	var lines []string
	for _, m := range c.snapshot() {
		if m.Type == chromedp.ConsoleDebug {
			continue
		}
		lines = append(lines, fmt.Sprintf("%s %s: %s (%s:%d)", m.Time.UTC().Format("15:04:05.000"), m.Type, m.Text, m.URL, m.Line+1))
	}
	if len(lines) == 0 {
		return
	}
	const last = 40
	if len(lines) > last {
		lines = append([]string{fmt.Sprintf("… %d earlier", len(lines)-last)}, lines[len(lines)-last:]...)
	}
	t.Logf("the console of %s:\n%s", name, strings.Join(lines, "\n"))
}

// Console returns every console message of the tab so far: console API
// calls, uncaught exceptions and browser log entries.
func (e *Env) Console() []chromedp.ConsoleMessage {
	e.t.Helper()
	if err := e.console.sync(e.Ctx); err != nil {
		e.t.Fatal(err)
	}
	return e.console.snapshot()
}

// CSPViolations returns the console messages in which Chromium reported,
// since the previous call, that the Content-Security-Policy blocked something
// (an inline script or style, a script from another origin, a frame, …).
// Violations no call returned fail the test when it ends.
func (e *Env) CSPViolations() []string {
	e.t.Helper()
	if err := e.console.sync(e.Ctx); err != nil {
		e.t.Fatal(err)
	}
	return e.console.newCSPViolations()
}

// newCSPViolations returns the violations among the messages not searched yet.
func (c *consoleLog) newCSPViolations() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, m := range c.msgs[c.checked:] {
		// Chromium words them "Refused to … because it violates the following
		// Content Security Policy directive: …".
		if strings.Contains(m.Text, "Content Security Policy") {
			out = append(out, fmt.Sprintf("%s (%s)", m.Text, m.URL))
		}
	}
	c.checked = len(c.msgs)
	return out
}

// failOnCSPViolations runs when the test ends: the portal forbids inline
// script and style, so any violation on any page a test opened is a bug.
func (e *Env) failOnCSPViolations() {
	// If the tab is gone (the test timed out), report what was collected.
	_ = e.console.sync(e.Ctx)
	for _, v := range e.console.newCSPViolations() {
		e.t.Errorf("Content-Security-Policy violation: %s", v)
	}
}
