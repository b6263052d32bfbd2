package browsertest

import (
	"context"
	_ "embed" // axe-core
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/chromedp/chromedp"
)

// axeSource is axe-core, vendored in testdata/axe (see its README.md):
// tests never download it.
//
//go:embed testdata/axe/axe.min.js
var axeSource string

// axeRun runs axe-core on the whole document against WCAG 2.1 A and AA
// and axe's best practices, and returns the violations as JSON. The
// scripts run through the DevTools protocol, which the page's
// Content-Security-Policy does not apply to: the page itself stays under
// its policy (and watched for violations).
const axeRun = `(async () => {
	const r = await axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}, resultTypes: ["violations"]});
	return JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
		nodes: v.nodes.map(n => ({target: n.target.join(" "), html: n.html.slice(0, 200), summary: n.failureSummary}))})));
})()`

// A11yViolation is one rule axe-core found broken on a page, with the
// elements that break it.
type A11yViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  string `json:"target"`
		HTML    string `json:"html"`
		Summary string `json:"summary"`
	} `json:"nodes"`
}

// CheckAccessibility runs axe-core on the page open in ctx and fails the
// test for every serious or critical violation, naming the page (page is
// how the test calls it), the rule and the elements. Minor and moderate
// findings are logged, not failed.
func (e *Env) CheckAccessibility(ctx context.Context, page string) {
	e.t.Helper()
	violations, err := Accessibility(ctx)
	if err != nil {
		e.t.Fatalf("accessibility check of %s: %v", page, err)
	}
	for _, v := range violations {
		var where []string
		for _, n := range v.Nodes {
			where = append(where, fmt.Sprintf("    %s: %s\n      %s", n.Target, n.HTML, strings.ReplaceAll(n.Summary, "\n", "\n      ")))
		}
		msg := fmt.Sprintf("%s: %s (%s): %s\n%s", page, v.ID, v.Impact, v.Help, strings.Join(where, "\n"))
		if v.Impact == "serious" || v.Impact == "critical" {
			e.t.Error(msg)
		} else {
			e.t.Log(msg)
		}
	}
}

// Accessibility returns axe-core's violations on the page open in ctx.
func Accessibility(ctx context.Context) ([]A11yViolation, error) {
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe === "object"`))
	if err != nil {
		return nil, err
	}
	if !loaded {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axeSource+";true")); err != nil {
			return nil, fmt.Errorf("load axe-core: %w", err)
		}
	}
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("run axe-core: %w", err)
	}
	var violations []A11yViolation
	if err := json.Unmarshal([]byte(out), &violations); err != nil {
		return nil, fmt.Errorf("axe-core's answer: %w", err)
	}
	return violations, nil
}

// DocWidth and DocHeight are the size of the documentation's screenshots.
const DocWidth, DocHeight = 1280, 800

// DocScreenshot, when PORTAL_SCREENSHOTS=1, saves what the tab ctx shows
// (its viewport, which the caller sets to DocWidth×DocHeight or a phone's
// size) as docs/screenshots/<name>-<width>.png in the repository, where
// the README and docs/AZURE.md show them from. Otherwise it does nothing:
// the pages are checked by the test either way.
func (e *Env) DocScreenshot(ctx context.Context, name string) {
	e.t.Helper()
	if os.Getenv("PORTAL_SCREENSHOTS") != "1" {
		return
	}
	width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.innerWidth`))
	if err != nil {
		e.t.Fatalf("screenshot %s: %v", name, err)
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		e.t.Fatalf("screenshot %s: %v", name, err)
	}
	dir, err := docsScreenshots()
	if err != nil {
		e.t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%d.png", safeName(name), width))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		e.t.Fatalf("screenshot %s: %v", name, err)
	}
	e.t.Logf("screenshot %s", path)
}

// docsScreenshots is docs/screenshots of the repository the test runs in:
// the directory of go.mod, found from the working directory up.
func docsScreenshots() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			shots := filepath.Join(dir, "docs", "screenshots")
			return shots, os.MkdirAll(shots, 0o755)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}
