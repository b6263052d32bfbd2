package media

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/interceptor"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

var (
	alice = Participant{ID: "user:1", Name: "Alice Host", Role: RoleHost}
	bob   = Participant{ID: "user:2", Name: "Bob", Role: RoleParticipant}
	carol = Participant{ID: "guest:3", Name: "Carol (guest)", Role: RoleGuest}
	dave  = Participant{ID: "user:4", Name: "Dave", Role: RoleParticipant}
)

const (
	meetingA = "site:1/meeting:10"
	meetingB = "site:1/meeting:11"
)

func TestTwoParticipantsReceiveEachOthersAudioAndVideo(t *testing.T) {
	h := newHarness(t, Config{})
	h.sfu.Allow(meetingA, alice.ID)
	h.sfu.Allow(meetingA, bob.ID)
	a := h.join(meetingA, alice, clientOptions{})
	b := h.join(meetingA, bob, clientOptions{})
	a.publish(publishOptions{audio: true, video: true})
	b.publish(publishOptions{audio: true, video: true})

	for _, tc := range []struct {
		receiver *testClient
		from     Participant
	}{{a, bob}, {b, alice}} {
		tc.receiver.waitFor("audio and video from "+tc.from.ID, 15*time.Second, func() bool {
			au, vi := tc.receiver.packetsFromLocked(tc.from.ID)
			return au >= 20 && vi >= 10
		})
	}
	// Nobody gets their own media back.
	if au, vi := a.packetsFrom(alice.ID); au+vi != 0 {
		t.Fatalf("alice received %d of her own packets", au+vi)
	}
	// The page can name every tile: both know both, with their streams.
	a.mu.Lock()
	names := map[string]int{}
	for _, p := range a.participants {
		names[p.Name] = len(p.Streams)
	}
	a.mu.Unlock()
	if names["Alice Host"] != 2 || names["Bob"] != 2 {
		t.Fatalf("participant list seen by alice = %v, want both names with 2 streams each", names)
	}
	if got := testutil.ToFloat64(h.sfu.metrics.packetsForwarded.WithLabelValues("video")); got < 20 {
		t.Fatalf("video packets forwarded metric = %v", got)
	}
	if n, err := testutil.GatherAndCount(h.reg, "portal_media_participants", "portal_media_rooms"); err != nil || n != 2 {
		t.Fatalf("gauges gathered %d (%v)", n, err)
	}
	if got := testutil.ToFloat64(participantsGauge(t, h)); got != 2 {
		t.Fatalf("participants gauge = %v, want 2", got)
	}
}

func TestParticipantOfAnotherMeetingReceivesNothing(t *testing.T) {
	h := newHarness(t, Config{})
	for _, p := range []Participant{alice, bob} {
		h.sfu.Allow(meetingA, p.ID)
	}
	for _, p := range []Participant{carol, dave} {
		h.sfu.Allow(meetingB, p.ID)
	}
	a := h.join(meetingA, alice, clientOptions{})
	b := h.join(meetingA, bob, clientOptions{})
	c := h.join(meetingB, carol, clientOptions{})
	d := h.join(meetingB, dave, clientOptions{})
	for _, cl := range []*testClient{a, b, c, d} {
		cl.publish(publishOptions{audio: true, video: true})
	}
	for _, tc := range []struct {
		receiver *testClient
		from     string
	}{{a, bob.ID}, {b, alice.ID}, {c, dave.ID}, {d, carol.ID}} {
		tc.receiver.waitFor(tc.from+"'s media", 15*time.Second, func() bool {
			au, vi := tc.receiver.packetsFromLocked(tc.from)
			return au > 20 && vi > 10
		})
	}

	for _, tc := range []struct {
		client *testClient
		own    map[string]bool // the participants of its meeting
	}{
		{a, map[string]bool{alice.ID: true, bob.ID: true}},
		{b, map[string]bool{alice.ID: true, bob.ID: true}},
		{c, map[string]bool{carol.ID: true, dave.ID: true}},
		{d, map[string]bool{carol.ID: true, dave.ID: true}},
	} {
		tc.client.mu.Lock()
		ownStreams := map[string]bool{}
		for _, p := range tc.client.participants {
			if !tc.own[p.ID] {
				t.Errorf("%s sees %s of another meeting", tc.client.p.ID, p.ID)
			}
			for _, s := range p.Streams {
				ownStreams[s.StreamID+"/"+s.Kind] = true
			}
		}
		for key, st := range tc.client.streams {
			if !ownStreams[key] && st.packets > 0 {
				t.Errorf("%s received %d packets on stream %s, not of its meeting", tc.client.p.ID, st.packets, key)
			}
		}
		if len(tc.client.streams) != 2 {
			t.Errorf("%s receives %d tracks, want 2 (the other participant's audio and video)", tc.client.p.ID, len(tc.client.streams))
		}
		tc.client.mu.Unlock()
	}
}

func TestSignallingRefused(t *testing.T) {
	h := newHarness(t, Config{})
	h.sfu.Allow(meetingA, alice.ID)
	h.sfu.Allow(meetingB, carol.ID)
	tests := []struct {
		name       string
		key        string
		p          Participant
		origin     string
		wantStatus int // 0: accepted
	}{
		{"admitted participant from the site's origin", meetingA, alice, testOrigin, 0},
		{"another site's origin", meetingA, alice, "http://evil.example", 403},
		{"same host over another scheme", meetingA, alice, "https://acme.portal.test", 403},
		{"another site of the portal", meetingA, alice, "http://globex.portal.test", 403},
		{"no origin", meetingA, alice, "", 403},
		{"guest not admitted", meetingA, carol, testOrigin, 403},
		{"admitted to another meeting only", meetingA, Participant{ID: carol.ID, Name: "Carol", Role: RoleGuest}, testOrigin, 403},
		{"meeting nobody was admitted to", "site:2/meeting:1", alice, testOrigin, 403},
		{"participant without an ID", meetingA, Participant{Name: "x", Role: RoleGuest}, testOrigin, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			conn, status, err := dialSignalling(ctx, h.signalURL(tt.key, tt.p), tt.origin)
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("refused (status %d): %v", status, err)
				}
				_ = conn.Close(websocket.StatusNormalClosure, "")
				return
			}
			if err == nil {
				_ = conn.Close(websocket.StatusNormalClosure, "")
				t.Fatalf("accepted, want status %d", tt.wantStatus)
			}
			if status != tt.wantStatus {
				t.Fatalf("status %d, want %d", status, tt.wantStatus)
			}
		})
	}
	if got := testutil.ToFloat64(h.sfu.metrics.refused.WithLabelValues("origin")); got != 4 {
		t.Fatalf("refusals for origin = %v, want 4", got)
	}
}

func TestRemoveClosesConnectionAtOnceAndBarsRejoin(t *testing.T) {
	h := newHarness(t, Config{})
	h.sfu.Allow(meetingA, alice.ID)
	h.sfu.Allow(meetingA, bob.ID)
	a := h.join(meetingA, alice, clientOptions{})
	b := h.join(meetingA, bob, clientOptions{})
	a.publish(publishOptions{audio: true, video: true})
	b.publish(publishOptions{audio: true, video: true})
	b.waitFor("alice's media", 15*time.Second, func() bool { au, _ := b.packetsFromLocked(alice.ID); return au > 10 })
	a.waitFor("bob's media", 15*time.Second, func() bool { au, _ := a.packetsFromLocked(bob.ID); return au > 10 })

	removedAt := time.Now()
	if !h.sfu.Remove(meetingA, bob.ID) {
		t.Fatal("Remove reported bob was not there")
	}
	select {
	case <-b.wsClosed:
	case <-time.After(2 * time.Second):
		t.Fatal("bob's signalling connection still open 2 s after removal")
	}
	if took := time.Since(removedAt); took > time.Second {
		t.Fatalf("closing bob's connection took %v", took)
	}
	b.mu.Lock()
	status, told := b.closeStatus, b.hasEvent(msgRemoved)
	b.mu.Unlock()
	if status != closeRemoved || !told {
		t.Fatalf("bob's connection closed with %v (told removed: %v), want %v", status, told, closeRemoved)
	}
	// The media stops: nothing more reaches bob, and alice gets nothing more from him.
	time.Sleep(300 * time.Millisecond)
	before, _ := a.packetsFrom(bob.ID)
	bobBefore := b.totalPackets()
	time.Sleep(700 * time.Millisecond)
	if after, _ := a.packetsFrom(bob.ID); after != before {
		t.Fatalf("alice still receives bob's audio after his removal (%d → %d packets)", before, after)
	}
	if after := b.totalPackets(); after != bobBefore {
		t.Fatalf("bob still receives media after his removal (%d → %d packets)", bobBefore, after)
	}
	a.waitFor("bob gone from the list", 5*time.Second, func() bool { return len(a.participants) == 1 })

	// Barred until admitted again.
	if _, status, err := h.tryJoin(meetingA, bob, clientOptions{}); err == nil || status != 403 {
		t.Fatalf("removed bob rejoined: status %d, err %v", status, err)
	}
	h.sfu.Allow(meetingA, bob.ID)
	b2 := h.join(meetingA, bob, clientOptions{})
	b2.waitFor("alice's media after readmission", 15*time.Second, func() bool { au, _ := b2.packetsFromLocked(alice.ID); return au > 10 })
}

func TestEndClosesEveryConnection(t *testing.T) {
	var emptied []string
	var mu sync.Mutex
	h := newHarness(t, Config{OnRoomEmpty: func(key string) { mu.Lock(); emptied = append(emptied, key); mu.Unlock() }})
	clients := map[string]*testClient{}
	for _, p := range []Participant{alice, bob, carol} {
		h.sfu.Allow(meetingA, p.ID)
		clients[p.ID] = h.join(meetingA, p, clientOptions{})
		clients[p.ID].publish(publishOptions{audio: true})
	}
	clients[bob.ID].waitFor("media", 15*time.Second, func() bool { au, _ := clients[bob.ID].packetsFromLocked(alice.ID); return au > 5 })

	h.sfu.End(meetingA)
	for id, c := range clients {
		select {
		case <-c.wsClosed:
		case <-time.After(2 * time.Second):
			t.Fatalf("%s still connected 2 s after the end", id)
		}
		c.mu.Lock()
		status, told := c.closeStatus, c.hasEvent(msgEnded)
		c.mu.Unlock()
		if status != closeEnded || !told {
			t.Fatalf("%s closed with %v (told ended: %v), want %v", id, status, told, closeEnded)
		}
	}
	if ps := h.sfu.Participants(meetingA); len(ps) != 0 {
		t.Fatalf("after the end the room still has %v", ps)
	}
	if _, status, err := h.tryJoin(meetingA, alice, clientOptions{}); err == nil || status != 403 {
		t.Fatalf("joined an ended meeting: status %d, err %v", status, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(emptied) != 1 || emptied[0] != meetingA {
		t.Fatalf("OnRoomEmpty calls %v, want one for %s", emptied, meetingA)
	}
}

func TestAllowedListsWhoMayConnectUntilRemoved(t *testing.T) {
	h := newHarness(t, Config{})
	for _, p := range []Participant{bob, alice, carol} {
		h.sfu.Allow(meetingA, p.ID)
	}
	h.sfu.Allow(meetingB, dave.ID)
	h.join(meetingA, alice, clientOptions{})
	if got, want := h.sfu.Allowed(meetingA), []string{carol.ID, alice.ID, bob.ID}; !slices.Equal(got, want) {
		t.Fatalf("allowed = %v, want %v (sorted)", got, want)
	}
	// Removing someone who never connected takes them off the list too.
	h.sfu.Remove(meetingA, carol.ID)
	h.sfu.Remove(meetingA, alice.ID)
	if got, want := h.sfu.Allowed(meetingA), []string{bob.ID}; !slices.Equal(got, want) {
		t.Fatalf("allowed after removals = %v, want %v", got, want)
	}
	if got := h.sfu.Allowed("site:9/meeting:9"); len(got) != 0 {
		t.Fatalf("a room never allowed lists %v", got)
	}
}

func TestCloseHangsUpAsLostSoBrowsersReconnectElsewhere(t *testing.T) {
	var emptied []string
	var mu sync.Mutex
	h := newHarness(t, Config{OnRoomEmpty: func(key string) { mu.Lock(); emptied = append(emptied, key); mu.Unlock() }})
	clients := []*testClient{}
	for _, p := range []Participant{alice, bob} {
		h.sfu.Allow(meetingA, p.ID)
		clients = append(clients, h.join(meetingA, p, clientOptions{}))
	}
	if err := h.sfu.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range clients {
		select {
		case <-c.wsClosed:
		case <-time.After(2 * time.Second):
			t.Fatalf("%s still connected 2 s after Close", c.p.ID)
		}
		c.mu.Lock()
		status, ended := c.closeStatus, c.hasEvent(msgEnded)
		c.mu.Unlock()
		// No close code of the application: the client treats it as a lost
		// connection and reconnects, rather than showing "ended".
		if status == closeEnded || status == closeRemoved || ended {
			t.Fatalf("%s was told the meeting is over (status %v, ended %v)", c.p.ID, status, ended)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(emptied) != 0 {
		t.Fatalf("OnRoomEmpty called at shutdown for %v", emptied)
	}
}

func TestHostMuteStopsForwardingAudioUntilTheParticipantUnmutes(t *testing.T) {
	h := newHarness(t, Config{})
	h.sfu.Allow(meetingA, alice.ID)
	h.sfu.Allow(meetingA, bob.ID)
	a := h.join(meetingA, alice, clientOptions{})
	b := h.join(meetingA, bob, clientOptions{})
	a.publish(publishOptions{audio: true})
	b.publish(publishOptions{audio: true, video: true})
	a.waitFor("bob's media", 15*time.Second, func() bool { au, vi := a.packetsFromLocked(bob.ID); return au > 10 && vi > 5 })

	// A participant may not mute the host.
	b.send(message{Type: msgMute, ID: alice.ID})
	b.waitFor("refusal", 5*time.Second, func() bool { return b.hasEvent("error: only a host may do that") })

	a.send(message{Type: msgMute, ID: bob.ID})
	b.waitFor("being told of the mute", 5*time.Second, func() bool { return b.hasEvent(msgMuted) })
	time.Sleep(200 * time.Millisecond)
	audioBefore, videoBefore := a.packetsFrom(bob.ID)
	time.Sleep(800 * time.Millisecond)
	audioAfter, videoAfter := a.packetsFrom(bob.ID)
	if audioAfter > audioBefore+1 {
		t.Fatalf("bob's audio still forwarded after the host muted him: %d → %d packets", audioBefore, audioAfter)
	}
	if videoAfter <= videoBefore {
		t.Fatalf("bob's video stopped too (%d → %d packets)", videoBefore, videoAfter)
	}
	a.waitFor("bob shown muted", 2*time.Second, func() bool {
		for _, p := range a.participants {
			if p.ID == bob.ID {
				return !p.Audio && p.HostMuted
			}
		}
		return false
	})
	h.mu.Lock()
	controls := append([]Control(nil), h.controls...)
	h.mu.Unlock()
	if len(controls) != 1 || controls[0] != (Control{Key: meetingA, By: alice, Action: "mute", Target: bob.ID}) {
		t.Fatalf("controls reported %+v", controls)
	}

	on := true
	b.send(message{Type: msgState, Audio: &on})
	a.waitFor("bob's audio again", 5*time.Second, func() bool { au, _ := a.packetsFromLocked(bob.ID); return au > audioAfter+10 })
}

func TestNACKRecoversPacketsLostOnTheWayToTheReceiver(t *testing.T) {
	h := newHarness(t, Config{})
	h.sfu.Allow(meetingA, alice.ID)
	h.sfu.Allow(meetingA, bob.ID)
	drop := &dropper{every: 5, dropped: map[uint16]bool{}}
	a := h.join(meetingA, alice, clientOptions{})
	b := h.join(meetingA, bob, clientOptions{interceptors: []interceptor.Factory{drop}, lossy: true})
	a.publish(publishOptions{video: true})
	b.waitFor("video", 15*time.Second, func() bool { _, vi := b.packetsFromLocked(alice.ID); return vi > 100 })

	dropped := drop.droppedSeqs()
	if len(dropped) < 10 {
		t.Fatalf("only %d packets dropped on the way; the test needs more", len(dropped))
	}
	// Every packet dropped more than half a second ago has been
	// retransmitted by the SFU and delivered.
	time.Sleep(500 * time.Millisecond)
	b.mu.Lock()
	defer b.mu.Unlock()
	var video *received
	for _, st := range b.streams {
		if st.kind == "video" {
			video = st
		}
	}
	missing := 0
	for _, seq := range dropped {
		if video.seqs[seq] == 0 {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d dropped packets never recovered", missing, len(dropped))
	}
}

func TestSimulcastReceiverGetsTheLayerItsEstimateAllows(t *testing.T) {
	h := newHarness(t, Config{})
	h.sfu.testEstimate = func(id string) (int, bool) {
		switch id {
		case bob.ID:
			return 100_000, true
		case carol.ID:
			return 10_000_000, true
		}
		return 0, false
	}
	for _, p := range []Participant{alice, bob, carol} {
		h.sfu.Allow(meetingA, p.ID)
	}
	a := h.join(meetingA, alice, clientOptions{})
	b := h.join(meetingA, bob, clientOptions{})
	c := h.join(meetingA, carol, clientOptions{})
	a.publish(publishOptions{video: true, simulcast: true})

	// settledOn reports whether the last 30 video packets all came from
	// the layer with the given marker.
	settledOn := func(cl *testClient, marker byte) bool {
		for _, st := range cl.streams {
			if st.kind == "video" && len(st.recent) == 30 {
				for _, m := range st.recent {
					if m != marker {
						return false
					}
				}
				return true
			}
		}
		return false
	}
	b.waitFor("low layer", 15*time.Second, func() bool { return settledOn(b, 'q') })
	c.waitFor("full layer", 15*time.Second, func() bool { return settledOn(c, 'f') })
	// And stays there.
	time.Sleep(time.Second)
	b.mu.Lock()
	if !settledOn(b, 'q') {
		t.Errorf("the receiver with a low estimate moved off the low layer: %v", b.streams)
	}
	b.mu.Unlock()
	// One continuous stream across the switch: a single track, no holes.
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.streams) != 1 {
		t.Fatalf("carol has %d video tracks, want 1", len(c.streams))
	}
	for _, st := range c.streams {
		lo, hi := uint16(0), uint16(0)
		first := true
		for s := range st.seqs {
			if first || int16(s-lo) < 0 {
				lo = s
			}
			if first || int16(s-hi) > 0 {
				hi = s
			}
			first = false
		}
		if span := int(hi-lo) + 1; span != len(st.seqs) {
			t.Fatalf("sequence numbers %d..%d span %d but %d arrived: a hole at a layer switch", lo, hi, span, len(st.seqs))
		}
	}
}

func TestThirdParticipantJoiningIsForwardedToTheOthers(t *testing.T) {
	h := newHarness(t, Config{})
	for _, p := range []Participant{alice, bob, carol} {
		h.sfu.Allow(meetingA, p.ID)
	}
	a := h.join(meetingA, alice, clientOptions{})
	b := h.join(meetingA, bob, clientOptions{})
	a.publish(publishOptions{audio: true, video: true})
	b.publish(publishOptions{audio: true, video: true})
	b.waitFor("alice", 15*time.Second, func() bool { au, vi := b.packetsFromLocked(alice.ID); return au > 10 && vi > 5 })

	c := h.join(meetingA, carol, clientOptions{})
	c.publish(publishOptions{audio: true, video: true})
	for _, tc := range []struct {
		receiver *testClient
		from     string
	}{{a, carol.ID}, {b, carol.ID}, {c, alice.ID}, {c, bob.ID}} {
		tc.receiver.waitFor(tc.from, 15*time.Second, func() bool {
			au, vi := tc.receiver.packetsFromLocked(tc.from)
			return au > 10 && vi > 5
		})
	}
}

func TestReconnectWithinGraceResumesWithoutLeaving(t *testing.T) {
	h := newHarness(t, Config{ReconnectGrace: 10 * time.Second})
	h.sfu.Allow(meetingA, alice.ID)
	h.sfu.Allow(meetingA, bob.ID)
	a := h.join(meetingA, alice, clientOptions{})
	b := h.join(meetingA, bob, clientOptions{})
	a.publish(publishOptions{audio: true})
	pb := b.publish(publishOptions{audio: true, video: true})
	a.waitFor("bob", 15*time.Second, func() bool { au, vi := a.packetsFromLocked(bob.ID); return au > 10 && vi > 5 })
	a.mu.Lock()
	tracksBefore := len(a.streams)
	a.mu.Unlock()

	// Bob's network changes: his connections drop without a goodbye.
	pb.close()
	b.close()
	a.waitFor("bob shown reconnecting", 5*time.Second, func() bool {
		for _, p := range a.participants {
			if p.ID == bob.ID {
				return !p.Connected
			}
		}
		return false
	})
	_, videoBefore := a.packetsFrom(bob.ID)

	b2 := h.join(meetingA, bob, clientOptions{})
	b2.publish(publishOptions{audio: true, video: true})
	a.waitFor("bob's video again", 15*time.Second, func() bool { _, vi := a.packetsFromLocked(bob.ID); return vi > videoBefore+10 })
	b2.waitFor("alice's audio on the new connection", 15*time.Second, func() bool { au, _ := b2.packetsFromLocked(alice.ID); return au > 10 })
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.streams) != tracksBefore {
		t.Fatalf("alice got new tracks for bob (%d → %d): the reconnection was a leave and a join", tracksBefore, len(a.streams))
	}
	if len(a.participants) != 2 {
		t.Fatalf("alice sees %d participants", len(a.participants))
	}
}

func TestParticipantGoneAfterGraceIsDropped(t *testing.T) {
	h := newHarness(t, Config{ReconnectGrace: 300 * time.Millisecond})
	h.sfu.Allow(meetingA, alice.ID)
	h.sfu.Allow(meetingA, bob.ID)
	a := h.join(meetingA, alice, clientOptions{})
	b := h.join(meetingA, bob, clientOptions{})
	b.publish(publishOptions{audio: true})
	a.waitFor("bob", 15*time.Second, func() bool { au, _ := a.packetsFromLocked(bob.ID); return au > 5 })
	b.close()
	a.waitFor("bob dropped from the list", 5*time.Second, func() bool { return len(a.participants) == 1 })
	if ps := h.sfu.Participants(meetingA); len(ps) != 1 || ps[0].ID != alice.ID {
		t.Fatalf("participants after the grace period: %+v", ps)
	}
}

func TestHostRemovesOverSignallingAndTheRemovalIsReported(t *testing.T) {
	h := newHarness(t, Config{})
	for _, p := range []Participant{alice, bob, carol} {
		h.sfu.Allow(meetingA, p.ID)
	}
	a := h.join(meetingA, alice, clientOptions{})
	b := h.join(meetingA, bob, clientOptions{})
	c := h.join(meetingA, carol, clientOptions{})

	// A guest may not remove anyone.
	c.send(message{Type: msgRemove, ID: bob.ID})
	c.waitFor("refusal", 5*time.Second, func() bool { return c.hasEvent("error: only a host may do that") })

	a.send(message{Type: msgRemove, ID: carol.ID})
	select {
	case <-c.wsClosed:
	case <-time.After(2 * time.Second):
		t.Fatal("carol still connected after the host removed her")
	}
	b.waitFor("carol gone", 5*time.Second, func() bool { return len(b.participants) == 2 })
	a.send(message{Type: msgEnd})
	select {
	case <-b.wsClosed:
	case <-time.After(2 * time.Second):
		t.Fatal("bob still connected after the host ended the meeting")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	want := []Control{{Key: meetingA, By: alice, Action: "remove", Target: carol.ID}, {Key: meetingA, By: alice, Action: "end"}}
	if len(h.controls) != 2 || h.controls[0] != want[0] || h.controls[1] != want[1] {
		t.Fatalf("controls reported %+v, want %+v", h.controls, want)
	}
}
