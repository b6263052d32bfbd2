package media

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// publication is one source (microphone, camera, screen) of one member, fed
// by one upstream layer per simulcast encoding and read by one downTrack per
// receiver.
type publication struct {
	room     *room
	owner    string
	source   string
	kind     webrtc.RTPCodecType
	streamID string
	codec    webrtc.RTPCodecCapability

	mu     sync.Mutex
	layers []*layer
	closed bool

	downs  atomic.Pointer[[]*downTrack] // copy on write under mu; read per packet without a lock
	paused atomic.Bool
}

// attach adds an upstream layer, replacing one of the same quality (left
// from the publisher's previous connection).
func (p *publication) attach(l *layer) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	for i, old := range p.layers {
		if old.quality == l.quality {
			p.layers[i] = l
			return true
		}
	}
	p.layers = append(p.layers, l)
	return true
}

func (p *publication) detach(l *layer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, old := range p.layers {
		if old == l {
			p.layers = append(p.layers[:i], p.layers[i+1:]...)
			return
		}
	}
}

func (p *publication) layer(quality int) *layer {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.layers {
		if l.quality == quality {
			return l
		}
	}
	return nil
}

// activeLayers are the layers that carried a packet in the last 1.5 s:
// Chrome stops sending its upper layers when its own uplink is short.
func (p *publication) activeLayers(now time.Time) []layerRate {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []layerRate
	for _, l := range p.layers {
		if last := l.lastPacket.Load(); last != 0 && now.Sub(time.Unix(0, last)) < 1500*time.Millisecond {
			out = append(out, layerRate{quality: l.quality, bitrate: int(l.bitrate.Load())})
		}
	}
	return out
}

func (p *publication) addDown(d *downTrack) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var next []*downTrack
	if cur := p.downs.Load(); cur != nil {
		next = append(next, *cur...)
	}
	next = append(next, d)
	p.downs.Store(&next)
}

func (p *publication) removeDown(d *downTrack) {
	p.mu.Lock()
	defer p.mu.Unlock()
	cur := p.downs.Load()
	if cur == nil {
		return
	}
	next := make([]*downTrack, 0, len(*cur))
	for _, x := range *cur {
		if x != d {
			next = append(next, x)
		}
	}
	p.downs.Store(&next)
}

func (p *publication) close() {
	p.mu.Lock()
	p.closed = true
	p.layers = nil
	p.mu.Unlock()
}

// setPaused stops or resumes forwarding. On resumption each receiver
// continues its stream without a gap (audio) or waits for a key frame
// (video), since it has missed the frames the next ones refer to.
func (p *publication) setPaused(paused bool) {
	if p.paused.Swap(paused) == paused || paused {
		return
	}
	now := time.Now()
	if downs := p.downs.Load(); downs != nil {
		for _, d := range *downs {
			d.resume(now)
		}
	}
}

// layer is one upstream RTP stream: a whole track, or one simulcast encoding
// of it.
type layer struct {
	pub      *publication
	rid      string
	quality  int
	track    *webrtc.TrackRemote
	receiver *webrtc.RTPReceiver
	pc       *webrtc.PeerConnection
	ssrc     uint32
	metrics  *metrics

	lastPacket  atomic.Int64 // unix nanoseconds
	lastPLI     atomic.Int64
	bitrate     atomic.Int64 // bits per second over the last window
	windowStart time.Time    // read loop only
	windowBytes int          // read loop only
}

// minKeyframeInterval bounds picture loss indications to one publisher
// layer: each one costs the publisher a large key frame, and several
// receivers joining or switching at once need only one.
const minKeyframeInterval = 300 * time.Millisecond

func (l *layer) requestKeyframe(now time.Time) {
	last := l.lastPLI.Load()
	if now.UnixNano()-last < int64(minKeyframeInterval) || !l.lastPLI.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	if err := l.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: l.ssrc}}); err == nil {
		l.metrics.keyframeRequests.Inc()
	}
}

// read forwards every packet of the layer until its track ends.
func (l *layer) read() {
	defer l.pub.detach(l)
	buf := make([]byte, 1500)
	var pkt rtp.Packet
	mime := l.pub.codec.MimeType
	video := l.pub.kind == webrtc.RTPCodecTypeVideo
	for {
		n, _, err := l.track.Read(buf)
		if err != nil {
			return
		}
		if err := pkt.Unmarshal(buf[:n]); err != nil {
			continue
		}
		now := time.Now()
		l.account(n, now)
		if l.pub.paused.Load() {
			continue
		}
		key := video && isKeyframe(mime, pkt.Payload)
		if downs := l.pub.downs.Load(); downs != nil {
			for _, d := range *downs {
				d.forward(l, &pkt, key, now)
			}
		}
	}
}

func (l *layer) account(n int, now time.Time) {
	l.lastPacket.Store(now.UnixNano())
	if l.windowStart.IsZero() {
		l.windowStart = now
	}
	l.windowBytes += n
	if elapsed := now.Sub(l.windowStart); elapsed >= time.Second {
		l.bitrate.Store(int64(float64(l.windowBytes*8) / elapsed.Seconds()))
		l.windowStart, l.windowBytes = now, 0
	}
}

// drainRTCP reads the publisher's RTCP for this layer, which is what makes
// pion's interceptors (reports, NACK) see it.
func (l *layer) drainRTCP() {
	for {
		var err error
		if l.rid == "" {
			_, _, err = l.receiver.ReadRTCP()
		} else {
			_, _, err = l.receiver.ReadSimulcastRTCP(l.rid)
		}
		if err != nil {
			return
		}
	}
}

// downTrack is one publication as one receiver gets it: a single RTP stream
// whose source layer the SFU switches on key frames.
type downTrack struct {
	pub     *publication
	sess    *session
	track   *webrtc.TrackLocalStaticRTP
	sender  *webrtc.RTPSender
	ssrc    uint32
	kind    webrtc.RTPCodecType
	metrics *metrics
	packets prometheus.Counter
	bytes   prometheus.Counter

	// bound is set once pion has bound the track to the receiver's
	// connection: packets written before that are lost, and the first key
	// frame must not be among them.
	bound atomic.Bool

	mu       sync.Mutex
	current  *layer // the layer being forwarded; nil until the first (key) packet
	target   int    // the quality wanted; -1 until the first allocation
	rw       rewriter
	closed   bool
	lastLost uint32
}

func newDownTrack(pub *publication, sess *session, track *webrtc.TrackLocalStaticRTP, sender *webrtc.RTPSender) *downTrack {
	m := sess.sfu.metrics
	d := &downTrack{pub: pub, sess: sess, track: track, sender: sender, kind: pub.kind, metrics: m, target: -1,
		packets: m.packetsForwarded.WithLabelValues(pub.kind.String()), bytes: m.bytesForwarded.WithLabelValues(pub.kind.String())}
	d.rw.clockRate = pub.codec.ClockRate
	if enc := sender.GetParameters().Encodings; len(enc) > 0 {
		d.ssrc = uint32(enc[0].SSRC)
	}
	return d
}

// forward sends one packet of layer l to the receiver if l is the layer it
// gets, or switches to l when l is the layer it wants and the packet starts
// a key frame.
func (d *downTrack) forward(l *layer, in *rtp.Packet, key bool, now time.Time) {
	if !d.bound.Load() {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return
	}
	if l != d.current {
		switch {
		case d.kind == webrtc.RTPCodecTypeAudio:
			// Audio has no layers: a new upstream is the publisher's new
			// connection, and any packet can start it.
		case !key || d.target < 0 || l.quality != d.target:
			// Video waits for a layer chosen from the receiver's estimate;
			// starting on whichever key frame comes first could flood a
			// weak receiver with the full layer.
			return
		case d.current != nil:
			d.metrics.layerSwitches.Inc()
		}
		d.current = l
		d.rw.newSegment()
	}
	if len(in.Payload) == 0 {
		// Padding only (bandwidth probing by the publisher): not worth a
		// receiver's bandwidth.
		d.rw.skip(in.SequenceNumber)
		return
	}
	h := in.Header
	// The publisher's header extensions carry its own negotiated IDs (mid,
	// rid, audio level...), meaningless to the receiver's connection; pion
	// adds the receiver's transport-wide sequence number itself.
	h.Extension, h.Extensions, h.ExtensionProfile = false, nil, 0
	h.Padding, h.PaddingSize = false, 0
	if !d.rw.rewrite(&h, now) {
		return
	}
	err := d.track.WriteRTP(&rtp.Packet{Header: h, Payload: in.Payload})
	if err != nil && !errors.Is(err, io.ErrClosedPipe) {
		return
	}
	d.packets.Inc()
	d.bytes.Add(float64(len(in.Payload)))
}

// setTarget chooses the quality the receiver should get and asks the
// publisher for a key frame of it when the receiver does not get it yet.
func (d *downTrack) setTarget(quality int, now time.Time) {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	if quality >= 0 {
		d.target = quality
	}
	want := d.target
	waiting := d.current == nil || (want >= 0 && d.current.quality != want)
	d.mu.Unlock()
	if !waiting || d.kind != webrtc.RTPCodecTypeVideo {
		return
	}
	if l := d.pub.layer(want); l != nil {
		l.requestKeyframe(now)
	} else if want < 0 {
		for q := qualityHigh; q >= qualityLow; q-- {
			if l := d.pub.layer(q); l != nil {
				l.requestKeyframe(now)
				return
			}
		}
	}
}

func (d *downTrack) currentQuality() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.current == nil {
		return -1
	}
	return d.current.quality
}

// resume restarts forwarding after a pause.
func (d *downTrack) resume(now time.Time) {
	d.mu.Lock()
	if d.kind == webrtc.RTPCodecTypeAudio {
		d.rw.newSegment()
		d.mu.Unlock()
		return
	}
	d.current = nil
	d.mu.Unlock()
	d.setTarget(-1, now)
}

func (d *downTrack) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
}

// readRTCP handles the receiver's RTCP for this track: picture loss goes to
// the publisher of the layer it gets, receiver reports feed the loss metric.
// NACKs are answered by pion's responder before they get here.
func (d *downTrack) readRTCP() {
	for {
		pkts, _, err := d.sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				d.mu.Lock()
				l := d.current
				d.mu.Unlock()
				if l != nil {
					l.requestKeyframe(time.Now())
				}
			case *rtcp.ReceiverReport:
				d.countLoss(p.Reports)
			}
		}
	}
}

func (d *downTrack) countLoss(reports []rtcp.ReceptionReport) {
	for _, r := range reports {
		if r.SSRC != d.ssrc {
			continue
		}
		d.mu.Lock()
		delta := int64(r.TotalLost) - int64(d.lastLost)
		d.lastLost = r.TotalLost
		d.mu.Unlock()
		if delta > 0 {
			d.metrics.packetsLost.Add(float64(delta))
		}
	}
}

// boundTrack tells its downTrack when pion binds it (after the receiver's
// answer, once the transport is up), the moment to ask for a key frame.
type boundTrack struct {
	*webrtc.TrackLocalStaticRTP
	onBind func()
}

func (t *boundTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	params, err := t.TrackLocalStaticRTP.Bind(ctx)
	if err == nil && t.onBind != nil {
		t.onBind()
	}
	return params, err
}
