package media

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/prometheus/client_golang/prometheus"
)

// testOrigin is the site origin the test signalling handler allows.
const testOrigin = "http://acme.portal.test"

// harness is an SFU on loopback behind a signalling handler that takes the
// participant from the query string, standing in for the meeting page's
// authenticated handler.
type harness struct {
	t        testing.TB
	baseURL  string // of the signalling server; set for a harness without its own SFU
	sfu      *SFU
	srv      *httptest.Server
	reg      *prometheus.Registry
	mu       sync.Mutex
	controls []Control
}

func newHarness(t testing.TB, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, reg: prometheus.NewRegistry()}
	cfg.ListenIP = "127.0.0.1"
	cfg.OnControl = func(c Control) { h.mu.Lock(); h.controls = append(h.controls, c); h.mu.Unlock() }
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("MEDIA_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s, err := New(cfg, log, h.reg)
	if err != nil {
		t.Fatalf("new SFU: %v", err)
	}
	h.sfu = s
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		p := Participant{ID: q.Get("id"), Name: q.Get("name"), Role: Role(q.Get("role"))}
		s.ServeSignalling(w, r, q.Get("key"), p, testOrigin)
	}))
	t.Cleanup(func() {
		_ = s.Close()
		h.srv.Close()
	})
	return h
}

func (h *harness) signalURL(key string, p Participant) string {
	q := url.Values{"key": {key}, "id": {p.ID}, "name": {p.Name}, "role": {string(p.Role)}}
	base := h.baseURL
	if base == "" {
		base = h.srv.URL
	}
	return "ws" + strings.TrimPrefix(base, "http") + "/?" + q.Encode()
}

// clientOptions shape a test participant.
type clientOptions struct {
	origin       string
	interceptors []interceptor.Factory // run before pion's defaults on received packets
	lossy        bool                  // the interceptors lose packets after SRTP (see loopbackAPI)
	onPacket     func(*rtp.Packet)     // replaces the per-stream bookkeeping (load generation)
}

// testClient is a participant's browser, played by pion.
type testClient struct {
	t    testing.TB
	p    Participant
	conn *websocket.Conn
	pub  *webrtc.PeerConnection
	sub  *webrtc.PeerConnection
	ctx  context.Context
	stop context.CancelFunc

	mu           sync.Mutex
	welcome      bool
	participants []participantView
	events       []string // control messages received: muted, removed, ended, replaced
	streams      map[string]*received
	wsClosed     chan struct{}
	closeStatus  websocket.StatusCode
	keyframeWant chan struct{} // PLI received for the camera
	tagger       *ridTagger
	onPacket     func(*rtp.Packet)
}

// received is what arrived on one forwarded track.
type received struct {
	kind    string
	packets int
	seqs    map[uint16]int
	last    time.Time
	markers map[byte]int // last payload byte of video packets: which simulcast layer
	recent  []byte       // the markers of the last 30 video packets
	ssrc    uint32
}

// loopbackAPI is pion restricted to loopback, as the tests' network rules
// require.
func loopbackAPI(t testing.TB, extra []interceptor.Factory, lossy bool) *webrtc.API {
	t.Helper()
	var se webrtc.SettingEngine
	quiet := logging.NewDefaultLoggerFactory()
	quiet.DefaultLogLevel = logging.LogLevelDisabled
	se.LoggerFactory = quiet
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	// Buffers as large as the SFU's, so that the load generator is not
	// what drops packets.
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadBuffer(socketBuffer)
	_ = conn.SetWriteBuffer(socketBuffer)
	mux := webrtc.NewICEUDPMux(quiet.NewLogger("udpmux"), conn)
	t.Cleanup(func() { _ = mux.Close() })
	se.SetICEUDPMux(mux)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if lossy {
		// The extra interceptors lose packets after SRTP has accepted them;
		// a real network loses them before, where the retransmission is not
		// a replay. Without this, SRTP would reject every retransmission.
		se.DisableSRTPReplayProtection(true)
	}
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	reg := &interceptor.Registry{}
	for _, f := range extra {
		reg.Add(f)
	}
	if err := webrtc.RegisterDefaultInterceptorsWithOptions(m, reg, webrtc.WithInterceptorLoggerFactory(quiet)); err != nil {
		t.Fatal(err)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
}

// dialSignalling opens the signalling WebSocket; on refusal it returns the
// HTTP status.
func dialSignalling(ctx context.Context, u, origin string) (*websocket.Conn, int, error) {
	hdr := http.Header{}
	if origin != "" {
		hdr.Set("Origin", origin)
	}
	conn, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: hdr})
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	return conn, status, err
}

func (h *harness) join(key string, p Participant, opts clientOptions) *testClient {
	h.t.Helper()
	c, status, err := h.tryJoin(key, p, opts)
	if err != nil {
		h.t.Fatalf("%s joins %s: status %d: %v", p.ID, key, status, err)
	}
	return c
}

func (h *harness) tryJoin(key string, p Participant, opts clientOptions) (*testClient, int, error) {
	t := h.t
	if opts.origin == "" {
		opts.origin = testOrigin
	}
	ctx, stop := context.WithCancel(context.Background())
	conn, status, err := dialSignalling(ctx, h.signalURL(key, p), opts.origin)
	if err != nil {
		stop()
		return nil, status, err
	}
	conn.SetReadLimit(maxMessageBytes)
	tagger := &ridTagger{tags: map[uint32][2]string{}}
	extra := append([]interceptor.Factory{tagger}, opts.interceptors...)
	c := &testClient{tagger: tagger, onPacket: opts.onPacket, t: t, p: p, conn: conn, ctx: ctx, stop: stop, streams: map[string]*received{},
		wsClosed: make(chan struct{}), keyframeWant: make(chan struct{}, 16)}
	// One API, so one socket, per peer connection, as a browser has: the
	// SFU's UDP mux tells sessions apart by remote address.
	if c.pub, err = loopbackAPI(t, extra, opts.lossy).NewPeerConnection(webrtc.Configuration{}); err != nil {
		t.Fatal(err)
	}
	if c.sub, err = loopbackAPI(t, extra, opts.lossy).NewPeerConnection(webrtc.Configuration{}); err != nil {
		t.Fatal(err)
	}
	for name, pc := range map[string]*webrtc.PeerConnection{pcPub: c.pub, pcSub: c.sub} {
		name := name
		pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
			if cand != nil {
				init := cand.ToJSON()
				c.send(message{Type: msgCandidate, PC: name, Candidate: &init})
			}
		})
	}
	c.sub.OnTrack(c.onTrack)
	t.Cleanup(c.close)
	go c.readLoop()
	c.waitFor("welcome", 5*time.Second, func() bool { return c.welcome })
	return c, status, nil
}

func (c *testClient) send(msg message) {
	data, _ := json.Marshal(msg)
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	_ = c.conn.Write(ctx, websocket.MessageText, data)
}

func (c *testClient) readLoop() {
	defer close(c.wsClosed)
	for {
		_, data, err := c.conn.Read(c.ctx)
		if err != nil {
			c.mu.Lock()
			c.closeStatus = websocket.CloseStatus(err)
			c.mu.Unlock()
			return
		}
		var msg message
		if err := json.Unmarshal(data, &msg); err != nil {
			c.t.Errorf("%s: bad message %s", c.p.ID, data)
			continue
		}
		switch msg.Type {
		case msgWelcome:
			c.mu.Lock()
			c.welcome = true
			c.mu.Unlock()
		case msgParticipants:
			c.mu.Lock()
			c.participants = msg.Participants
			c.mu.Unlock()
		case msgOffer:
			if c.sub.ConnectionState() == webrtc.PeerConnectionStateClosed {
				continue
			}
			if err := c.sub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: msg.SDP}); err != nil {
				c.fail("set offer: %v", err)
				continue
			}
			answer, err := c.sub.CreateAnswer(nil)
			if err == nil {
				err = c.sub.SetLocalDescription(answer)
			}
			if err != nil {
				c.fail("answer: %v", err)
				continue
			}
			c.send(message{Type: msgAnswer, PC: pcSub, SDP: answer.SDP})
		case msgAnswer:
			if err := c.pub.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: msg.SDP}); err != nil {
				c.fail("set answer: %v", err)
			}
		case msgCandidate:
			pc := c.pub
			if msg.PC == pcSub {
				pc = c.sub
			}
			if msg.Candidate != nil {
				_ = pc.AddICECandidate(*msg.Candidate)
			}
		case msgMuted, msgRemoved, msgEnded, msgReplaced:
			c.mu.Lock()
			c.events = append(c.events, msg.Type)
			c.mu.Unlock()
		case msgError:
			c.mu.Lock()
			c.events = append(c.events, "error: "+msg.Message)
			c.mu.Unlock()
		}
	}
}

// The control messages the server sends before hanging up.
const (
	msgRemoved  = reasonRemoved
	msgEnded    = reasonEnded
	msgReplaced = reasonReplaced
)

// fail reports a signalling error, unless the server has already closed
// the client's connections (removal, end): then a message still in flight
// meets a closed peer connection, which is expected.
func (c *testClient) fail(format string, args ...any) {
	if c.sub.ConnectionState() == webrtc.PeerConnectionStateClosed || c.pub.ConnectionState() == webrtc.PeerConnectionStateClosed {
		c.t.Logf(c.p.ID+": "+format, args...)
		return
	}
	c.t.Errorf(c.p.ID+": "+format, args...)
}

func (c *testClient) onTrack(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	if c.onPacket != nil {
		for {
			pkt, _, err := track.ReadRTP()
			if err != nil {
				return
			}
			c.onPacket(pkt)
		}
	}
	key := track.StreamID() + "/" + track.Kind().String()
	c.mu.Lock()
	st := &received{kind: track.Kind().String(), seqs: map[uint16]int{}, markers: map[byte]int{}, ssrc: uint32(track.SSRC())}
	c.streams[key] = st
	c.mu.Unlock()
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		c.mu.Lock()
		st.packets++
		st.seqs[pkt.SequenceNumber]++
		st.last = time.Now()
		if st.kind == "video" && len(pkt.Payload) > 0 {
			m := pkt.Payload[len(pkt.Payload)-1]
			st.markers[m]++
			st.recent = append(st.recent, m)
			if len(st.recent) > 30 {
				st.recent = st.recent[1:]
			}
		}
		c.mu.Unlock()
	}
}

func (c *testClient) close() {
	_ = c.conn.Close(websocket.StatusNormalClosure, "")
	c.stop()
	_ = c.pub.Close()
	_ = c.sub.Close()
}

// waitFor polls cond (under the client's lock) until it holds.
func (c *testClient) waitFor(what string, timeout time.Duration, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c.mu.Lock()
		ok := cond()
		c.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: timed out waiting for %s", c.p.ID, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// packetsFrom counts what arrived from the participant with the given ID,
// per kind, using the participant list to map stream IDs to people.
func (c *testClient) packetsFrom(id string) (audio, video int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.packetsFromLocked(id)
}

func (c *testClient) packetsFromLocked(id string) (audio, video int) {
	for _, p := range c.participants {
		if p.ID != id {
			continue
		}
		for _, s := range p.Streams {
			if st := c.streams[s.StreamID+"/"+s.Kind]; st != nil {
				if s.Kind == "audio" {
					audio += st.packets
				} else {
					video += st.packets
				}
			}
		}
	}
	return audio, video
}

func (c *testClient) totalPackets() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, st := range c.streams {
		n += st.packets
	}
	return n
}

func (c *testClient) hasEvent(e string) bool {
	for _, x := range c.events {
		if x == e {
			return true
		}
	}
	return false
}

// publisher sends synthetic media: Opus-shaped 20 ms audio frames and
// VP8-shaped video frames (a key frame every second and whenever the SFU
// asks for one), optionally as three simulcast layers.
type publisher struct {
	c      *testClient
	audio  *webrtc.TrackLocalStaticSample
	videos []*webrtc.TrackLocalStaticSample // one per layer
	stop   context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	wantKF map[int]bool
}

type publishOptions struct {
	audio     bool
	video     bool
	simulcast bool
	source    string // video source declared to the SFU; camera when empty
}

func (c *testClient) publish(opts publishOptions) *publisher {
	c.t.Helper()
	pb := &publisher{c: c, done: make(chan struct{}), wantKF: map[int]bool{}}
	tracks := map[string]string{}
	streamID := "stream-" + c.p.ID
	if opts.audio {
		a, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio-"+c.p.ID, streamID)
		if err != nil {
			c.t.Fatal(err)
		}
		if _, err := c.pub.AddTransceiverFromTrack(a, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			c.t.Fatal(err)
		}
		pb.audio = a
		tracks[a.ID()] = sourceMic
	}
	if opts.video {
		vcap := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
		id := "video-" + c.p.ID
		var sender *webrtc.RTPSender
		if opts.simulcast {
			for i, rid := range []string{"q", "h", "f"} {
				v, err := webrtc.NewTrackLocalStaticSample(vcap, id, streamID, webrtc.WithRTPStreamID(rid))
				if err != nil {
					c.t.Fatal(err)
				}
				if i == 0 {
					tr, err := c.pub.AddTransceiverFromTrack(v, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
					if err != nil {
						c.t.Fatal(err)
					}
					sender = tr.Sender()
				} else if err := sender.AddEncoding(v); err != nil {
					c.t.Fatal(err)
				}
				pb.videos = append(pb.videos, v)
			}
		} else {
			v, err := webrtc.NewTrackLocalStaticSample(vcap, id, streamID)
			if err != nil {
				c.t.Fatal(err)
			}
			tr, err := c.pub.AddTransceiverFromTrack(v, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
			if err != nil {
				c.t.Fatal(err)
			}
			sender = tr.Sender()
			pb.videos = append(pb.videos, v)
		}
		source := opts.source
		if source == "" {
			source = sourceCamera
		}
		tracks[id] = source
		go pb.readRTCP(sender)
	}
	offer, err := c.pub.CreateOffer(nil)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.pub.SetLocalDescription(offer); err != nil {
		c.t.Fatal(err)
	}
	for _, tr := range c.pub.GetTransceivers() {
		for _, enc := range tr.Sender().GetParameters().Encodings {
			c.tagger.tag(uint32(enc.SSRC), tr.Mid(), enc.RID)
		}
	}
	c.send(message{Type: msgOffer, PC: pcPub, SDP: offer.SDP, Tracks: tracks})
	ctx, stop := context.WithCancel(c.ctx)
	pb.stop = stop
	go pb.run(ctx)
	c.t.Cleanup(pb.close)
	return pb
}

// readRTCP marks the layers the SFU asked key frames for.
func (pb *publisher) readRTCP(sender *webrtc.RTPSender) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			if pli, ok := p.(*rtcp.PictureLossIndication); ok {
				pb.mu.Lock()
				for i := range pb.videos {
					// Without knowing each layer's SSRC here, renew them all.
					pb.wantKF[i] = true
				}
				pb.mu.Unlock()
				_ = pli
				select {
				case pb.c.keyframeWant <- struct{}{}:
				default:
				}
			}
		}
	}
}

// layerMarkers fill video payloads so receivers can tell which simulcast
// layer they get.
var layerMarkers = []byte{'q', 'h', 'f'}

func (pb *publisher) run(ctx context.Context) {
	defer close(pb.done)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	audioFrame := make([]byte, 80)
	audioFrame[0] = 0x78 // an Opus TOC byte (SILK wideband, 20 ms)
	frame := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if pb.audio != nil {
			_ = pb.audio.WriteSample(media.Sample{Data: audioFrame, Duration: 20 * time.Millisecond})
		}
		frame++
		if frame%2 == 1 { // 25 frames per second
			continue
		}
		for i, v := range pb.videos {
			pb.mu.Lock()
			key := pb.wantKF[i] || frame%50 == 0
			pb.wantKF[i] = false
			pb.mu.Unlock()
			size := 300 << i // 300, 600, 1200 bytes
			data := make([]byte, size)
			for j := range data {
				data[j] = layerMarkers[i]
			}
			// VP8 frame tag (RFC 6386 §9.1): bit 0 clear on a key frame,
			// followed on key frames by the start code 9d 01 2a.
			data[0], data[1], data[2] = 0x01, 0x00, 0x00
			if key {
				data[0] = 0x00
				data[3], data[4], data[5] = 0x9d, 0x01, 0x2a
			}
			_ = v.WriteSample(media.Sample{Data: data, Duration: 40 * time.Millisecond})
		}
	}
}

func (pb *publisher) close() {
	pb.stop()
	<-pb.done
}

// dropper is an interceptor that loses, once, every nth RTP packet received
// on video streams, as a lossy network would, before pion's NACK generator
// sees them.
type dropper struct {
	interceptor.NoOp
	every   int
	mu      sync.Mutex
	count   int
	dropped map[uint16]bool
}

func (d *dropper) NewInterceptor(string) (interceptor.Interceptor, error) { return d, nil }

func (d *dropper) BindRemoteStream(info *interceptor.StreamInfo, reader interceptor.RTPReader) interceptor.RTPReader {
	if !strings.HasPrefix(info.MimeType, "video/") {
		return reader
	}
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		for {
			n, attr, err := reader.Read(b, a)
			if err != nil || n < 4 {
				return n, attr, err
			}
			seq := uint16(b[2])<<8 | uint16(b[3])
			d.mu.Lock()
			d.count++
			drop := d.count > 50 && d.count%d.every == 0 && !d.dropped[seq]
			if drop {
				d.dropped[seq] = true
			}
			d.mu.Unlock()
			if !drop {
				return n, attr, err
			}
		}
	})
}

func (d *dropper) droppedSeqs() []uint16 {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]uint16, 0, len(d.dropped))
	for s := range d.dropped {
		out = append(out, s)
	}
	return out
}

func (c *testClient) String() string { return fmt.Sprintf("client %s", c.p.ID) }

func participantsGauge(t testing.TB, h *harness) prometheus.Collector {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "portal_media_participants" {
			g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "copy"})
			g.Set(mf.GetMetric()[0].GetGauge().GetValue())
			return g
		}
	}
	t.Fatal("no portal_media_participants metric")
	return nil
}

// ridTagger stamps the mid and rid header extensions on every packet sent,
// as Chrome does on its simulcast layers: pion's sender does not, and the
// SFU needs them to tell the layers apart (RFC 8852).
type ridTagger struct {
	interceptor.NoOp
	mu   sync.Mutex
	tags map[uint32][2]string // SSRC → mid, rid
}

func (r *ridTagger) NewInterceptor(string) (interceptor.Interceptor, error) { return r, nil }

func (r *ridTagger) tag(ssrc uint32, mid, rid string) {
	r.mu.Lock()
	r.tags[ssrc] = [2]string{mid, rid}
	r.mu.Unlock()
}

func (r *ridTagger) BindLocalStream(info *interceptor.StreamInfo, writer interceptor.RTPWriter) interceptor.RTPWriter {
	var midID, ridID uint8
	for _, e := range info.RTPHeaderExtensions {
		switch e.URI {
		case sdp.SDESMidURI:
			midID = uint8(e.ID)
		case sdp.SDESRTPStreamIDURI:
			ridID = uint8(e.ID)
		}
	}
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		r.mu.Lock()
		tag, ok := r.tags[h.SSRC]
		r.mu.Unlock()
		if ok && midID != 0 && tag[1] != "" {
			_ = h.SetExtension(midID, []byte(tag[0]))
			if ridID != 0 {
				_ = h.SetExtension(ridID, []byte(tag[1]))
			}
		}
		return writer.Write(h, payload, a)
	})
}
