package admin

import (
	"html/template"
	"strings"
	"testing"
	"time"

	"github.com/meetings-portal/portal/internal/sso"
)

// rowsTemplate is the events table's rows as the page's template wrote them
// before eventRows (the same markup, on one line a row): what eventRows must
// produce, escaping included.
const rowsTemplate = `{{range .}}<tr class="event result-{{.Result}}">` +
	`<td data-label="Time (UTC)" class="nowrap"><a href="/admin/events/{{.ID}}">{{.Time}}</a><br><span class="ref">{{.Reference}}</span></td>` +
	`<td data-label="User (NameID)">{{with .NameID}}<span class="address">{{.}}</span>{{else}}<span class="muted">unknown</span>{{end}}</td>` +
	`<td data-label="Flow">{{.FlowLabel}}</td>` +
	`<td data-label="Result"><span class="result {{.Result}}">{{.ResultLabel}}</span></td>` +
	`<td data-label="Reason">{{with .Reason}}<code>{{.}}</code>{{end}}{{with .Detail}}<p class="explanation">{{.}}</p>{{end}}</td></tr>
{{end}}`

func TestEventRowsAreWhatTheTemplateRenders(t *testing.T) {
	hostile := []string{
		`<script>alert(1)</script>`, `"><img src=x onerror=alert(2)>`, `' onmouseover='alert(3)`,
		"a+b&c;d", "nul\x00byte", "Zoë 李 ✓\t\r\n", "&amp; already escaped", "`backtick` =equals= /slash/", "",
	}
	at := time.Date(2026, 11, 30, 9, 5, 7, 0, time.UTC)
	var events []listedEvent
	for i, s := range hostile {
		for _, e := range []sso.Event{
			{ID: int64(i + 1), OccurredAt: at, Reference: s, NameID: s, Flow: sso.FlowSP, Result: sso.ResultRefused, Reason: s, Detail: s},
			{ID: int64(1000 + i), OccurredAt: at, Reference: "AAAA-BBBB-CCCC", NameID: s, Flow: sso.FlowIdP, Result: s},
			{ID: int64(1<<62 + i), OccurredAt: at, Flow: sso.FlowLogoutIdP, Result: sso.ResultSuccess},
		} {
			events = append(events, listed(e))
		}
	}
	var want strings.Builder
	if err := template.Must(template.New("rows").Parse(rowsTemplate)).Execute(&want, events); err != nil {
		t.Fatal(err)
	}
	got := string(eventRows(events))
	if got != want.String() {
		gotLines, wantLines := strings.Split(got, "\n"), strings.Split(want.String(), "\n")
		for i := range min(len(gotLines), len(wantLines)) {
			if gotLines[i] != wantLines[i] {
				t.Fatalf("row %d differs from html/template's:\n got %s\nwant %s", i, gotLines[i], wantLines[i])
			}
		}
		t.Fatalf("eventRows gave %d lines, html/template %d", len(gotLines), len(wantLines))
	}
	if strings.Contains(got, "<script>") || strings.Contains(got, "<img") || strings.Contains(got, "' onmouseover") {
		t.Errorf("rows hold markup from the values:\n%s", got)
	}
	if eventRows(nil) != "" {
		t.Errorf("no events: %q, want no rows", eventRows(nil))
	}
}

func BenchmarkEventRows(b *testing.B) {
	at := time.Date(2026, 11, 30, 9, 5, 7, 0, time.UTC)
	events := make([]listedEvent, eventsPerPage)
	for i := range events {
		events[i] = listed(sso.Event{ID: int64(i), OccurredAt: at, Reference: "AAAA-BBBB-CCCC", NameID: "user@example.com",
			Flow: sso.FlowSP, Result: sso.ResultRefused, Reason: "audience-mismatch", Detail: "The assertion is for another service provider."})
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = eventRows(events)
	}
}
