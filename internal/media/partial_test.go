package media

import (
	"bytes"
	"html/template"
	"regexp"
	"strings"
	"testing"

	"github.com/meetings-portal/portal/web/static"
	"github.com/meetings-portal/portal/web/templates"
)

// The meeting page script finds its elements by data-media name in the
// markup of the "media" partial; a renamed element would silently break a
// control, so every name the script uses must be in the partial.
func TestMediaPartialHasEveryElementTheScriptUses(t *testing.T) {
	tmpl, err := template.ParseFS(templates.FS, "partial_media.html")
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	data := map[string]string{"SignalURL": "/meetings/345/media", "SelfID": `user:42"><script>`, "Role": "host", "LeaveForm": "leave-form"}
	if err := tmpl.ExecuteTemplate(&page, "media", data); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	for _, want := range []string{`id="media"`, `data-signal-url="/meetings/345/media"`, `data-role="host"`, `data-leave-form="leave-form"`} {
		if !strings.Contains(html, want) {
			t.Errorf("partial lacks %s", want)
		}
	}
	if strings.Contains(html, `"><script>`) {
		t.Error("the participant ID is not escaped")
	}
	// The page loads the script and the stylesheet at their content-hashed
	// addresses; the partial has no code of its own, which the CSP forbids.
	if regexp.MustCompile(`<script|<link|<style|style=|\son[a-z]+=`).MatchString(html) {
		t.Error("the partial has a script, a stylesheet or inline code")
	}

	script, err := static.FS.ReadFile("meeting-media.js")
	if err != nil {
		t.Fatal(err)
	}
	used := regexp.MustCompile(`\$\("([a-z-]+)"\)`).FindAllStringSubmatch(string(script), -1)
	if len(used) < 10 {
		t.Fatalf("found only %d element look-ups in the script", len(used))
	}
	for _, m := range used {
		if !strings.Contains(html, `data-media="`+m[1]+`"`) {
			t.Errorf("the script uses data-media=%q, which the partial lacks", m[1])
		}
	}
	css, err := static.FS.ReadFile("style.css")
	if err != nil || !strings.Contains(string(css), ".media-tile") {
		t.Error("style.css lacks the media styles")
	}
}
