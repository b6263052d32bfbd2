package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meetings-portal/portal/internal/meetings"
	"github.com/meetings-portal/portal/internal/sites"
)

// scheduleMeeting schedules topic on site through the domain, hosted by a
// new user there.
func (p *portal) scheduleMeeting(site sites.Site, hostEmail, topic string) meetings.Meeting {
	p.t.Helper()
	host, _ := p.signInUser(site, hostEmail, "")
	form := meetings.NewScheduleForm(url.Values{
		"topic": {topic}, "date": {time.Now().UTC().AddDate(0, 0, 2).Format("2006-01-02")}, "start_time": {"09:00"}, "duration": {"45"},
	})
	if errs := form.Validate(time.Now(), time.UTC); len(errs) > 0 {
		p.t.Fatal(errs)
	}
	m, err := p.App.Meetings.Schedule(context.Background(), meetings.Site{ID: site.ID, URL: p.App.Hosts.SiteURL(site.Name)}, meetings.ViewerOf(host), form.Details())
	if err != nil {
		p.t.Fatal(err)
	}
	return m
}

func TestMeetingsPageListsAndSearchesTheSitesMeetingsOnly(t *testing.T) {
	p := newPortal(t)
	roadmap := p.scheduleMeeting(p.acme, "ann.lee@acme.example.com", "Roadmap review")
	p.scheduleMeeting(p.acme, "bob.ray@acme.example.com", "Budget 2027")
	p.scheduleMeeting(p.globex, "eve@globex.example.com", "Globex roadmap")

	body := p.get(acmeHost, "/admin/meetings", p.acmeAdmin)
	if rowCount(t, body, "meetings") != 2 || !strings.Contains(body, "Roadmap review") || !strings.Contains(body, "Budget 2027") {
		t.Fatalf("all of acme's meetings:\n%s", body)
	}
	if strings.Contains(body, "Globex roadmap") {
		t.Fatal("acme's admin sees a meeting of globex")
	}
	for query, want := range map[string]string{
		"roadmap":                              "Roadmap review",
		"bob.ray":                              "Budget 2027",
		meetings.GroupedNumber(roadmap.Number): "Roadmap review",
		roadmap.Number[:5]:                     "Roadmap review",
	} {
		body := p.get(acmeHost, "/admin/meetings?q="+url.QueryEscape(query), p.acmeAdmin)
		if rowCount(t, body, "meetings") != 1 || !strings.Contains(body, want) {
			t.Errorf("search %q: want only %q:\n%.2000s", query, want, body)
		}
	}
	body = p.get(acmeHost, "/admin/meetings?q=nothing-like-this", p.acmeAdmin)
	if !strings.Contains(body, "No meeting matches") {
		t.Errorf("a search without results:\n%.2000s", body)
	}
	// Admins only.
	if resp, _ := p.Get(acmeHost, "/admin/meetings"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("/admin/meetings without an admin session: %d", resp.StatusCode)
	}
}

func TestMeetingsPageIsPaged(t *testing.T) {
	p := newPortal(t)
	for i := range 51 {
		p.scheduleMeeting(p.acme, fmt.Sprintf("host%d@acme.example.com", i%3), fmt.Sprintf("Meeting %02d", i))
	}
	body := p.get(acmeHost, "/admin/meetings", p.acmeAdmin)
	prev, next := pagerLinks(body)
	if rowCount(t, body, "meetings") != 50 || prev != "" || next != "/admin/meetings?page=2" {
		t.Fatalf("page 1: %d rows, links %q %q", rowCount(t, body, "meetings"), prev, next)
	}
	body = p.get(acmeHost, next, p.acmeAdmin)
	if prev, next := pagerLinks(body); rowCount(t, body, "meetings") != 1 || prev != "/admin/meetings" || next != "" {
		t.Fatalf("page 2: %d rows, links %q %q", rowCount(t, body, "meetings"), prev, next)
	}
}

func TestMeetingSettingsAreSavedAuditedAndChecked(t *testing.T) {
	p := newPortal(t)
	body := p.get(acmeHost, "/admin/meetings/settings", p.acmeAdmin)
	if !strings.Contains(body, `<option value="UTC" selected>`) || !strings.Contains(body, `id="hosts-all" name="hosts" value="all" checked`) {
		t.Fatalf("defaults: UTC and all users:\n%.3000s", body)
	}
	p.post(acmeHost, "/admin/meetings/settings", url.Values{"default_time_zone": {"Europe/Berlin"}, "hosts": {"host-role"}},
		"/admin/meetings/settings?done=saved", p.acmeAdmin)
	body = p.get(acmeHost, "/admin/meetings/settings?done=saved", p.acmeAdmin)
	if !strings.Contains(body, "Saved.") || !strings.Contains(body, `<option value="Europe/Berlin" selected>`) ||
		!strings.Contains(body, `value="host-role" checked`) {
		t.Fatalf("after saving:\n%.3000s", body)
	}
	if got := p.auditActions(); !slices.Contains(got, "meetings.settings") {
		t.Errorf("audit %v", got)
	}
	// globex keeps its own.
	set, err := p.App.Meetings.Settings(context.Background(), p.globex.ID)
	if err != nil || set != meetings.DefaultSettings {
		t.Errorf("globex's settings %+v %v", set, err)
	}

	for name, form := range map[string]url.Values{
		"unknown zone":  {"default_time_zone": {"Mars/Olympus_Mons"}, "hosts": {"all"}},
		"unknown hosts": {"default_time_zone": {"UTC"}, "hosts": {"everyone"}},
	} {
		resp, body := p.PostForm(acmeHost, "/admin/meetings/settings", form, p.acmeAdmin)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="settings-error"`) {
			t.Errorf("%s: %d %.1000s", name, resp.StatusCode, body)
		}
	}
	if set, _ := p.App.Meetings.Settings(context.Background(), p.acme.ID); set.DefaultTimeZone != "Europe/Berlin" {
		t.Errorf("a refused form changed the settings: %+v", set)
	}
}
