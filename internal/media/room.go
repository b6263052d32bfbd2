package media

import (
	"crypto/rand"
	"encoding/hex"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
)

// room is one meeting's media. Its lock guards the allow list, the members
// and their publications, and is taken before a session's lock, never after.
type room struct {
	key string
	sfu *SFU

	mu      sync.Mutex
	allowed map[string]bool
	members map[string]*member
	joins   int // join counter, orders the participant list
	ended   bool
}

// member is a participant's place in the room. It outlives a dropped
// connection by the reconnect grace period, with its publications, so that
// the others see neither a leave nor a join when it comes back.
type member struct {
	p         Participant
	order     int
	sess      *session // nil while reconnecting
	pubs      map[string]*publication
	streamIDs map[string]string // source → stream ID, stable across reconnections
	audioOn   bool
	videoOn   bool
	hostMuted bool
	grace     *time.Timer
}

func newRoom(s *SFU, key string) *room {
	return &room{key: key, sfu: s, allowed: map[string]bool{}, members: map[string]*member{}}
}

func (r *room) allow(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.ended {
		r.allowed[id] = true
	}
}

func (r *room) isAllowed(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.ended && r.allowed[id]
}

// has reports whether id is a member of the room (connected or
// reconnecting).
func (r *room) has(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.members[id] != nil
}

func (r *room) allowedIDs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := make([]string, 0, len(r.allowed))
	for id := range r.allowed {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func (r *room) counts() (connected, members int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.members {
		if m.sess != nil {
			connected++
		}
	}
	return connected, len(r.members)
}

// join seats sess in the room: a new member, or the same participant coming
// back (a reconnection, or a second tab, which takes over). It subscribes
// sess to everything the others publish.
func (r *room) join(sess *session) error {
	r.mu.Lock()
	if r.ended || !r.allowed[sess.p.ID] {
		r.mu.Unlock()
		return ErrNotAdmitted
	}
	var replaced *session
	m := r.members[sess.p.ID]
	if m == nil {
		r.joins++
		m = &member{p: sess.p, order: r.joins, pubs: map[string]*publication{}, streamIDs: map[string]string{},
			audioOn: true, videoOn: true}
		r.members[sess.p.ID] = m
	} else {
		if m.grace != nil {
			m.grace.Stop()
			m.grace = nil
		}
		replaced = m.sess
		m.p = sess.p
	}
	m.sess = sess
	for _, other := range r.members {
		if other == m {
			continue
		}
		for _, pub := range other.pubs {
			sess.subscribe(pub)
		}
	}
	sess.negotiate()
	r.broadcastLocked()
	r.mu.Unlock()
	if replaced != nil {
		replaced.close(reasonReplaced)
	}
	return nil
}

// leave is called when sess has ended. A lost connection keeps the member
// for the grace period; leaving, removal and the end of the meeting drop it
// at once.
func (r *room) leave(sess *session, reason string) {
	r.mu.Lock()
	m := r.members[sess.p.ID]
	if m == nil || m.sess != sess {
		r.mu.Unlock()
		return
	}
	m.sess = nil
	empty := false
	if reason == reasonLost {
		m.grace = time.AfterFunc(r.sfu.cfg.ReconnectGrace, func() { r.expire(m) })
	} else {
		r.dropLocked(m)
		empty = len(r.members) == 0
	}
	r.broadcastLocked()
	r.mu.Unlock()
	if empty {
		r.emptied()
	}
}

// expire drops a member whose grace period ran out without a reconnection.
func (r *room) expire(m *member) {
	r.mu.Lock()
	if r.members[m.p.ID] != m || m.sess != nil {
		r.mu.Unlock()
		return
	}
	r.dropLocked(m)
	empty := len(r.members) == 0
	r.broadcastLocked()
	r.mu.Unlock()
	if empty {
		r.emptied()
	}
}

func (r *room) emptied() {
	if f := r.sfu.cfg.OnRoomEmpty; f != nil {
		f(r.key)
	}
}

// dropLocked removes m and everything it published from the room.
func (r *room) dropLocked(m *member) {
	if m.grace != nil {
		m.grace.Stop()
		m.grace = nil
	}
	for _, pub := range m.pubs {
		r.unpublishLocked(m, pub)
	}
	delete(r.members, m.p.ID)
}

func (r *room) remove(id string) bool {
	r.mu.Lock()
	delete(r.allowed, id)
	m := r.members[id]
	if m == nil {
		r.mu.Unlock()
		return false
	}
	sess := m.sess
	r.dropLocked(m)
	empty := len(r.members) == 0
	r.broadcastLocked()
	r.mu.Unlock()
	if sess != nil {
		sess.close(reasonRemoved)
	}
	if empty {
		r.emptied()
	}
	return true
}

func (r *room) end() {
	sessions, wasEnded := r.shut()
	if wasEnded {
		return
	}
	for _, s := range sessions {
		s.close(reasonEnded)
	}
	r.emptied()
}

// abandon hangs up every session of the room as lost, for a process that
// shuts down: unlike end, nobody is told the meeting is over, so browsers
// reconnect to whichever process serves the room next.
func (r *room) abandon() {
	sessions, _ := r.shut()
	for _, s := range sessions {
		s.close(reasonLost)
	}
}

// shut marks the room ended, forgets its allow list and members, and
// returns the sessions to close (none when it was ended already).
func (r *room) shut() (sessions []*session, wasEnded bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return nil, true
	}
	r.ended = true
	r.allowed = map[string]bool{}
	for _, m := range r.members {
		if m.sess != nil {
			sessions = append(sessions, m.sess)
		}
		if m.grace != nil {
			m.grace.Stop()
		}
	}
	r.members = map[string]*member{}
	return sessions, false
}

func (r *room) muteRemote(id string) error {
	r.mu.Lock()
	m := r.members[id]
	if m == nil {
		r.mu.Unlock()
		return ErrNotConnected
	}
	m.hostMuted = true
	r.applyPausesLocked(m)
	sess := m.sess
	r.broadcastLocked()
	r.mu.Unlock()
	if sess != nil {
		sess.send(message{Type: msgMuted})
	}
	return nil
}

// setState records a participant's own microphone and camera state. Turning
// the microphone on is how a participant muted by the host unmutes.
func (r *room) setState(sess *session, audio, video *bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.members[sess.p.ID]
	if m == nil || m.sess != sess {
		return
	}
	if audio != nil {
		m.audioOn = *audio
		if *audio {
			m.hostMuted = false
		}
	}
	if video != nil {
		m.videoOn = *video
	}
	r.applyPausesLocked(m)
	r.broadcastLocked()
}

// applyPausesLocked stops forwarding a muted microphone or a camera turned
// off: nothing a receiver needs, and for a host mute the point is that the
// others stop hearing, whatever the muted client does.
func (r *room) applyPausesLocked(m *member) {
	if pub := m.pubs[sourceMic]; pub != nil {
		pub.setPaused(!m.audioOn || m.hostMuted)
	}
	if pub := m.pubs[sourceCamera]; pub != nil {
		pub.setPaused(!m.videoOn)
	}
}

// publish returns the publication of source for sess's member, creating it
// (and subscribing everyone else to it) when it is new or its codec changed.
func (r *room) publish(sess *session, source string, remote *webrtc.TrackRemote) *publication {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.members[sess.p.ID]
	if m == nil || m.sess != sess {
		return nil
	}
	codec := remote.Codec().RTPCodecCapability
	if pub := m.pubs[source]; pub != nil {
		if strings.EqualFold(pub.codec.MimeType, codec.MimeType) && pub.codec.SDPFmtpLine == codec.SDPFmtpLine {
			return pub
		}
		// A different codec needs new tracks on every receiver.
		r.unpublishLocked(m, pub)
	}
	streamID := m.streamIDs[source]
	if streamID == "" {
		streamID = newStreamID()
		m.streamIDs[source] = streamID
	}
	pub := &publication{room: r, owner: m.p.ID, source: source, kind: remote.Kind(), streamID: streamID, codec: codec}
	m.pubs[source] = pub
	r.applyPausesLocked(m)
	for _, other := range r.members {
		if other != m && other.sess != nil {
			other.sess.subscribe(pub)
			other.sess.negotiate()
		}
	}
	r.broadcastLocked()
	return pub
}

// unpublish ends sess's publication of source (a screen share stopped).
func (r *room) unpublish(sess *session, source string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.members[sess.p.ID]
	if m == nil || m.sess != sess || m.pubs[source] == nil {
		return
	}
	r.unpublishLocked(m, m.pubs[source])
	r.broadcastLocked()
}

func (r *room) unpublishLocked(m *member, pub *publication) {
	delete(m.pubs, pub.source)
	for _, other := range r.members {
		if other != m && other.sess != nil {
			other.sess.unsubscribe(pub)
			other.sess.negotiate()
		}
	}
	pub.close()
}

// participantView is a participant as the page shows it.
type participantView struct {
	ID        string       `json:"id"`
	Name      string       `json:"name"`
	Role      Role         `json:"role"`
	Connected bool         `json:"connected"`
	Audio     bool         `json:"audio"`
	Video     bool         `json:"video"`
	HostMuted bool         `json:"hostMuted,omitempty"`
	Streams   []streamView `json:"streams"`
}

// streamView tells a page whose tile a received stream is.
type streamView struct {
	StreamID string `json:"streamId"`
	Source   string `json:"source"`
	Kind     string `json:"kind"`
}

func (r *room) viewsLocked() []participantView {
	ms := make([]*member, 0, len(r.members))
	for _, m := range r.members {
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].order < ms[j].order })
	views := make([]participantView, 0, len(ms))
	for _, m := range ms {
		v := participantView{ID: m.p.ID, Name: m.p.Name, Role: m.p.Role, Connected: m.sess != nil,
			Audio: m.audioOn && !m.hostMuted, Video: m.videoOn, HostMuted: m.hostMuted, Streams: []streamView{}}
		for _, src := range []string{sourceMic, sourceCamera, sourceScreen} {
			if pub := m.pubs[src]; pub != nil {
				v.Streams = append(v.Streams, streamView{StreamID: pub.streamID, Source: src, Kind: pub.kind.String()})
			}
		}
		views = append(views, v)
	}
	return views
}

func (r *room) broadcastLocked() {
	views := r.viewsLocked()
	for _, m := range r.members {
		if m.sess != nil {
			m.sess.send(message{Type: msgParticipants, Participants: views})
		}
	}
}

func (r *room) states() []ParticipantState {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []ParticipantState
	for _, v := range r.viewsLocked() {
		m := r.members[v.ID]
		st := ParticipantState{Participant: m.p, Connected: v.Connected, AudioOn: v.Audio, VideoOn: v.Video, HostMuted: v.HostMuted}
		for _, sv := range v.Streams {
			st.Sources = append(st.Sources, sv.Source)
		}
		out = append(out, st)
	}
	return out
}

// The sources a participant publishes.
const (
	sourceMic    = "mic"
	sourceCamera = "camera"
	sourceScreen = "screen"
)

func newStreamID() string {
	var b [9]byte
	_, _ = rand.Read(b[:])
	return "s" + hex.EncodeToString(b[:])
}
