package browsertest_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"

	"github.com/meetings-portal/portal/internal/browsertest"
	"github.com/meetings-portal/portal/internal/sso"
)

// signInAtDevIdP fills the development IdP's form in ctx as user.
func signInAtDevIdP(t *testing.T, ctx context.Context, user string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.ID("user")),
		chromedp.SendKeys(chromedp.ID("user"), user),
		chromedp.SendKeys(chromedp.ID("password"), demoPassword),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
	); err != nil {
		t.Fatalf("sign in as %s at the development IdP: %v", user, err)
	}
}

// scheduleWithGuests schedules, in ctx signed in to site, a meeting with
// this topic that lets guests in, and returns its number.
func scheduleWithGuests(t *testing.T, ctx context.Context, site, topic string) string {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(site+"/meetings/new"),
		chromedp.WaitVisible(chromedp.ID("topic")),
		chromedp.SendKeys(chromedp.ID("topic"), topic),
		chromedp.Click(chromedp.ID("who_can_join-guests")),
		chromedp.Click(chromedp.ID("schedule-submit")),
	); err != nil {
		t.Fatalf("schedule: %v", err)
	}
	return scheduled(t, ctx)
}

var meetingURL = regexp.MustCompile(`/meetings/([0-9]{9,11})\?done=scheduled$`)

// scheduled waits in ctx for the meeting page the Schedule form leads to
// and returns the meeting's number.
func scheduled(t *testing.T, ctx context.Context) string {
	t.Helper()
	waitForText(t, ctx, "main", "The meeting is scheduled.")
	location, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	m := meetingURL.FindStringSubmatch(location)
	if m == nil {
		t.Fatalf("after scheduling the browser is at %s", location)
	}
	return m[1]
}

// devIdPSite creates site acme signing in through the development IdP,
// accounts made at the first sign-in, as `make run` sets it up, and returns
// its address.
func devIdPSite(t *testing.T, env *browsertest.Env) string {
	t.Helper()
	idp := env.StartDevIdP(demoPassword)
	ctx := context.Background()
	site := env.CreateSite("acme")
	metadata, err := idp.MetadataXML()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.SSO.ImportMetadata(ctx, site.ID, metadata, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := env.App.SSO.UpdateSettings(ctx, site.ID, func(s *sso.Settings) error {
		s.Enabled, s.AutoCreate = true, true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return env.SiteURL("acme")
}

// signInToHome opens the site in ctx and signs in as user at the
// development IdP, landing on the meetings home.
func signInToHome(t *testing.T, env *browsertest.Env, ctx context.Context, site, user string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(site+"/")); err != nil {
		t.Fatal(err)
	}
	signInAtDevIdP(t, ctx, user)
	env.WaitForURLOf(ctx, site+"/")
}

func TestPreferencesOfferTheBrowsersTimeZoneOnTheFirstVisit(t *testing.T) {
	env := browsertest.New(t)
	acme := devIdPSite(t, env)
	if err := chromedp.Do(env.Ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "America/New_York"})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	signInToHome(t, env, env.Ctx, acme, "b.simon")
	if err := chromedp.Do(env.Ctx,
		chromedp.Navigate(acme+"/preferences"),
		chromedp.WaitVisible(chromedp.ID("browser-zone")),
	); err != nil {
		t.Fatalf("the browser's zone is not offered: %v", err)
	}
	waitForText(t, env.Ctx, "#browser-zone", "America/New York")
	if err := chromedp.Do(env.Ctx, chromedp.Click(chromedp.ID("use-browser-zone"))); err != nil {
		t.Fatal(err)
	}
	waitForText(t, env.Ctx, "main", "Your preferences are saved.")
	if zone, err := chromedp.Run(env.Ctx, chromedp.Value(chromedp.ID("time_zone"))); err != nil || zone != "America/New_York" {
		t.Fatalf("time zone after using the browser's: %q (%v)", zone, err)
	}
	// Chosen: not offered again.
	if n, err := chromedp.Run(env.Ctx, chromedp.Evaluate[int](`document.querySelectorAll("[data-offer-browser-zone]").length`)); err != nil || n != 0 {
		t.Errorf("still offered after choosing: %d (%v)", n, err)
	}
	if err := chromedp.Do(env.Ctx, chromedp.Navigate(acme+"/")); err != nil {
		t.Fatal(err)
	}
	waitForText(t, env.Ctx, "main", "Times are shown in America/New_York.")
}

func TestMeetingIsScheduledJoinedThroughSSOAndAGuestAdmittedFromTheLobby(t *testing.T) {
	env := browsertest.New(t)
	acme := devIdPSite(t, env)

	// B.Simon signs in and schedules a weekly meeting inviting a.lee.
	signInToHome(t, env, env.Ctx, acme, "b.simon")
	if err := chromedp.Do(env.Ctx,
		chromedp.WaitVisible(chromedp.ID("schedule-meeting")),
		chromedp.Click(chromedp.ID("schedule-meeting")),
		chromedp.WaitVisible(chromedp.ID("topic")),
		chromedp.SendKeys(chromedp.ID("topic"), "Weekly design review"),
		chromedp.SetValue(chromedp.ID("recurrence"), "weekly"),
		chromedp.SetValue(chromedp.ID("recurrence_count"), "8"),
		chromedp.SendKeys(chromedp.ID("invitees"), "alice.lee@contoso.com"),
		chromedp.SendKeys(chromedp.ID("agenda"), "Walk through this week's designs."),
		chromedp.Click(chromedp.ID("who_can_join-guests")),
	); err != nil {
		t.Fatalf("fill in the Schedule form: %v", err)
	}
	env.Screenshot("meetings-schedule")
	if err := chromedp.Do(env.Ctx, chromedp.Click(chromedp.ID("schedule-submit"))); err != nil {
		t.Fatal(err)
	}
	number := scheduled(t, env.Ctx)
	page := acme + "/meetings/" + number
	waitForText(t, env.Ctx, "#meeting-repeats", "Every week on")

	// It is on the home page.
	if err := chromedp.Do(env.Ctx, chromedp.Navigate(acme+"/")); err != nil {
		t.Fatal(err)
	}
	waitForText(t, env.Ctx, "#upcoming", "Weekly design review")
	env.Screenshot("meetings-home")

	// The .ics downloads.
	downloads := t.TempDir()
	progress := chromedp.Events(env.Ctx, browser.DownloadProgress)
	if err := chromedp.Do(env.Ctx,
		chromedp.Navigate(page),
		chromedp.WaitVisible(chromedp.ID("add-to-calendar")),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: downloads, EventsEnabled: new(true),
			})
			return err
		}),
		chromedp.Click(chromedp.ID("add-to-calendar")),
	); err != nil {
		t.Fatalf("download the .ics: %v", err)
	}
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			ics, err := os.ReadFile(filepath.Join(downloads, ev.GUID))
			if err != nil {
				t.Fatal(err)
			}
			unfolded := strings.ReplaceAll(string(ics), "\r\n ", "")
			for _, want := range []string{"BEGIN:VCALENDAR", "RRULE:FREQ=WEEKLY;COUNT=8", "SUMMARY:Weekly design review", "mailto:alice.lee@contoso.com", "/j/" + number} {
				if !strings.Contains(unfolded, want) {
					t.Errorf("the downloaded .ics lacks %q:\n%s", want, ics)
				}
			}
			break
		}
	}

	// B.Simon starts the meeting.
	if err := chromedp.Do(env.Ctx, chromedp.Click(chromedp.ID("start"))); err != nil {
		t.Fatal(err)
	}
	waitForText(t, env.Ctx, "#live-status", "You are in the meeting.")

	// a.lee, in a browser of her own, opens the join link, chooses to sign
	// in (the meeting lets guests in, so the link offers both), signs in at
	// the development IdP, and lands in the meeting.
	alee := env.NewWindow()
	if err := chromedp.Do(alee,
		chromedp.Navigate(acme+"/j/"+number),
		chromedp.WaitVisible(chromedp.ID("sign-in")),
		chromedp.Click(chromedp.ID("sign-in")),
	); err != nil {
		t.Fatal(err)
	}
	signInAtDevIdP(t, alee, "a.lee")
	env.WaitForURLOf(alee, page)
	waitForText(t, alee, "#live-status", "You are in the meeting.")
	waitForText(t, alee, "#present", "B Simon")
	// B.Simon's page shows her without a reload.
	waitForText(t, env.Ctx, "#present", "Alice Lee")
	env.Screenshot("meeting-page")

	// A guest, in a third browser, waits in the lobby until B.Simon admits
	// them.
	guest := env.NewWindow()
	if err := chromedp.Do(guest,
		chromedp.Navigate(acme+"/j/"+number),
		chromedp.WaitVisible(chromedp.ID("guest-form")),
		chromedp.SendKeys(chromedp.ID("name"), "Gail Guest"),
		chromedp.Click(chromedp.ID("join-as-guest")),
	); err != nil {
		t.Fatalf("join as a guest: %v", err)
	}
	waitForText(t, guest, "#live-status", "You are waiting in the lobby.")
	env.ScreenshotOf(guest, "meeting-guest-lobby")
	waitForText(t, env.Ctx, "#waiting", "Gail Guest")
	waitForText(t, alee, "#waiting", "Gail Guest")
	env.Screenshot("meeting-lobby")
	if err := chromedp.Do(env.Ctx, chromedp.Click(chromedp.CSS(`#waiting button[type="submit"]`))); err != nil {
		t.Fatalf("admit the guest: %v", err)
	}
	waitForText(t, guest, "#live-status", "You are in the meeting.")
	waitForText(t, guest, "#present", "B Simon")
	waitForText(t, alee, "#present", "Gail Guest")
	waitForText(t, env.Ctx, "#present", "Gail Guest")
	if n, err := chromedp.Run(guest, chromedp.Evaluate[int](`document.querySelectorAll("#media").length`)); err != nil || n != 1 {
		t.Errorf("the admitted guest's page has %d media sections (%v), want 1", n, err)
	}
}

func TestLivePageKeepsFollowingTheMeetingAfterItsEventStreamIsRefused(t *testing.T) {
	env := browsertest.New(t)
	acme := devIdPSite(t, env)
	signInToHome(t, env, env.Ctx, acme, "b.simon")
	number := scheduleWithGuests(t, env.Ctx, acme, "Design review")

	// A guest opens the join link before the start while the portal
	// restarts behind its proxy: the page's first three event streams are
	// answered 503, not with a stream, and EventSource does not try again
	// by itself after that.
	guest := window{"the guest", env.NewNamedWindow("the guest")}
	const refusals = 3
	var (
		streams atomic.Int32
		mu      sync.Mutex
		opened  []time.Time // when each stream was asked for
	)
	if err := chromedp.Listen(guest.ctx, func(ev any) {
		paused, ok := ev.(*fetch.EventRequestPaused)
		if !ok {
			return
		}
		mu.Lock()
		opened = append(opened, time.Now())
		mu.Unlock()
		go func() {
			if streams.Add(1) <= refusals {
				_, _ = chromedp.Call(guest.ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{
					RequestID: paused.RequestID, ResponseCode: http.StatusServiceUnavailable,
					Body: []byte("the portal is restarting"),
				})
				return
			}
			_, _ = chromedp.Call(guest.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: paused.RequestID})
		}()
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(guest.ctx, fetch.Enable, fetch.EnableParams{
		Patterns: []*fetch.RequestPattern{{URLPattern: "*/meetings/" + number + "/events*"}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(guest.ctx, chromedp.Navigate(acme+"/j/"+number)); err != nil {
		t.Fatal(err)
	}
	// The page tries again, and says so once the failures last.
	waitFor(t, guest, "the interruption said", `!document.querySelector("#live-problem").hidden && document.querySelector("#live-problem").textContent.includes("Live updates are interrupted")`, 20*time.Second)
	// The fourth stream is the portal's: the page is live again.
	waitFor(t, guest, "the interruption over", `document.querySelector("#live-problem").hidden`, 20*time.Second)
	if n := streams.Load(); n != refusals+1 {
		t.Fatalf("%d event streams opened, want %d", n, refusals+1)
	}
	// Each try waits longer than the one before: about 1, 2 and 4 s, each
	// between half and one and a half times that.
	mu.Lock()
	for i, least := range []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second} {
		if wait := opened[i+1].Sub(opened[i]); wait < least-100*time.Millisecond {
			t.Errorf("try %d came %v after the failure before it, want at least %v", i+2, wait.Round(time.Millisecond), least)
		}
	}
	mu.Unlock()

	// B.Simon starts the meeting: the guest's page changes by itself.
	if err := chromedp.Do(env.Ctx, chromedp.Click(chromedp.ID("start"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, guest, "joining as a guest possible", `document.querySelector("#join-as-guest") !== null && !document.querySelector("#join-as-guest").disabled`, 20*time.Second)
}
