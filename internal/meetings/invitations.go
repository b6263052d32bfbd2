package meetings

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/meetings-portal/portal/internal/mail"
)

// inviteKind is what an invitation announces.
type inviteKind struct {
	name       string    // new, changed, cancelled, uninvited, occurrence-cancelled
	occurrence time.Time // the cancelled occurrence's RECURRENCE-ID
}

var (
	kindNew       = inviteKind{name: "new"}
	kindChanged   = inviteKind{name: "changed"}
	kindCancelled = inviteKind{name: "cancelled"}
	kindUninvited = inviteKind{name: "uninvited"} // taken off the invitee list
)

func occurrenceCancelled(originalStart time.Time) inviteKind {
	return inviteKind{name: "occurrence-cancelled", occurrence: originalStart}
}

// invitations builds one message per recipient; the calendar part carries
// the meeting's UID and current SEQUENCE, so each client updates the event
// it already has.
func invitations(site Site, m Meeting, kind inviteKind, now time.Time, to []string) []mail.Message {
	if len(to) == 0 {
		return nil
	}
	var subject, lead, method string
	var calendar []byte
	switch kind.name {
	case "new":
		subject, lead, method = "Invitation: "+m.Topic, hostLabel(m)+" invites you to a meeting.", MethodRequest
	case "changed":
		subject, lead, method = "Updated invitation: "+m.Topic, hostLabel(m)+" has changed this meeting.", MethodRequest
	case "cancelled", "uninvited":
		subject, lead, method = "Cancelled: "+m.Topic, hostLabel(m)+" has cancelled this meeting.", MethodCancel
		if kind.name == "uninvited" {
			lead = hostLabel(m) + " has taken you off the invitation list of this meeting."
		}
	case "occurrence-cancelled":
		when := formatWhen(kind.occurrence, m.Duration(), m.Zone())
		subject = "Cancelled: " + m.Topic + " on " + kind.occurrence.In(m.Zone()).Format("Mon 2 Jan 2006")
		lead, method = hostLabel(m)+" has cancelled the meeting of "+when+". The other meetings of the series take place as planned.", MethodCancel
		calendar = m.OccurrenceCancellation(site, kind.occurrence, now)
	}
	if calendar == nil {
		calendar = m.Invitation(site, method, now)
	}
	text, html := invitationBodies(site, m, lead, now)
	msgs := make([]mail.Message, 0, len(to))
	for _, email := range to {
		msgs = append(msgs, mail.Message{
			SiteID: m.SiteID, MeetingID: m.ID, To: email, Subject: subject,
			Text: text, HTML: html, Calendar: calendar, CalendarMethod: method,
		})
	}
	return msgs
}

func hostLabel(m Meeting) string {
	if m.HostName != "" {
		return m.HostName
	}
	return m.HostEmail
}

// InvitationText is the invitation as plain text, for the host to copy and
// send themselves when the portal has no mail server.
func InvitationText(site Site, m Meeting, now time.Time) string {
	text, _ := invitationBodies(site, m, hostLabel(m)+" invites you to a meeting.", now)
	return text
}

// invitationFacts are the lines of an invitation, shared by the text and
// HTML bodies.
type invitationFacts struct {
	Lead, Topic, When, Repeats, JoinURL, Number, Host, Agenda string
}

func invitationBodies(site Site, m Meeting, lead string, now time.Time) (string, string) {
	f := invitationFacts{
		Lead: lead, Topic: m.Topic, JoinURL: m.JoinURL(site), Number: GroupedNumber(m.Number),
		Host: hostLabel(m), Agenda: m.Agenda,
	}
	start := m.StartUTC
	if next, ok := m.Next(now); ok && m.RRule != "" {
		start = next.Start
	}
	f.When = formatWhen(start, m.Duration(), m.Zone())
	if m.RRule != "" {
		f.Repeats = m.RecurrenceText()
	}

	var text strings.Builder
	fmt.Fprintf(&text, "%s\n\nTopic: %s\nWhen: %s\n", f.Lead, f.Topic, f.When)
	if f.Repeats != "" {
		fmt.Fprintf(&text, "Repeats: %s\n", f.Repeats)
	}
	fmt.Fprintf(&text, "Host: %s\n\nJoin: %s\nMeeting number: %s\n", f.Host, f.JoinURL, f.Number)
	if f.Agenda != "" {
		fmt.Fprintf(&text, "\nAgenda:\n%s\n", f.Agenda)
	}
	var html bytes.Buffer
	if err := invitationHTML.Execute(&html, f); err != nil {
		// The template is fixed and its data are strings: an error here is
		// a programming error, and the text part still carries everything.
		return text.String(), ""
	}
	return text.String(), html.String()
}

var invitationHTML = template.Must(template.New("invitation").Parse(`<!doctype html>
<html><body style="font-family: sans-serif">
<p>{{.Lead}}</p>
<table>
<tr><th align="left">Topic</th><td>{{.Topic}}</td></tr>
<tr><th align="left">When</th><td>{{.When}}</td></tr>
{{if .Repeats}}<tr><th align="left">Repeats</th><td>{{.Repeats}}</td></tr>{{end}}
<tr><th align="left">Host</th><td>{{.Host}}</td></tr>
<tr><th align="left">Meeting number</th><td>{{.Number}}</td></tr>
</table>
<p><a href="{{.JoinURL}}">Join the meeting</a></p>
{{if .Agenda}}<h3>Agenda</h3><p style="white-space: pre-wrap">{{.Agenda}}</p>{{end}}
</body></html>
`))

// formatWhen is "Monday 16 March 2026, 10:00–11:00 (Europe/Berlin)".
func formatWhen(start time.Time, d time.Duration, loc *time.Location) string {
	s := start.In(loc)
	e := start.Add(d).In(loc)
	end := e.Format("15:04")
	if y, m, day := e.Date(); y != s.Year() || m != s.Month() || day != s.Day() {
		end = e.Format("Monday 2 January 2006, 15:04")
	}
	return fmt.Sprintf("%s, %s–%s (%s)", s.Format("Monday 2 January 2006"), s.Format("15:04"), end, loc)
}

// GroupedNumber writes a meeting number in groups of three or four digits
// from the left, as people read them out: "2551 234 567".
func GroupedNumber(number string) string {
	var groups []string
	head := len(number) % 3
	if head == 1 {
		head = 4
	}
	if head > 0 && head <= len(number) {
		groups = append(groups, number[:head])
		number = number[head:]
	}
	for len(number) > 0 {
		groups = append(groups, number[:3])
		number = number[3:]
	}
	return strings.Join(groups, " ")
}
