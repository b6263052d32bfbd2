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
	data := map[string]string{"SignalURL": "/meetings/345/media", "SelfID": `user:42"><script>`, "Role": "host"}
	if err := tmpl.ExecuteTemplate(&page, "media", data); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	for _, want := range []string{`id="media"`, `data-signal-url="/meetings/345/media"`, `data-role="host"`,
		`<script src="/static/meeting-media.js" defer></script>`, `href="/static/meeting-media.css"`} {
		if !strings.Contains(html, want) {
			t.Errorf("partial lacks %s", want)
		}
	}
	if strings.Contains(html, `"><script>`) {
		t.Error("the participant ID is not escaped")
	}
	if regexp.MustCompile(`<script>|<style|style=|\son[a-z]+=`).MatchString(html) {
		t.Error("the partial has inline script or style, which the CSP forbids")
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
	if _, err := static.FS.ReadFile("meeting-media.css"); err != nil {
		t.Error("meeting-media.css is not embedded")
	}
}
