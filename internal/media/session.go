package media

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/webrtc/v4"
)

// Why a session ended. A lost connection keeps the participant's place for
// the reconnect grace period; the others end it at once.
const (
	reasonLost     = "lost"
	reasonLeft     = "left"
	reasonRemoved  = "removed"
	reasonEnded    = "ended"
	reasonReplaced = "replaced"
)

// WebSocket close codes (the 4000-4999 range is the application's), so a
// client can tell whether to reconnect.
const (
	closeEnded    websocket.StatusCode = 4000
	closeRemoved  websocket.StatusCode = 4001
	closeReplaced websocket.StatusCode = 4002
)

// session is one signalling connection and its two peer connections.
//
// Each direction has its own peer connection with one fixed offerer: the
// browser offers on "pub" (what it sends; its own offer is how Chrome
// declares simulcast), the SFU offers on "sub" (what it forwards, which
// changes whenever someone joins or leaves). With one offerer per
// connection, offers never cross, so neither side needs perfect
// negotiation's rollback.
type session struct {
	sfu  *SFU
	room *room
	p    Participant
	conn *websocket.Conn
	log  *slog.Logger

	ctx    context.Context // cancelled once the WebSocket is closed
	cancel context.CancelFunc
	out    chan message
	done   chan struct{} // closed by close: the writer flushes and hangs up

	pub, sub  *webrtc.PeerConnection
	estimator func() cc.BandwidthEstimator

	closeOnce sync.Once

	mu              sync.Mutex // guards what follows; taken after room.mu, never before
	trackSources    map[string]string
	downs           map[*publication]*downTrack
	earlyCandidates map[string][]webrtc.ICECandidateInit // by pc, until its remote description is set
	awaitingAnswer  bool
	pendingOffer    bool
	closed          bool
	reason          string
}

func newSession(s *SFU, r *room, p Participant, conn *websocket.Conn) (*session, error) {
	ctx, cancel := context.WithCancel(s.ctx)
	sess := &session{sfu: s, room: r, p: p, conn: conn, ctx: ctx, cancel: cancel,
		log: s.log.With("room", r.key, "participant", p.ID),
		out: make(chan message, 256), done: make(chan struct{}),
		trackSources: map[string]string{}, downs: map[*publication]*downTrack{}}
	var err error
	if sess.pub, err = s.pubAPI.NewPeerConnection(webrtc.Configuration{}); err != nil {
		cancel()
		return nil, fmt.Errorf("media: publisher peer connection: %w", err)
	}
	api, estimator, err := s.subscriberAPI()
	if err != nil {
		cancel()
		_ = sess.pub.Close()
		return nil, err
	}
	if sess.sub, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		cancel()
		_ = sess.pub.Close()
		return nil, fmt.Errorf("media: subscriber peer connection: %w", err)
	}
	sess.estimator = estimator
	for name, pc := range map[string]*webrtc.PeerConnection{pcPub: sess.pub, pcSub: sess.sub} {
		name := name
		pc.OnICECandidate(func(c *webrtc.ICECandidate) {
			if c == nil {
				return
			}
			init := c.ToJSON()
			sess.send(message{Type: msgCandidate, PC: name, Candidate: &init})
		})
		pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
			// A failed transport does not come back by itself: hang up, and
			// the client reconnects within the grace period.
			if st == webrtc.PeerConnectionStateFailed {
				sess.close(reasonLost)
			}
		})
	}
	sess.pub.OnTrack(sess.onTrack)
	return sess, nil
}

// run serves the connection until it ends.
func (s *session) run() {
	writerDone := make(chan struct{})
	go func() { s.writeLoop(); close(writerDone) }()
	go s.pingLoop()
	go s.allocateLoop()
	s.readLoop()
	s.close(reasonLost)
	s.mu.Lock()
	reason := s.reason
	s.mu.Unlock()
	s.room.leave(s, reason)
	<-writerDone
	s.log.Debug("media session ended", "reason", reason)
}

// send queues msg for the client. A client that does not read is dropped
// rather than allowed to hold the SFU's memory or goroutines.
func (s *session) send(msg message) {
	select {
	case <-s.done:
		return
	default:
	}
	select {
	case s.out <- msg:
	default:
		go s.close(reasonLost)
	}
}

// close ends the session: the peer connections at once (the media stops
// now, not when the client notices), then the WebSocket after a last message
// saying why.
func (s *session) close(reason string) {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed, s.reason = true, reason
		downs := s.downs
		s.downs = map[*publication]*downTrack{}
		s.mu.Unlock()
		for pub, d := range downs {
			d.close()
			pub.removeDown(d)
		}
		switch reason {
		case reasonRemoved, reasonEnded, reasonReplaced:
			select {
			case s.out <- message{Type: reason}:
			default:
			}
		}
		close(s.done)
		_ = s.pub.Close()
		_ = s.sub.Close()
	})
}

func (s *session) writeLoop() {
	defer s.cancel()
	write := func(msg message, timeout time.Duration) error {
		data, err := json.Marshal(msg)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		return s.conn.Write(ctx, websocket.MessageText, data)
	}
	for {
		select {
		case msg := <-s.out:
			if err := write(msg, 10*time.Second); err != nil {
				s.close(reasonLost)
			}
		case <-s.done:
			for flushing := true; flushing; {
				select {
				case msg := <-s.out:
					if write(msg, time.Second) != nil {
						flushing = false
					}
				default:
					flushing = false
				}
			}
			s.mu.Lock()
			reason := s.reason
			s.mu.Unlock()
			code := map[string]websocket.StatusCode{reasonEnded: closeEnded, reasonRemoved: closeRemoved,
				reasonReplaced: closeReplaced, reasonLeft: websocket.StatusNormalClosure}[reason]
			if code == 0 {
				_ = s.conn.CloseNow()
				return
			}
			_ = s.conn.Close(code, reason)
			return
		}
	}
}

func (s *session) pingLoop() {
	t := time.NewTicker(s.sfu.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(s.ctx, s.sfu.cfg.PingInterval)
			err := s.conn.Ping(ctx)
			cancel()
			if err != nil {
				s.close(reasonLost)
				return
			}
		}
	}
}

// allocationInterval is how often each receiver's layers are chosen again
// from its bandwidth estimate.
const allocationInterval = 500 * time.Millisecond

func (s *session) allocateLoop() {
	t := time.NewTicker(allocationInterval)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case now := <-t.C:
			s.allocate(now)
		}
	}
}

// estimate is the receiver's downlink bandwidth in bits per second.
func (s *session) estimate() int {
	if f := s.sfu.testEstimate; f != nil {
		if bps, ok := f(s.p.ID); ok {
			return bps
		}
	}
	if e := s.estimator(); e != nil {
		return e.GetTargetBitrate()
	}
	return initialEstimate
}

// audioReserve is kept out of the video budget for each audio track
// received (Opus speech peaks near 40 kbit/s, plus headers).
const audioReserve = 48_000

// allocate splits the receiver's estimate evenly between the videos it
// receives and picks for each the best simulcast layer that fits, so that a
// receiver on a weak link gets small layers without the sender lowering
// what everyone else gets.
func (s *session) allocate(now time.Time) {
	bps := s.estimate()
	s.mu.Lock()
	var videos []*downTrack
	audios := 0
	for pub, d := range s.downs {
		switch {
		case pub.kind == webrtc.RTPCodecTypeAudio:
			audios++
		case !pub.paused.Load():
			videos = append(videos, d)
		}
	}
	s.mu.Unlock()
	if len(videos) == 0 {
		return
	}
	budget := max((bps-audios*audioReserve)/len(videos), 0)
	for _, d := range videos {
		d.setTarget(chooseQuality(d.pub.activeLayers(now), budget, d.currentQuality()), now)
	}
}

// subscribe adds pub to what the receiver gets. The caller negotiates.
func (s *session) subscribe(pub *publication) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.downs[pub] != nil {
		return
	}
	local, err := webrtc.NewTrackLocalStaticRTP(pub.codec, pub.source, pub.streamID)
	if err != nil {
		s.log.Error("media: new forwarded track", "error", err.Error())
		return
	}
	track := &boundTrack{TrackLocalStaticRTP: local}
	tr, err := s.sub.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		s.log.Error("media: add forwarded track", "error", err.Error())
		return
	}
	d := newDownTrack(pub, s, local, tr.Sender())
	track.onBind = func() {
		d.bound.Store(true)
		// A new receiver needs a key frame to start decoding. Pion binds
		// inside SetRemoteDescription, under this session's lock: ask from
		// another goroutine.
		go func() {
			s.allocate(time.Now())
			d.setTarget(-1, time.Now())
		}()
	}
	s.downs[pub] = d
	pub.addDown(d)
	go d.readRTCP()
}

// unsubscribe stops forwarding pub to the receiver. The caller negotiates.
func (s *session) unsubscribe(pub *publication) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.downs[pub]
	if d == nil {
		return
	}
	delete(s.downs, pub)
	d.close()
	pub.removeDown(d)
	if !s.closed {
		if err := s.sub.RemoveTrack(d.sender); err != nil {
			s.log.Debug("media: remove forwarded track", "error", err.Error())
		}
	}
}

// negotiate sends the receiver a new offer for its subscriber connection,
// or, while an earlier offer awaits its answer, one more right after it.
func (s *session) negotiate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.negotiateLocked()
}

func (s *session) negotiateLocked() {
	if s.closed {
		return
	}
	if s.awaitingAnswer {
		s.pendingOffer = true
		return
	}
	if len(s.sub.GetTransceivers()) == 0 {
		return // nothing to receive yet
	}
	offer, err := s.sub.CreateOffer(nil)
	if err == nil {
		err = s.sub.SetLocalDescription(offer)
	}
	if err != nil {
		s.log.Error("media: offer to receiver", "error", err.Error())
		go s.close(reasonLost)
		return
	}
	s.awaitingAnswer = true
	s.send(message{Type: msgOffer, PC: pcSub, SDP: offer.SDP})
}

func (s *session) onAnswer(sdp string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.awaitingAnswer {
		return errors.New("answer without an offer")
	}
	if err := s.sub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
		return fmt.Errorf("set answer: %w", err)
	}
	s.flushCandidatesLocked(pcSub, s.sub)
	s.awaitingAnswer = false
	if s.pendingOffer {
		s.pendingOffer = false
		s.negotiateLocked()
	}
	return nil
}

// onOffer answers the client's offer for its publisher connection.
func (s *session) onOffer(sdp string, tracks map[string]string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, source := range tracks {
		s.trackSources[id] = source
	}
	if err := s.pub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		return fmt.Errorf("set offer: %w", err)
	}
	s.flushCandidatesLocked(pcPub, s.pub)
	answer, err := s.pub.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("create answer: %w", err)
	}
	if err := s.pub.SetLocalDescription(answer); err != nil {
		return fmt.Errorf("set answer: %w", err)
	}
	s.send(message{Type: msgAnswer, PC: pcPub, SDP: answer.SDP})
	return nil
}

// sourceOf says what a published track is, as the client declared with its
// offer; undeclared audio is the microphone and undeclared video the camera.
func (s *session) sourceOf(trackID string, kind webrtc.RTPCodecType) string {
	s.mu.Lock()
	declared := s.trackSources[trackID]
	s.mu.Unlock()
	if kind == webrtc.RTPCodecTypeAudio {
		return sourceMic
	}
	if declared == sourceScreen {
		return sourceScreen
	}
	return sourceCamera
}

func (s *session) onTrack(remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
	pub := s.room.publish(s, s.sourceOf(remote.ID(), remote.Kind()), remote)
	if pub == nil {
		return
	}
	l := &layer{pub: pub, rid: remote.RID(), quality: qualityOf(remote.RID()), track: remote, receiver: receiver,
		pc: s.pub, ssrc: uint32(remote.SSRC()), metrics: s.sfu.metrics}
	if !pub.attach(l) {
		return
	}
	go l.drainRTCP()
	if downs := pub.downs.Load(); downs != nil && pub.kind == webrtc.RTPCodecTypeVideo {
		// Receivers already subscribed (the publisher reconnected) switch to
		// the new upstream at its first key frame.
		for _, d := range *downs {
			d.setTarget(-1, time.Now())
		}
	}
	l.read()
}

func (s *session) readLoop() {
	for {
		typ, data, err := s.conn.Read(s.ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			continue
		}
		var msg message
		if err := json.Unmarshal(data, &msg); err != nil {
			s.send(message{Type: msgError, Message: "malformed message"})
			continue
		}
		if err := s.handle(msg); err != nil {
			s.log.Info("media: signalling message refused", "type", msg.Type, "error", err.Error())
			s.send(message{Type: msgError, Message: err.Error()})
		}
		select {
		case <-s.done:
			return
		default:
		}
	}
}

func (s *session) handle(msg message) error {
	switch msg.Type {
	case msgOffer:
		if msg.PC != pcPub {
			return errors.New("offers are for the pub connection")
		}
		return s.onOffer(msg.SDP, msg.Tracks)
	case msgAnswer:
		if msg.PC != pcSub {
			return errors.New("answers are for the sub connection")
		}
		return s.onAnswer(msg.SDP)
	case msgCandidate:
		if msg.Candidate == nil {
			return nil
		}
		return s.addCandidate(msg.PC, *msg.Candidate)
	case msgState:
		s.room.setState(s, msg.Audio, msg.Video)
		return nil
	case msgUnpublish:
		s.room.unpublish(s, msg.Source)
		return nil
	case msgLeave:
		s.close(reasonLeft)
		return nil
	case msgMute, msgRemove, msgEnd:
		return s.hostAction(msg)
	}
	return fmt.Errorf("unknown message type %q", msg.Type)
}

// hostAction carries out a host's control. The room enforces it here, in
// the process that holds the media; OnControl lets the meetings package
// record it (a removal must outlive this process's memory). A removal and
// the end are recorded before they are carried out: once the person's
// connection closes, the record already refuses them a new one, whichever
// process they reach.
func (s *session) hostAction(msg message) error {
	if s.p.Role != RoleHost {
		return errors.New("only a host may do that")
	}
	report := func(ctl Control) {
		if f := s.sfu.cfg.OnControl; f != nil {
			f(ctl)
		}
	}
	ctl := Control{Key: s.room.key, By: s.p, Action: msg.Type, Target: msg.ID}
	switch msg.Type {
	case msgMute:
		if err := s.sfu.MuteRemote(s.room.key, msg.ID); err != nil {
			return err
		}
		report(ctl)
	case msgRemove:
		if msg.ID == s.p.ID {
			return errors.New("a host leaves rather than removes itself")
		}
		if !s.room.has(msg.ID) {
			return ErrNotConnected
		}
		report(ctl)
		s.sfu.Remove(s.room.key, msg.ID)
	case msgEnd:
		ctl.Target = ""
		report(ctl)
		s.sfu.End(s.room.key)
	}
	return nil
}

// addCandidate adds a trickled candidate of the client, or keeps it until
// the description it belongs to is set: a browser may send its first
// candidates before the offer or answer they follow has been processed here.
func (s *session) addCandidate(pcName string, c webrtc.ICECandidateInit) error {
	pc := s.pub
	if pcName == pcSub {
		pc = s.sub
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if pc.RemoteDescription() == nil {
		if s.earlyCandidates == nil {
			s.earlyCandidates = map[string][]webrtc.ICECandidateInit{}
		}
		if len(s.earlyCandidates[pcName]) < 64 {
			s.earlyCandidates[pcName] = append(s.earlyCandidates[pcName], c)
		}
		return nil
	}
	if err := pc.AddICECandidate(c); err != nil {
		return fmt.Errorf("candidate: %w", err)
	}
	return nil
}

func (s *session) flushCandidatesLocked(pcName string, pc *webrtc.PeerConnection) {
	for _, c := range s.earlyCandidates[pcName] {
		if err := pc.AddICECandidate(c); err != nil {
			s.log.Debug("media: early candidate", "error", err.Error())
		}
	}
	delete(s.earlyCandidates, pcName)
}
