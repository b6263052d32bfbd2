package meetings_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/meetings-portal/portal/internal/mail/mailtest"
	"github.com/meetings-portal/portal/internal/portaltest"
)

// calendarField is one property of the calendar part, unfolded.
func calendarField(t *testing.T, calendar []byte, name string) string {
	t.Helper()
	unfolded := strings.ReplaceAll(string(calendar), "\r\n ", "")
	m := regexp.MustCompile(`(?m)^` + name + `[:;]([^\r\n]*)`).FindStringSubmatch(unfolded)
	if m == nil {
		t.Fatalf("calendar part has no %s:\n%s", name, calendar)
	}
	return m[1]
}

// received waits for n more messages after seen and parses them.
func received(t *testing.T, server *mailtest.Server, seen, n int) []mailtest.Parsed {
	t.Helper()
	all := server.Wait(t, seen+n, 10*time.Second)
	var out []mailtest.Parsed
	for _, r := range all[seen:] {
		out = append(out, mailtest.Parse(t, r.Data))
	}
	return out
}

func TestInvitationsGoOutThroughTheMailWorkerAsTheFormsChangeTheMeeting(t *testing.T) {
	smtp := mailtest.NewServer(t)
	w := newPortal(t, portaltest.WithSMTP(smtp.Addr))
	number := w.schedule(url.Values{"recurrence": {"daily"}, "recurrence_end": {"count"}, "recurrence_count": {"5"}})
	page := "/meetings/" + number

	// Scheduled: the invitee and the host each get a REQUEST.
	msgs := received(t, smtp, 0, 2)
	var to []string
	for _, p := range msgs {
		to = append(to, p.Header.Get("To"))
		if !slices.Equal(p.Structure, []string{"multipart/mixed", "  multipart/alternative", "    text/plain", "    text/html", "    text/calendar", "  application/ics"}) {
			t.Errorf("MIME structure %q", p.Structure)
		}
		if p.CalendarMethod != "REQUEST" || calendarField(t, p.Calendar, "METHOD") != "REQUEST" || calendarField(t, p.Calendar, "SEQUENCE") != "0" {
			t.Errorf("new invitation: method %q, calendar METHOD %s SEQUENCE %s", p.CalendarMethod,
				calendarField(t, p.Calendar, "METHOD"), calendarField(t, p.Calendar, "SEQUENCE"))
		}
		if !strings.Contains(p.Text, "http://acme.localhost:8080/j/"+number) || !strings.Contains(p.Header.Get("Subject"), "Invitation: Design review") {
			t.Errorf("invitation text %q subject %q", p.Text, p.Header.Get("Subject"))
		}
	}
	slices.Sort(to)
	if !strings.Contains(to[0], w.host.Email) || !strings.Contains(to[1], w.invitee.Email) {
		t.Errorf("sent to %q, want the host and the invitee", to)
	}
	uid := calendarField(t, msgs[0].Calendar, "UID")

	// With a mail server, the page offers no text to copy, and there is no
	// development mail page.
	_, body := w.get(page, w.hostC)
	lacks(t, "meeting page with SMTP", body, `id="invitation-text"`)
	admin := w.SignInAdmin(acmeHost, "admin@acme.test")
	if resp, _ := w.get("/admin/mail", admin); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/admin/mail with SMTP configured: %d, want 404", resp.StatusCode)
	}

	// The series edited through the form: the same UID, SEQUENCE 1.
	edit := w.scheduleForm(url.Values{"topic": {"Design review, moved"}, "start_time": {"11:00"},
		"recurrence": {"daily"}, "recurrence_end": {"count"}, "recurrence_count": {"5"}})
	resp, body := w.post(page+"/edit", edit, w.hostC)
	redirect(t, "edit", resp, body, page+"?done=updated")
	for _, p := range received(t, smtp, 2, 2) {
		if p.CalendarMethod != "REQUEST" || calendarField(t, p.Calendar, "UID") != uid || calendarField(t, p.Calendar, "SEQUENCE") != "1" ||
			!strings.Contains(p.Header.Get("Subject"), "Updated invitation: Design review, moved") {
			t.Errorf("update: %s %s SEQUENCE %s subject %q", p.CalendarMethod, calendarField(t, p.Calendar, "UID"),
				calendarField(t, p.Calendar, "SEQUENCE"), p.Header.Get("Subject"))
		}
	}

	// Cancelled: CANCEL, SEQUENCE 2.
	resp, body = w.post(page+"/cancel", url.Values{"scope": {"series"}}, w.hostC)
	redirect(t, "cancel", resp, body, page+"?done=cancelled")
	for _, p := range received(t, smtp, 4, 2) {
		if p.CalendarMethod != "CANCEL" || calendarField(t, p.Calendar, "UID") != uid || calendarField(t, p.Calendar, "SEQUENCE") != "2" {
			t.Errorf("cancel: %s %s SEQUENCE %s", p.CalendarMethod, calendarField(t, p.Calendar, "UID"), calendarField(t, p.Calendar, "SEQUENCE"))
		}
	}
}

func TestHostSeesAnInvitationTheMailServerRefused(t *testing.T) {
	smtp := mailtest.NewServer(t)
	smtp.RefuseNext(mailtest.Permanent)
	w := newPortal(t, portaltest.WithSMTP(smtp.Addr))
	number := w.schedule(url.Values{"invitees": {"nobody@acme.example.com"}})
	smtp.Wait(t, 1, 10*time.Second) // the other one of the two
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body := w.get("/meetings/"+number, w.hostC)
		if strings.Contains(body, "Invitations not delivered") {
			expect(t, "host's page", &http.Response{StatusCode: http.StatusOK}, body, http.StatusOK, "Given up", "No such mailbox")
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the refused invitation is not on the host's page:\n%.3000s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, body := w.get("/meetings/"+number, w.inviteeC)
	lacks(t, "another's view", body, "Invitations not delivered")
}

func TestWithoutSMTPTheHostCopiesTheInvitationAndTheAdminSeesWhatWouldHaveBeenSent(t *testing.T) {
	w := newPortal(t)
	number := w.schedule(nil)
	_, body := w.get("/meetings/"+number, w.hostC)
	expect(t, "host's page", &http.Response{StatusCode: http.StatusOK}, body, http.StatusOK,
		`id="invitation-text"`, "Ann Lee invites you to a meeting.", "Join: http://acme.localhost:8080/j/"+number)
	_, body = w.get("/meetings/"+number, w.inviteeC)
	lacks(t, "invitee's page", body, `id="invitation-text"`)

	admin := w.SignInAdmin(acmeHost, "admin@acme.test")
	resp, body := w.get("/admin", admin)
	expect(t, "admin home", resp, body, http.StatusOK, `href="/admin/mail"`, `href="/admin/meetings"`, `href="/admin/meetings/settings"`)
	resp, body = w.get("/admin/mail", admin)
	expect(t, "mail catcher", resp, body, http.StatusOK, "Invitation: Design review", w.invitee.Email, w.host.Email, "method=REQUEST", "BEGIN:VCALENDAR")
	// Another site's admin sees none of it.
	globexAdmin := w.SignInAdmin(globexHost, "admin@globex.test")
	_, body = w.Get(globexHost, "/admin/mail", globexAdmin)
	lacks(t, "globex's mail catcher", body, "Design review")
}
