package mail_test

import (
	"context"
	"io"
	"log/slog"
	"net/mail"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/meetings-portal/portal/internal/dbtest"
	portalmail "github.com/meetings-portal/portal/internal/mail"
	"github.com/meetings-portal/portal/internal/mail/mailtest"
)

var invite = []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:1@x\r\nDTSTAMP:20260101T000000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")

var from = &mail.Address{Name: "Meetings", Address: "meetings@acme.example.com"}

func TestComposeBuildsWhatCalendarClientsReadAsAnInvitation(t *testing.T) {
	msg := portalmail.Message{To: "ann@example.com", Subject: "Invitation: Weekly sync — Größe", Text: "Join: https://acme.example.com/j/123456789\n", HTML: "<p>Join</p>", Calendar: invite, CalendarMethod: "REQUEST"}
	raw, err := portalmail.Compose(from, msg, time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	p := mailtest.Parse(t, raw)
	want := []string{"multipart/mixed", "  multipart/alternative", "    text/plain", "    text/html", "    text/calendar", "  application/ics"}
	if !reflect.DeepEqual(p.Structure, want) {
		t.Errorf("structure\n%s\nwant\n%s", strings.Join(p.Structure, "\n"), strings.Join(want, "\n"))
	}
	if subject, _ := p.Header.Subject(); subject != msg.Subject {
		t.Errorf("subject %q, want %q", subject, msg.Subject)
	}
	if id, _ := p.Header.MessageID(); !strings.HasSuffix(id, "@acme.example.com") {
		t.Errorf("Message-ID %q is not of the sender's domain", id)
	}
	if p.CalendarMethod != "REQUEST" || string(p.Calendar) != string(invite) || string(p.Attachments["invite.ics"]) != string(invite) {
		t.Errorf("calendar method %q, inline equal %v, attachment equal %v", p.CalendarMethod, string(p.Calendar) == string(invite), string(p.Attachments["invite.ics"]) == string(invite))
	}
	if strings.ReplaceAll(p.Text, "\r\n", "\n") != msg.Text || p.HTML != msg.HTML {
		t.Errorf("text %q html %q", p.Text, p.HTML)
	}
}

func TestComposeWithoutCalendarIsPlainAlternative(t *testing.T) {
	raw, err := portalmail.Compose(from, portalmail.Message{To: "ann@example.com", Subject: "Hello", Text: "Hi"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got := mailtest.Parse(t, raw).Structure; !reflect.DeepEqual(got, []string{"multipart/alternative", "  text/plain"}) {
		t.Errorf("structure %v", got)
	}
}

func TestParseSMTPURL(t *testing.T) {
	tests := []struct {
		raw     string
		want    portalmail.SMTPConfig
		wantErr bool
	}{
		{raw: "smtp://mail.example.com", want: portalmail.SMTPConfig{Addr: "mail.example.com:587"}},
		{raw: "smtp://user:p%40ss@mail.example.com:2525", want: portalmail.SMTPConfig{Addr: "mail.example.com:2525", Username: "user", Password: "p@ss"}},
		{raw: "smtps://user:secret@mail.example.com", want: portalmail.SMTPConfig{Addr: "mail.example.com:465", Username: "user", Password: "secret", ImplicitTLS: true}},
		{raw: "smtp://[::1]:25", want: portalmail.SMTPConfig{Addr: "[::1]:25"}},
		{raw: "http://mail.example.com", wantErr: true},
		{raw: "smtp://", wantErr: true},
		{raw: "smtp://mail.example.com/path", wantErr: true},
	}
	for _, tt := range tests {
		got, err := portalmail.ParseSMTPURL(tt.raw)
		if (err != nil) != tt.wantErr || (!tt.wantErr && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("ParseSMTPURL(%q) = %+v, %v; want %+v, error %v", tt.raw, got, err, tt.want, tt.wantErr)
		}
	}
	if s := (portalmail.SMTPConfig{Addr: "h:25", Username: "u", Password: "secret"}).String(); strings.Contains(s, "secret") {
		t.Errorf("String() shows the password: %s", s)
	}
}

func TestBackoffDoublesUpToItsCap(t *testing.T) {
	w := &portalmail.Worker{FirstRetry: time.Minute, MaxRetry: 10 * time.Minute}
	var got []time.Duration
	for failures := 1; failures <= 6; failures++ {
		got = append(got, w.Backoff(failures))
	}
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 10 * time.Minute, 10 * time.Minute}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("backoff %v, want %v", got, want)
	}
}

// clock is a test clock moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	pool   *pgxpool.Pool
	siteID int64
	clock  *clock
	outbox *portalmail.Outbox
	server *mailtest.Server
	worker *portalmail.Worker
}

func newFixture(t *testing.T, deliver bool) *fixture {
	t.Helper()
	f := &fixture{pool: dbtest.New(t), clock: &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}, server: mailtest.NewServer(t)}
	if err := f.pool.QueryRow(context.Background(), `INSERT INTO sites (name) VALUES ('acme') RETURNING id`).Scan(&f.siteID); err != nil {
		t.Fatal(err)
	}
	f.outbox = portalmail.NewOutbox(f.pool, f.clock.now, deliver)
	f.worker = f.newWorker()
	return f
}

func (f *fixture) newWorker() *portalmail.Worker {
	return &portalmail.Worker{
		Pool: f.pool, From: from, Now: f.clock.now, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Sender:     &portalmail.SMTPSender{Config: portalmail.SMTPConfig{Addr: f.server.Addr}, Timeout: 10 * time.Second},
		FirstRetry: time.Minute, MaxRetry: time.Hour, MaxAttempts: 3,
	}
}

func (f *fixture) enqueue(t *testing.T, msgs ...portalmail.Message) {
	t.Helper()
	for i := range msgs {
		msgs[i].SiteID = f.siteID
	}
	if err := f.outbox.Enqueue(context.Background(), f.pool, msgs...); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) sendDue(t *testing.T) int {
	t.Helper()
	n, err := f.worker.SendDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestWorkerDeliversThroughSMTP(t *testing.T) {
	f := newFixture(t, true)
	f.enqueue(t, portalmail.Message{To: "ann@example.com", Subject: "Invitation", Text: "Hi", Calendar: invite, CalendarMethod: "REQUEST"})
	if n := f.sendDue(t); n != 1 {
		t.Fatalf("sent %d, want 1", n)
	}
	got := f.server.Messages()
	if len(got) != 1 || got[0].From != from.Address || !reflect.DeepEqual(got[0].To, []string{"ann@example.com"}) {
		t.Fatalf("received %+v", got)
	}
	if p := mailtest.Parse(t, got[0].Data); p.CalendarMethod != "REQUEST" {
		t.Errorf("method %q", p.CalendarMethod)
	}
	if n := f.sendDue(t); n != 0 || len(f.server.Messages()) != 1 {
		t.Errorf("a sent message was sent again")
	}
}

func TestWorkerRetriesAfterATemporaryRefusalAndDeliversOnce(t *testing.T) {
	f := newFixture(t, true)
	f.enqueue(t, portalmail.Message{To: "ann@example.com", Subject: "Invitation", Text: "Hi"})
	f.server.RefuseNext(mailtest.Temporary)

	if n := f.sendDue(t); n != 0 {
		t.Fatalf("sent %d on a refusal", n)
	}
	entries, err := f.outbox.Recent(context.Background(), f.siteID, 10)
	if err != nil {
		t.Fatal(err)
	}
	e := entries[0]
	if e.State != portalmail.StateQueued || e.Attempts != 1 || !strings.Contains(e.LastError, "451") || !e.NextAttemptAt.Equal(f.clock.now().Add(time.Minute)) {
		t.Fatalf("after refusal: state %s attempts %d error %q next %s", e.State, e.Attempts, e.LastError, e.NextAttemptAt)
	}
	if n := f.sendDue(t); n != 0 {
		t.Fatal("retried before the backoff ran out")
	}
	f.clock.advance(time.Minute)
	if n := f.sendDue(t); n != 1 {
		t.Fatalf("sent %d after the backoff, want 1", n)
	}
	f.clock.advance(time.Hour)
	f.sendDue(t)
	if got := f.server.Messages(); len(got) != 1 {
		t.Fatalf("received %d messages, want exactly 1", len(got))
	}
	entries, _ = f.outbox.Recent(context.Background(), f.siteID, 10)
	if e := entries[0]; e.State != portalmail.StateSent || e.LastError != "" || e.SentAt == nil {
		t.Errorf("after delivery: state %s error %q sent %v", e.State, e.LastError, e.SentAt)
	}
}

func TestWorkerGivesUpOnPermanentRefusalAndAfterMaxAttempts(t *testing.T) {
	f := newFixture(t, true)
	ctx := context.Background()
	var meetingID int64
	if err := f.pool.QueryRow(ctx, `
WITH u AS (INSERT INTO users (site_id, uid, email, created_at, updated_at) VALUES ($1, 'host@example.com', 'host@example.com', now(), now()) RETURNING id)
INSERT INTO meetings (site_id, number, host_user_id, host_email, topic, start_utc, time_zone, duration_minutes, ends_utc, created_at, updated_at)
SELECT $1, '123456789', id, 'host@example.com', 'Sync', now(), 'UTC', 30, now(), now(), now() FROM u RETURNING id`, f.siteID).Scan(&meetingID); err != nil {
		t.Fatal(err)
	}
	f.enqueue(t, portalmail.Message{MeetingID: meetingID, To: "nobody@example.com", Subject: "Invitation", Text: "Hi"})
	f.server.RefuseNext(mailtest.Permanent)
	f.sendDue(t)
	problems, err := f.outbox.Problems(ctx, f.siteID, meetingID)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || problems[0].State != portalmail.StateFailed || !strings.Contains(problems[0].LastError, "550") {
		t.Fatalf("problems after a 550: %+v", problems)
	}

	f.enqueue(t, portalmail.Message{MeetingID: meetingID, To: "greylisted@example.com", Subject: "Invitation", Text: "Hi"})
	f.server.RefuseNext(mailtest.Temporary, mailtest.Temporary, mailtest.Temporary, mailtest.Temporary)
	for range 5 {
		f.sendDue(t)
		f.clock.advance(2 * time.Hour)
	}
	problems, _ = f.outbox.Problems(ctx, f.siteID, meetingID)
	if len(problems) != 2 || problems[0].Recipient != "greylisted@example.com" || problems[0].State != portalmail.StateFailed || problems[0].Attempts != 3 {
		t.Fatalf("problems after three 451s: %+v", problems)
	}
	if len(f.server.Messages()) != 0 {
		t.Error("a refused message was received")
	}
}

func TestWithoutSMTPMessagesAreKeptForDevelopment(t *testing.T) {
	f := newFixture(t, false)
	f.enqueue(t, portalmail.Message{To: "ann@example.com", Subject: "Invitation", Text: "Join here"})
	if n := f.sendDue(t); n != 0 {
		t.Fatalf("sent %d without SMTP", n)
	}
	entries, err := f.outbox.Recent(context.Background(), f.siteID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].State != portalmail.StateKept || entries[0].TextBody != "Join here" {
		t.Fatalf("kept: %+v", entries)
	}
	other := int64(0)
	if err := f.pool.QueryRow(context.Background(), `INSERT INTO sites (name) VALUES ('other') RETURNING id`).Scan(&other); err != nil {
		t.Fatal(err)
	}
	if entries, _ := f.outbox.Recent(context.Background(), other, 10); len(entries) != 0 {
		t.Errorf("another site sees %d messages", len(entries))
	}
}

func TestTwoWorkersSendEveryMessageOnce(t *testing.T) {
	f := newFixture(t, true)
	const n = 30
	var msgs []portalmail.Message
	for i := range n {
		msgs = append(msgs, portalmail.Message{To: "user" + string(rune('a'+i%26)) + "@example.com", Subject: "Message", Text: "Hi"})
	}
	f.enqueue(t, msgs...)
	other := f.newWorker()
	other.Batch, f.worker.Batch = 3, 3
	var wg sync.WaitGroup
	for _, w := range []*portalmail.Worker{f.worker, other} {
		wg.Go(func() {
			if _, err := w.SendDue(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := len(f.server.Messages()); got != n {
		t.Errorf("received %d messages, want %d", got, n)
	}
}

func TestRunSendsAsSoonAsAMessageIsEnqueued(t *testing.T) {
	f := newFixture(t, true)
	f.worker.Now = time.Now
	f.outbox = portalmail.NewOutbox(f.pool, time.Now, true)
	f.worker.Poll = time.Minute // only the NOTIFY can make it send in time
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.worker.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	time.Sleep(200 * time.Millisecond) // let it LISTEN and find the outbox empty
	f.enqueue(t, portalmail.Message{To: "ann@example.com", Subject: "Now", Text: "Hi"})
	f.server.Wait(t, 1, 3*time.Second)
}
