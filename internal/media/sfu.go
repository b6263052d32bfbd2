package media

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// Role is what a participant may do in a meeting's media.
type Role string

// The roles. Only a host may mute others, remove them or end the meeting.
const (
	RoleHost        Role = "host"
	RoleParticipant Role = "participant"
	RoleGuest       Role = "guest"
)

// Participant is a person the caller has authenticated and admitted to a
// meeting. ID is the caller's stable identifier (for example "user:42" or
// "guest:<lobby ticket id>"): a reconnection with the same ID resumes the
// same place in the meeting.
type Participant struct {
	ID   string
	Name string
	Role Role
}

func (p Participant) validate() error {
	if p.ID == "" || len(p.ID) > 200 {
		return errors.New("participant ID must be 1 to 200 bytes")
	}
	if len(p.Name) > 200 {
		return errors.New("participant name longer than 200 bytes")
	}
	switch p.Role {
	case RoleHost, RoleParticipant, RoleGuest:
		return nil
	}
	return fmt.Errorf("unknown participant role %q", p.Role)
}

// Control is a host action taken over a signalling connection, reported to
// Config.OnControl.
type Control struct {
	Key    string      // the room
	By     Participant // the host
	Action string      // "mute", "remove" or "end"
	Target string      // the participant ID muted or removed; "" for end
}

// Errors callers tell apart.
var (
	// ErrNotAdmitted: the participant is not (or no longer) on the room's
	// allow list.
	ErrNotAdmitted = errors.New("media: participant not admitted to this meeting")
	// ErrNotConnected: no such participant is in the room's media.
	ErrNotConnected = errors.New("media: participant not connected")
)

// SFU is the selective forwarding unit of one portal process: it receives
// each participant's tracks once and forwards them to everyone else in the
// same room, choosing per receiver which simulcast layer to send.
type SFU struct {
	cfg      Config
	log      *slog.Logger
	metrics  *metrics
	settings webrtc.SettingEngine
	pubAPI   *webrtc.API

	udpMux    ice.UDPMux
	udpAddrs  []net.Addr
	tcpMux    ice.TCPMux
	tcpListen net.Listener

	ctx    context.Context // cancelled by Close; parent of every session
	cancel context.CancelFunc

	mu     sync.Mutex
	rooms  map[string]*room
	closed bool

	// testEstimate, when set by a test, replaces the bandwidth estimate of a
	// receiver (by participant ID) when choosing its simulcast layers.
	testEstimate func(participantID string) (bitsPerSecond int, ok bool)
}

// New opens the media sockets (one UDP port for every peer connection, and
// one TCP port for ICE-TCP) and returns an SFU with no rooms. reg may be nil.
func New(cfg Config, log *slog.Logger, reg prometheus.Registerer) (*SFU, error) {
	cfg = cfg.withDefaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &SFU{cfg: cfg, log: log, rooms: map[string]*room{}, ctx: ctx, cancel: cancel}
	m, err := newMetrics(reg, s)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("media: register metrics: %w", err)
	}
	s.metrics = m
	if err := s.listen(); err != nil {
		s.closeSockets()
		cancel()
		return nil, err
	}
	if err := s.configure(); err != nil {
		s.closeSockets()
		cancel()
		return nil, err
	}
	return s, nil
}

// socketBuffer is the size asked for the media socket's kernel buffers.
// Every participant's packets arrive on this one socket: with the default
// (about 200 KiB) a few milliseconds without a core for its reader, on a
// busy machine, overflow it and the kernel drops datagrams (RcvbufErrors).
const socketBuffer = 8 << 20

func (s *SFU) listen() error {
	logs := pionLogs{log: s.log}
	listenIP := net.ParseIP(s.cfg.ListenIP)
	if s.cfg.ListenIP != "" && listenIP == nil {
		return fmt.Errorf("media: listen address %q is not an IP address", s.cfg.ListenIP)
	}
	if listenIP != nil && !listenIP.IsUnspecified() {
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: listenIP, Port: s.cfg.UDPPort})
		if err != nil {
			return fmt.Errorf("media: listen on UDP %s: %w", net.JoinHostPort(s.cfg.ListenIP, strconv.Itoa(s.cfg.UDPPort)), err)
		}
		// Best effort: the kernel caps it at net.core.rmem_max/wmem_max.
		_ = conn.SetReadBuffer(socketBuffer)
		_ = conn.SetWriteBuffer(socketBuffer)
		s.udpMux = webrtc.NewICEUDPMux(logs.NewLogger("udpmux"), conn)
	} else {
		// One socket per interface address, all on the same port: a socket
		// on the unspecified address cannot tell pion which local address a
		// packet reached, which ICE needs.
		mux, err := ice.NewMultiUDPMuxFromPort(s.cfg.UDPPort, ice.UDPMuxFromPortWithLogger(logs.NewLogger("udpmux")),
			ice.UDPMuxFromPortWithReadBufferSize(socketBuffer), ice.UDPMuxFromPortWithWriteBufferSize(socketBuffer))
		if err != nil {
			return fmt.Errorf("media: listen on UDP port %d: %w", s.cfg.UDPPort, err)
		}
		s.udpMux = mux
	}
	s.udpAddrs = s.udpMux.GetListenAddresses()
	if s.cfg.TCPPort >= 0 {
		ln, err := net.Listen("tcp", net.JoinHostPort(s.cfg.ListenIP, strconv.Itoa(s.cfg.TCPPort)))
		if err != nil {
			return fmt.Errorf("media: listen on ICE-TCP port %d: %w", s.cfg.TCPPort, err)
		}
		s.tcpListen = ln
		s.tcpMux = webrtc.NewICETCPMux(logs.NewLogger("tcpmux"), ln, 64)
	}
	return nil
}

func (s *SFU) configure() error {
	var se webrtc.SettingEngine
	se.LoggerFactory = pionLogs{log: s.log}
	se.SetICEUDPMux(s.udpMux)
	networks := []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6}
	if s.tcpMux != nil {
		se.SetICETCPMux(s.tcpMux)
		networks = append(networks, webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6)
	}
	se.SetNetworkTypes(networks)
	// mDNS would hide the SFU's address behind a .local name browsers
	// elsewhere cannot resolve; the SFU's address is meant to be known.
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if ip := net.ParseIP(s.cfg.ListenIP); ip != nil && ip.IsLoopback() {
		se.SetIncludeLoopbackCandidate(true)
	}
	if len(s.cfg.PublicIPs) > 0 {
		// NAT 1:1: announce the public address instead of the private one
		// the sockets are bound to.
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External:        s.cfg.PublicIPs,
			AsCandidateType: webrtc.ICECandidateTypeHost,
			Mode:            webrtc.ICEAddressRewriteReplace,
		}); err != nil {
			return fmt.Errorf("media: public addresses: %w", err)
		}
	}
	s.settings = se

	m, err := newMediaEngine()
	if err != nil {
		return err
	}
	reg := &interceptor.Registry{}
	// Receiving from publishers: NACK what is missing, report reception,
	// send transport-wide feedback so the browser's own congestion control
	// can adapt its upload, and read the simulcast rid header extensions.
	if err := webrtc.ConfigureNack(m, reg); err != nil {
		return fmt.Errorf("media: nack: %w", err)
	}
	if err := webrtc.ConfigureRTCPReports(reg); err != nil {
		return fmt.Errorf("media: rtcp reports: %w", err)
	}
	if err := webrtc.ConfigureTWCCSender(m, reg); err != nil {
		return fmt.Errorf("media: twcc: %w", err)
	}
	if err := webrtc.ConfigureSimulcastExtensionHeaders(m); err != nil {
		return fmt.Errorf("media: simulcast extensions: %w", err)
	}
	s.pubAPI = webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
	return nil
}

// subscriberAPI builds the API of one receiver's peer connection. It is one
// per receiver because the bandwidth estimator the cc interceptor creates
// can only be told apart by the API that made it.
func (s *SFU) subscriberAPI() (*webrtc.API, func() cc.BandwidthEstimator, error) {
	m, err := newMediaEngine()
	if err != nil {
		return nil, nil, err
	}
	reg := &interceptor.Registry{}
	// Google congestion control over transport-wide feedback estimates what
	// the receiver's downlink carries. No pacer: the SFU adapts by choosing
	// layers, and a pacer's queue would only add latency.
	ccFactory, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
		return gcc.NewSendSideBWE(
			gcc.SendSideBWEInitialBitrate(initialEstimate),
			gcc.SendSideBWEMinBitrate(50_000),
			gcc.SendSideBWEMaxBitrate(20_000_000),
			gcc.SendSideBWEPacer(gcc.NewNoOpPacer()),
			gcc.WithLoggerFactory(pionLogs{log: s.log}),
		)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("media: congestion control: %w", err)
	}
	var (
		mu        sync.Mutex
		estimator cc.BandwidthEstimator
	)
	ccFactory.OnNewPeerConnection(func(_ string, e cc.BandwidthEstimator) {
		mu.Lock()
		estimator = e
		mu.Unlock()
	})
	// Order matters: the transport-wide sequence number must be stamped
	// (header extension interceptor) before the estimator records the send,
	// so it is registered after cc; the NACK responder comes after both so
	// that retransmissions are counted too.
	reg.Add(ccFactory)
	if err := webrtc.ConfigureTWCCHeaderExtensionSender(m, reg); err != nil {
		return nil, nil, fmt.Errorf("media: twcc header: %w", err)
	}
	if err := webrtc.ConfigureNack(m, reg); err != nil {
		return nil, nil, fmt.Errorf("media: nack: %w", err)
	}
	if err := webrtc.ConfigureRTCPReports(reg); err != nil {
		return nil, nil, fmt.Errorf("media: rtcp reports: %w", err)
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(s.settings))
	return api, func() cc.BandwidthEstimator {
		mu.Lock()
		defer mu.Unlock()
		return estimator
	}, nil
}

// initialEstimate is where a receiver's bandwidth estimate starts: enough
// for the middle layer of a few videos, so a meeting opens sharp enough and
// climbs from there.
const initialEstimate = 1_500_000

// newMediaEngine registers the codecs the portal forwards: Opus, VP8, and
// H.264 (constrained baseline, which every browser decodes) when a browser
// offers it. No RTX: retransmissions travel on the media SSRC, which every
// browser accepts and which keeps forwarding simple.
func newMediaEngine() (*webrtc.MediaEngine, error) {
	m := &webrtc.MediaEngine{}
	feedback := []webrtc.RTCPFeedback{{Type: "ccm", Parameter: "fir"}, {Type: "transport-cc"}}
	codecs := []struct {
		kind  webrtc.RTPCodecType
		codec webrtc.RTPCodecParameters
	}{
		{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecParameters{PayloadType: 111, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1",
			RTCPFeedback: []webrtc.RTCPFeedback{{Type: "transport-cc"}}}}},
		{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecParameters{PayloadType: 96, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: feedback}}},
		{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecParameters{PayloadType: 102, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeH264, ClockRate: 90000, RTCPFeedback: feedback,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}}},
	}
	for _, c := range codecs {
		if err := m.RegisterCodec(c.codec, c.kind); err != nil {
			return nil, fmt.Errorf("media: register %s: %w", c.codec.MimeType, err)
		}
	}
	return m, nil
}

// UDPAddrs are the addresses of the shared media UDP port.
func (s *SFU) UDPAddrs() []net.Addr { return s.udpAddrs }

// TCPAddr is the ICE-TCP listen address, nil when ICE-TCP is off.
func (s *SFU) TCPAddr() net.Addr {
	if s.tcpListen == nil {
		return nil
	}
	return s.tcpListen.Addr()
}

// ICEServers are the STUN/TURN servers browsers should use.
func (s *SFU) ICEServers() []webrtc.ICEServer { return s.cfg.ICEServers }

// Close hangs up every connection and closes the media sockets, at
// shutdown. The meetings go on: each connection is closed as lost, not
// ended, so browsers reconnect (within their grace period) and reach
// another portal process, which takes the rooms over. Neither OnRoomEmpty
// nor OnControl is called.
func (s *SFU) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	rooms := s.rooms
	s.rooms = map[string]*room{}
	s.mu.Unlock()
	for _, r := range rooms {
		r.abandon()
	}
	s.cancel()
	return s.closeSockets()
}

func (s *SFU) closeSockets() error {
	var errs []error
	if s.udpMux != nil {
		errs = append(errs, s.udpMux.Close())
	}
	if s.tcpMux != nil {
		errs = append(errs, s.tcpMux.Close())
	}
	if s.tcpListen != nil {
		if err := s.tcpListen.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// room returns the room for key, creating it when create is set.
func (s *SFU) room(key string, create bool) *room {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rooms[key]
	if r == nil && create && !s.closed {
		r = newRoom(s, key)
		s.rooms[key] = r
	}
	return r
}

// counts returns the participants connected and the rooms with anyone in
// them, for the metrics.
func (s *SFU) counts() (participants, rooms int) {
	s.mu.Lock()
	all := make([]*room, 0, len(s.rooms))
	for _, r := range s.rooms {
		all = append(all, r)
	}
	s.mu.Unlock()
	for _, r := range all {
		connected, members := r.counts()
		participants += connected
		if members > 0 {
			rooms++
		}
	}
	return participants, rooms
}

// Allow puts participantID on the room's allow list: from now on a
// signalling connection for it is accepted. The meetings package calls it
// when it lets someone in (an invitee opening the meeting page, a guest
// admitted from the lobby).
func (s *SFU) Allow(key, participantID string) {
	if r := s.room(key, true); r != nil {
		r.allow(participantID)
	}
}

// Allowed lists the participants on the room's allow list: those who may
// connect, whether or not they are connected now.
func (s *SFU) Allowed(key string) []string {
	r := s.room(key, false)
	if r == nil {
		return nil
	}
	return r.allowedIDs()
}

// Remove takes participantID off the room's allow list and closes its
// connection and peer connections at once; the others stop receiving its
// media. It cannot reconnect until Allow is called again. It reports whether
// the participant was in the room's media.
func (s *SFU) Remove(key, participantID string) bool {
	r := s.room(key, false)
	if r == nil {
		return false
	}
	return r.remove(participantID)
}

// End closes every connection of the room and forgets it, allow list
// included.
func (s *SFU) End(key string) {
	s.mu.Lock()
	r := s.rooms[key]
	delete(s.rooms, key)
	s.mu.Unlock()
	if r != nil {
		r.end()
	}
}

// MuteRemote asks participantID's client to mute its microphone and stops
// forwarding its audio until the participant unmutes itself.
func (s *SFU) MuteRemote(key, participantID string) error {
	r := s.room(key, false)
	if r == nil {
		return ErrNotConnected
	}
	return r.muteRemote(participantID)
}

// ParticipantState is a participant in a room's media, for pages and tests.
type ParticipantState struct {
	Participant
	Connected bool // false while reconnecting
	AudioOn   bool // microphone on and not muted by the host
	VideoOn   bool
	HostMuted bool
	Sources   []string // what it publishes: "mic", "camera", "screen"
}

// Participants lists the room's participants in the order they joined.
func (s *SFU) Participants(key string) []ParticipantState {
	r := s.room(key, false)
	if r == nil {
		return nil
	}
	return r.states()
}
