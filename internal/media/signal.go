package media

import (
	"net/http"

	"github.com/coder/websocket"
	"github.com/pion/webrtc/v4"
)

// Message types of the signalling protocol (see the package documentation).
const (
	msgWelcome      = "welcome"
	msgParticipants = "participants"
	msgOffer        = "offer"
	msgAnswer       = "answer"
	msgCandidate    = "candidate"
	msgState        = "state"
	msgUnpublish    = "unpublish"
	msgMute         = "mute"
	msgMuted        = "muted"
	msgRemove       = "remove"
	msgEnd          = "end"
	msgLeave        = "leave"
	msgError        = "error"
)

// The two peer connections of a participant.
const (
	pcPub = "pub" // browser → SFU; the browser offers
	pcSub = "sub" // SFU → browser; the SFU offers
)

// message is every signalling message, both ways; Type says which fields
// mean something.
type message struct {
	Type         string                   `json:"type"`
	PC           string                   `json:"pc,omitempty"`
	SDP          string                   `json:"sdp,omitempty"`
	Candidate    *webrtc.ICECandidateInit `json:"candidate,omitempty"`
	Tracks       map[string]string        `json:"tracks,omitempty"`
	Source       string                   `json:"source,omitempty"`
	ID           string                   `json:"id,omitempty"`
	Audio        *bool                    `json:"audio,omitempty"`
	Video        *bool                    `json:"video,omitempty"`
	Self         *participantView         `json:"self,omitempty"`
	ICEServers   []webrtc.ICEServer       `json:"iceServers,omitempty"`
	Participants []participantView        `json:"participants,omitempty"`
	GraceSeconds int                      `json:"graceSeconds,omitempty"`
	Message      string                   `json:"message,omitempty"`
}

// maxMessageBytes bounds one signalling message: a simulcast offer with
// three tracks is about 10 KiB.
const maxMessageBytes = 256 << 10

// ServeSignalling upgrades r to the signalling WebSocket of participant p in
// room key and serves it until it ends. The caller has authenticated the
// request (session cookie or lobby ticket) and resolved p and key from it;
// this method enforces the rest:
//
//   - the Origin header must equal allowedOrigin exactly (the site's own
//     origin, e.g. "https://acme.example.com"), else 403: a WebSocket is not
//     bound by the same-origin policy, and without this check any page the
//     user visits could join meetings with the user's cookie
//     (cross-site WebSocket hijacking);
//   - p.ID must be on the room's allow list (Allow), else 403.
//
// One connection serves one room. A second connection with the same
// participant ID takes over from the first (a reconnection, or another tab).
func (s *SFU) ServeSignalling(w http.ResponseWriter, r *http.Request, key string, p Participant, allowedOrigin string) {
	if origin := r.Header.Get("Origin"); allowedOrigin == "" || origin != allowedOrigin {
		s.metrics.refused.WithLabelValues("origin").Inc()
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	if err := p.validate(); err != nil || key == "" {
		s.metrics.refused.WithLabelValues("bad-request").Inc()
		http.Error(w, "bad participant", http.StatusBadRequest)
		return
	}
	rm := s.room(key, false)
	if rm == nil || !rm.isAllowed(p.ID) {
		s.metrics.refused.WithLabelValues("not-admitted").Inc()
		http.Error(w, "not admitted to this meeting", http.StatusForbidden)
		return
	}
	// The Origin was checked above, exactly (scheme, host and port);
	// coder/websocket's own check compares hosts only.
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return // Accept has answered the request
	}
	conn.SetReadLimit(maxMessageBytes)
	sess, err := newSession(s, rm, p, conn)
	if err != nil {
		s.log.Error("media: start session", "error", err.Error())
		_ = conn.Close(websocket.StatusInternalError, "media unavailable")
		return
	}
	self := participantView{ID: p.ID, Name: p.Name, Role: p.Role, Streams: []streamView{}}
	sess.send(message{Type: msgWelcome, Self: &self, ICEServers: s.cfg.ICEServers,
		GraceSeconds: int(s.cfg.ReconnectGrace.Seconds())})
	if err := rm.join(sess); err != nil {
		// Removed or ended between the check and now.
		s.metrics.refused.WithLabelValues("not-admitted").Inc()
		sess.close(reasonRemoved)
		sess.run()
		return
	}
	sess.run()
}
