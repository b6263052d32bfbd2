package media

import (
	"testing"
	"time"

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
