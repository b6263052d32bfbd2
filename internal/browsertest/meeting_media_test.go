package browsertest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/meetings-portal/portal/internal/browsertest"
)

// receivedJS reads, in one window, what arrives from each other
// participant: RTCPeerConnection.getStats() of each received track
// (inbound-rtp), matched to people through the participant list the SFU
// sends (its stream IDs) and the streams the page received
// (window.portalMedia).
const receivedJS = `(async () => {
  const media = window.portalMedia;
  if (!media || !media.pc) { return "{}"; }
  const receivers = media.pc.getReceivers();
  const out = {};
  for (const p of media.participants) {
    const r = { name: p.name, videoFrames: 0, screenFrames: 0, audioBytes: 0, audioEnergy: 0, videoPackets: 0, pli: 0, framesReceived: 0 };
    for (const s of p.streams) {
      const stream = media.streams.get(s.streamId);
      for (const track of stream ? stream.getTracks() : []) {
        const receiver = receivers.find((x) => x.track === track);
        if (!receiver) { continue; }
        (await receiver.getStats()).forEach((st) => {
          if (st.type !== "inbound-rtp") { return; }
          if (st.kind === "video") {
            r[s.source === "screen" ? "screenFrames" : "videoFrames"] += st.framesDecoded || 0;
            r.videoPackets += st.packetsReceived || 0; r.pli += st.pliCount || 0; r.framesReceived += st.framesReceived || 0;
          } else {
            r.audioBytes += st.bytesReceived || 0;
            r.audioEnergy += st.totalAudioEnergy || 0;
          }
        });
      }
    }
    out[p.id] = r;
  }
  return JSON.stringify(out);
})()`

// received is what a window got from one participant so far.
type received struct {
	Name         string  `json:"name"`
	VideoFrames  float64 `json:"videoFrames"`
	ScreenFrames float64 `json:"screenFrames"`
	AudioBytes   float64 `json:"audioBytes"`
	AudioEnergy  float64 `json:"audioEnergy"`
	// What explains frames that do not come: video packets received,
	// picture loss indications sent, frames assembled.
	VideoPackets float64 `json:"videoPackets"`
	PLI          float64 `json:"pli"`
	FramesRecv   float64 `json:"framesReceived"`
}

// window is one person's browser in the meeting.
type window struct {
	name string
	ctx  context.Context
}

// stepTimeout bounds one step of the test in one window (a page to load, a
// text to appear, a button to press): steps take seconds even on a loaded
// machine, and a step that hangs must fail saying what it waited for, with
// every window's state, long before MediaTimeout ends the windows
// themselves and leaves nothing to read.
const stepTimeout = time.Minute

// step is w's context for one step.
func (w window) step(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(w.ctx, stepTimeout)
	t.Cleanup(cancel)
	return ctx
}

// describeJS is where a window is and what its meeting page says: the
// live status, the media's phase and message, the participants it knows
// and its two peer connections' states.
const describeJS = `(() => {
  const text = (selector) => ((document.querySelector(selector) || {}).textContent || "").trim();
  const media = window.portalMedia;
  return JSON.stringify({
    at: location.pathname + location.search,
    live: text("#live-status"),
    media: media ? {
      phase: media.state,
      says: text('[data-media="status"]'),
      participants: media.participants.map((p) => p.name),
      send: media.publisher ? media.publisher.connectionState : "none",
      receive: media.pc ? media.pc.connectionState : "none",
    } : "none on this page",
  });
})()`

// describeOnFailure logs, if the test fails, each window's state as it is
// then (describeJS).
func describeOnFailure(t *testing.T, windows ...window) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, w := range windows {
			ctx, cancel := context.WithTimeout(w.ctx, 5*time.Second)
			state, err := chromedp.Run(ctx, chromedp.Evaluate[string](describeJS))
			cancel()
			if err != nil {
				state = "unreadable: " + err.Error()
			}
			t.Logf("%s's window at the failure: %s", w.name, state)
		}
	})
}

func receivedIn(t *testing.T, w window) map[string]received {
	t.Helper()
	data, err := chromedp.Run(w.step(t), chromedp.Evaluate[string](receivedJS, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: read getStats(): %v", w.name, err)
	}
	out := map[string]received{}
	if err := json.Unmarshal([]byte(data), &out); err != nil {
		t.Fatalf("%s: stats %s: %v", w.name, data, err)
	}
	return out
}

// change is what arrived from one participant between two readings.
type change struct{ before, after received }

func (c change) String() string {
	return fmt.Sprintf("%s: video frames %v→%v (packets %v, pli %v, recv %v), screen frames %v→%v, audio bytes %v→%v, audio energy %.4f→%.4f", c.after.Name,
		c.before.VideoFrames, c.after.VideoFrames, c.after.VideoPackets, c.after.PLI, c.after.FramesRecv, c.before.ScreenFrames, c.after.ScreenFrames,
		c.before.AudioBytes, c.after.AudioBytes, c.before.AudioEnergy, c.after.AudioEnergy)
}

func (c change) videoRising() bool  { return c.after.VideoFrames > c.before.VideoFrames }
func (c change) screenRising() bool { return c.after.ScreenFrames > c.before.ScreenFrames }
func (c change) audioRising() bool  { return c.after.AudioBytes > c.before.AudioBytes }
func (c change) audible() bool      { return c.after.AudioEnergy-c.before.AudioEnergy > 1e-6 }

// expectation is what one window must receive from some participants.
type expectation struct {
	w   window
	ids []string
}

// waitUntil reads what each window receives twice, interval apart, all
// windows at once, until ok holds for every participant each expects, or
// fails the test at deadline.
func waitUntil(t *testing.T, what string, expect []expectation, interval time.Duration, deadline time.Time, ok func(change) bool) {
	t.Helper()
	for {
		before := make([]map[string]received, len(expect))
		for i, e := range expect {
			before[i] = receivedIn(t, e.w)
		}
		time.Sleep(interval)
		var missing []string
		for i, e := range expect {
			after := receivedIn(t, e.w)
			for _, id := range e.ids {
				if c := (change{before[i][id], after[id]}); !ok(c) {
					missing = append(missing, fmt.Sprintf("%s from %s (%s)", e.w.name, id, c))
				}
			}
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not reached: %s", what, strings.Join(missing, "; "))
		}
	}
}

// joinMedia waits for the device check (the camera open) and joins the
// meeting's audio and video.
func joinMedia(t *testing.T, w window) {
	t.Helper()
	if err := chromedp.Do(w.step(t),
		chromedp.WaitVisible(chromedp.CSS(`[data-media="check"]`)),
		chromedp.WaitEnabled(chromedp.CSS(`[data-media="join"]`)),
		chromedp.Click(chromedp.CSS(`[data-media="join"]`)),
	); err != nil {
		t.Fatalf("%s joins the media: %v", w.name, err)
	}
}

// evaluate runs a JavaScript expression in w.
func evaluate[T any](t *testing.T, w window, expression string) T {
	t.Helper()
	v, err := chromedp.Run(w.step(t), chromedp.Evaluate[T](expression))
	if err != nil {
		t.Fatalf("%s: %s: %v", w.name, expression, err)
	}
	return v
}

// waitFor polls a JavaScript condition in w until it is true.
func waitFor(t *testing.T, w window, what, condition string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	// An evaluation that hangs (a page whose script is stuck) fails too.
	ctx, cancel := context.WithDeadline(w.ctx, deadline.Add(5*time.Second))
	defer cancel()
	for !evaluateTrue(ctx, condition) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s not seen within %v (%s)", w.name, what, within, condition)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// evaluateTrue reports whether condition holds; during a navigation the
// page has no JavaScript context, which is not yet.
func evaluateTrue(ctx context.Context, condition string) bool {
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](condition))
	return err == nil && ok
}

// acceptDialogs accepts every confirm() in w, as the person clicking OK.
func acceptDialogs(t *testing.T, w window) {
	t.Helper()
	if err := chromedp.Listen(w.ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			go func() {
				_, _ = chromedp.Call(w.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
			}()
		}
	}); err != nil {
		t.Fatal(err)
	}
}

// patience is how much longer than on a machine that has its CPU the test
// waits for media: 1 normally; on a machine whose other work keeps more
// than two tasks per core runnable (/proc/loadavg: other packages' tests
// running beside this one, the race detector), Chromium's encoders and
// decoders and the SFU wait for a CPU too, and the waits grow with the
// load, up to three times. The test says so when they do.
func patience(t *testing.T) time.Duration {
	t.Helper()
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 1
	}
	fields := strings.Fields(string(data))
	if len(fields) == 0 {
		return 1
	}
	load, err := strconv.ParseFloat(fields[0], 64)
	perCore := load / float64(runtime.NumCPU())
	if err != nil || perCore <= 2 {
		return 1
	}
	factor := time.Duration(min(math.Ceil(perCore/2), 3))
	t.Logf("load average %.1f on %d cores: the media waits are %d times as long", load, runtime.NumCPU(), factor)
	return factor
}

func TestThreePeopleMeetWithAudioVideoAndScreenSharingInTheBrowser(t *testing.T) {
	start := time.Now()
	env := browsertest.NewWithMedia(t)
	acme := devIdPSite(t, env)
	host := window{"B.Simon", env.Ctx}
	alee := window{"a.lee", env.NewNamedWindow("a.lee")}
	guest := window{"guest", env.NewNamedWindow("guest")}
	progress := func(what string) { t.Logf("%v: %s", time.Since(start).Round(100*time.Millisecond), what) }
	describeOnFailure(t, host, alee, guest)

	// B.Simon schedules a meeting that lets guests in.
	signInToHome(t, env, host.step(t), acme, "b.simon")
	number := scheduleWithGuests(t, host.step(t), acme, "Design review")

	// B.Simon starts the meeting; then the three come at once, each in
	// their own browser. (Started first, not in a subtest beside the
	// others: go test runs at most -parallel subtests at once, GOMAXPROCS
	// by default, and two of them waiting for a start the third had not
	// been let to make was a deadlock on a 2-core machine.)
	//
	// The guest opens the join link before the start: joining is not
	// possible yet, and the page changes by itself once it is.
	if err := chromedp.Do(guest.step(t), chromedp.Navigate(acme+"/j/"+number)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, guest, "joining as a guest not possible before the start", `document.querySelector("#join-as-guest") === null || document.querySelector("#join-as-guest").disabled`, 20*time.Second)
	if err := chromedp.Do(host.step(t), chromedp.Click(chromedp.ID("start"))); err != nil {
		t.Fatal(err)
	}
	waitForText(t, host.step(t), "#live-status", "You are in the meeting.")
	t.Run("arrive", func(t *testing.T) {
		t.Run("B.Simon checks her devices", func(t *testing.T) {
			t.Parallel()
			waitFor(t, host, "the camera preview playing", `document.querySelector('[data-media="preview"]').currentTime > 1`, 20*time.Second)
			waitFor(t, host, "the devices listed", `document.querySelector('#media-camera').options.length > 0 && document.querySelector('#media-mic').options.length > 0`, 5*time.Second)
			env.Screenshot("meeting-device-check")
			joinMedia(t, host)
		})
		t.Run("a.lee signs in from the join link", func(t *testing.T) {
			t.Parallel()
			if err := chromedp.Do(alee.step(t),
				chromedp.Navigate(acme+"/j/"+number),
				chromedp.WaitVisible(chromedp.ID("sign-in")),
				chromedp.Click(chromedp.ID("sign-in")),
			); err != nil {
				t.Fatal(err)
			}
			signInAtDevIdP(t, alee.step(t), "a.lee")
			// The meeting is live: the page lets her in.
			waitForText(t, alee.step(t), "#live-status", "You are in the meeting.")
			joinMedia(t, alee)
		})
		t.Run("a guest asks to join", func(t *testing.T) {
			t.Parallel()
			// The page the guest opened before the start lets them join now.
			waitFor(t, guest, "joining as a guest possible", `document.querySelector("#join-as-guest") !== null && !document.querySelector("#join-as-guest").disabled`, 20*time.Second)
			if err := chromedp.Do(guest.step(t),
				chromedp.SendKeys(chromedp.ID("name"), "Gail Guest"),
				chromedp.Click(chromedp.ID("join-as-guest")),
			); err != nil {
				t.Fatalf("join as a guest: %v", err)
			}
			waitForText(t, guest.step(t), "#live-status", "You are waiting in the lobby.")
		})
	})
	if t.Failed() {
		t.FailNow()
	}
	progress("B.Simon and a.lee have joined, the guest waits")
	// B.Simon lets the guest in.
	waitForText(t, host.step(t), "#waiting", "Gail Guest")
	if err := chromedp.Do(host.step(t), chromedp.Click(chromedp.CSS(`#waiting button[type="submit"]`))); err != nil {
		t.Fatalf("admit the guest: %v", err)
	}
	waitForText(t, guest.step(t), "#live-status", "You are in the meeting.")
	joinMedia(t, guest)
	allIn := time.Now()
	progress("the guest has joined")

	// Everyone receives everyone else's video and audio within 20 s of the
	// last one joining (longer on a loaded machine: see patience): frames
	// decoded, audio bytes and energy rising. Usually it takes 1–3 s; with
	// the other test packages running beside three browsers under the race
	// detector, Chromium's encoders fall behind for a while first.
	slow := patience(t)
	windows := []window{host, alee, guest}
	waitFor(t, host, "three participants", `window.portalMedia.participants.length === 3`, slow*10*time.Second)
	ids := map[string]string{} // name → participant ID in the media
	var people []struct{ ID, Name string }
	if err := json.Unmarshal([]byte(evaluate[string](t, host, `JSON.stringify(window.portalMedia.participants.map((p) => ({ID: p.id, Name: p.name})))`)), &people); err != nil {
		t.Fatal(err)
	}
	for _, p := range people {
		ids[p.Name] = p.ID
	}
	names := map[string]string{host.name: "B Simon", alee.name: "Alice Lee", guest.name: "Gail Guest"}
	var everyone []expectation
	for _, w := range windows {
		e := expectation{w: w}
		for _, o := range windows {
			if o.name != w.name {
				e.ids = append(e.ids, ids[names[o.name]])
			}
		}
		everyone = append(everyone, e)
	}
	waitUntil(t, "video frames decoded and audio received, rising, from everyone", everyone, time.Second, allIn.Add(slow*20*time.Second),
		func(c change) bool { return c.videoRising() && c.audioRising() && c.audible() })
	progress(fmt.Sprintf("everyone receives everyone, %v after the last one joined", time.Since(allIn).Round(100*time.Millisecond)))
	// Each tile is named.
	for _, e := range everyone {
		for _, id := range e.ids {
			waitFor(t, e.w, "a named tile of "+id, fmt.Sprintf(`[...document.querySelectorAll('.media-tile[data-participant="%s"][data-source="camera"] figcaption')].some((c) => c.textContent.length > 0)`, id), slow*5*time.Second)
		}
	}

	// a.lee shares her screen: a tile of its own for the others.
	if err := chromedp.Do(alee.step(t), chromedp.Click(chromedp.CSS(`[data-media="screen"]`))); err != nil {
		t.Fatal(err)
	}
	fromAlee := []expectation{{host, []string{ids["Alice Lee"]}}, {guest, []string{ids["Alice Lee"]}}}
	for _, e := range fromAlee {
		waitFor(t, e.w, "a.lee's screen tile", fmt.Sprintf(`document.querySelectorAll('.media-tile[data-participant="%s"][data-source="screen"]').length === 1`, ids["Alice Lee"]), slow*20*time.Second)
	}
	waitUntil(t, "a.lee's screen frames decoded, rising", fromAlee, time.Second, time.Now().Add(slow*20*time.Second), change.screenRising)
	progress("a.lee's screen is shared")
	env.Screenshot("meeting-media")

	// a.lee mutes: the others hear silence from her.
	if err := chromedp.Do(alee.step(t), chromedp.Click(chromedp.CSS(`[data-media="mic"]`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, alee, "her mute button pressed", `document.querySelector('[data-media="mic"]').getAttribute("aria-pressed") === "true"`, 5*time.Second)
	waitUntil(t, "a.lee silent", fromAlee, time.Second, time.Now().Add(slow*10*time.Second), func(c change) bool { return !c.audible() })
	progress("a.lee is muted")

	// The host removes the guest from the meeting page: the guest's media
	// closes at once and its tiles go from the others' screens.
	if err := chromedp.Do(host.step(t), chromedp.Click(chromedp.CSS(fmt.Sprintf(`#present li[data-id="%s"] button`, ids["Gail Guest"])))); err != nil {
		t.Fatalf("remove the guest: %v", err)
	}
	waitForText(t, guest.step(t), "#live-status", "The host removed you")
	for _, w := range []window{host, alee} {
		waitFor(t, w, "the guest's tiles gone", fmt.Sprintf(`document.querySelectorAll('.media-tile[data-participant="%s"]').length === 0`, ids["Gail Guest"]), slow*5*time.Second)
	}
	if n := env.Metric("portal_media_participants"); n != 2 {
		t.Errorf("the SFU holds %v connections after the removal, want 2", n)
	}
	progress("the guest is removed")

	// The host ends the meeting for all from the media controls: every
	// connection closes, and every page says so.
	acceptDialogs(t, host)
	if err := chromedp.Do(host.step(t), chromedp.Click(chromedp.CSS(`[data-media="end"]`))); err != nil {
		t.Fatal(err)
	}
	for _, w := range []window{host, alee} {
		waitForText(t, w.step(t), "#live-status", "The meeting has ended.")
	}
	if n := env.Metric("portal_media_participants"); n != 0 {
		t.Errorf("the SFU holds %v connections after the end, want 0", n)
	}
	progress("the meeting has ended")
}
