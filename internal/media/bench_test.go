package media

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// The load: 4-person meetings in which everyone sends 1.5 Mbit/s of video
// (VP8-shaped packets, one 20 ms frame of 3750 bytes at a time) and
// 40 kbit/s of audio (one 100-byte Opus-shaped packet per 20 ms), and
// receives the three others.
const (
	loadPeople       = 4
	loadTick         = 20 * time.Millisecond
	loadVideoFrame   = 3750 // bytes per tick: 1.5 Mbit/s
	loadVideoPacket  = 1200
	loadAudioPayload = 100 // bytes per tick: 40 kbit/s
	loadHeader       = 8   // the payload bytes left for codec headers before the load's own fields
)

// BenchmarkForwardMeetings runs N 4-person meetings through one SFU on
// loopback and reports loss, end-to-end latency and the SFU's CPU. The
// senders and receivers run in a child process (this test binary again, as
// TestMediaLoadGenerator), so the CPU measured here is the SFU's alone;
// both share the machine's cores.
//
//	go test -run '^$' -bench ForwardMeetings -benchtime 1x ./internal/media/
//	MEDIA_BENCH_MEETINGS=4,8,12 MEDIA_BENCH_SECONDS=10 go test ...
func BenchmarkForwardMeetings(b *testing.B) {
	counts := []int{2, 4, 6, 9, 13}
	if env := os.Getenv("MEDIA_BENCH_MEETINGS"); env != "" {
		counts = nil
		for _, f := range strings.Split(env, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				b.Fatalf("MEDIA_BENCH_MEETINGS: %q", env)
			}
			counts = append(counts, n)
		}
	}
	seconds := 8
	if env := os.Getenv("MEDIA_BENCH_SECONDS"); env != "" {
		seconds, _ = strconv.Atoi(env)
	}
	for _, n := range counts {
		b.Run(fmt.Sprintf("meetings=%d", n), func(b *testing.B) {
			res := runLoad(b, n, time.Duration(seconds)*time.Second)
			streams := float64(n * loadPeople * (loadPeople - 1) * 2)
			b.ReportMetric(float64(n*loadPeople), "participants")
			b.ReportMetric(res.LossPercent, "loss_%")
			b.ReportMetric(res.P50Millis, "p50_ms")
			b.ReportMetric(res.P99Millis, "p99_ms")
			b.ReportMetric(res.sfuCores, "sfu_cores")
			b.ReportMetric(streams/res.sfuCores, "streams/cpu_s")
			b.ReportMetric(res.forwardedPPS, "forwarded_pkt/s")
			b.ReportMetric(res.otherCores, "other_cores")
			b.Logf("%d meetings (%d participants): loss %.3f%%, latency p50 %.2f ms p99 %.2f ms, SFU %.2f cores, %.0f forwarded streams per SFU CPU-second, %.0f µs of SFU CPU per forwarded packet, generator %.2f cores, other processes %.2f cores",
				n, n*loadPeople, res.LossPercent, res.P50Millis, res.P99Millis, res.sfuCores, streams/res.sfuCores,
				1e6*res.sfuCores/res.forwardedPPS, res.GeneratorCores, res.otherCores)
		})
	}
}

// loadResult is what the generator reports, plus the SFU's side.
type loadResult struct {
	LossPercent    float64
	P50Millis      float64
	P99Millis      float64
	Received       int64
	Expected       int64
	GeneratorCores float64
	sfuCores       float64
	forwardedPPS   float64
	otherCores     float64 // CPU used by other processes on the machine meanwhile
}

func runLoad(b *testing.B, meetings int, measure time.Duration) loadResult {
	s, err := New(Config{ListenIP: "127.0.0.1", TCPPort: -1}, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for m := range meetings {
		for p := range loadPeople {
			s.Allow(loadMeeting(m), loadParticipant(m, p).ID)
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		s.ServeSignalling(w, r, q.Get("key"), Participant{ID: q.Get("id"), Name: q.Get("name"), Role: Role(q.Get("role"))}, testOrigin)
	}))
	defer srv.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestMediaLoadGenerator$", "-test.v")
	cmd.Env = append(os.Environ(), "MEDIA_LOAD_URL="+srv.URL, "MEDIA_LOAD_MEETINGS="+strconv.Itoa(meetings),
		"MEDIA_LOAD_MEASURE="+measure.String())
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	var (
		res                  loadResult
		cpuStart, cpuStop    time.Duration
		busyStart, busyStop  float64
		wallStart, wallStop  time.Time
		fwdStart, fwdStop    float64
		gotResult, gotWindow bool
	)
	forwarded := func() float64 {
		return testutil.ToFloat64(s.metrics.packetsForwarded.WithLabelValues("audio")) + testutil.ToFloat64(s.metrics.packetsForwarded.WithLabelValues("video"))
	}
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		line := lines.Text()
		switch {
		case line == "MEDIA_LOAD_START":
			cpuStart, wallStart, fwdStart, busyStart = processCPU(), time.Now(), forwarded(), machineBusy()
		case line == "MEDIA_LOAD_STOP":
			cpuStop, wallStop, fwdStop, busyStop = processCPU(), time.Now(), forwarded(), machineBusy()
			gotWindow = true
		case strings.HasPrefix(line, "MEDIA_LOAD_RESULT "):
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "MEDIA_LOAD_RESULT ")), &res); err != nil {
				b.Fatal(err)
			}
			gotResult = true
		}
	}
	if err := cmd.Wait(); err != nil || !gotResult || !gotWindow {
		b.Fatalf("load generator: %v (result %v, window %v)", err, gotResult, gotWindow)
	}
	wall := wallStop.Sub(wallStart).Seconds()
	res.sfuCores = (cpuStop - cpuStart).Seconds() / wall
	res.forwardedPPS = (fwdStop - fwdStart) / wall
	res.otherCores = max((busyStop-busyStart)/wall-res.sfuCores-res.GeneratorCores, 0)
	return res
}

// machineBusy is the CPU time, in seconds, every process on the machine
// has used (/proc/stat: all but idle and iowait), to tell how much of the
// machine the benchmark really had: the development machines are shared.
func machineBusy() float64 {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)
	var busy float64
	for i, f := range fields[1:] {
		v, _ := strconv.ParseFloat(f, 64)
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return busy / 100 // USER_HZ
}

// processCPU is the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func loadMeeting(m int) string { return fmt.Sprintf("site:1/meeting:%d", m) }

func loadParticipant(m, p int) Participant {
	return Participant{ID: fmt.Sprintf("m%d-p%d", m, p), Name: fmt.Sprintf("Person %d", p), Role: RoleParticipant}
}

// TestMediaLoadGenerator is the benchmark's child process: the meetings'
// senders and receivers. It does nothing unless BenchmarkForwardMeetings
// started it.
func TestMediaLoadGenerator(t *testing.T) {
	base := os.Getenv("MEDIA_LOAD_URL")
	if base == "" {
		t.Skip("started by BenchmarkForwardMeetings")
	}
	meetings, _ := strconv.Atoi(os.Getenv("MEDIA_LOAD_MEETINGS"))
	measure, _ := time.ParseDuration(os.Getenv("MEDIA_LOAD_MEASURE"))
	h := &harness{t: t, baseURL: base}
	st := &loadStats{}
	var senders []*loadSender
	receivers := make([]*loadReceiver, 0, meetings*loadPeople)
	for m := range meetings {
		for p := range loadPeople {
			rcv := &loadReceiver{tracks: map[uint32]*bitset{}, stats: st}
			for other := range loadPeople {
				if other != p {
					rcv.expect = append(rcv.expect, loadTrackID(m, other, 0), loadTrackID(m, other, 1))
				}
			}
			receivers = append(receivers, rcv)
			c := h.join(loadMeeting(m), loadParticipant(m, p), clientOptions{onPacket: rcv.receive})
			senders = append(senders, newLoadSender(t, c, loadTrackID(m, p, 0), loadTrackID(m, p, 1)))
		}
	}
	// Warm up: every connection up, every receiver past its first key frame.
	time.Sleep(4 * time.Second)

	for _, s := range senders {
		s.mark(&s.startMarks)
	}
	cpuStart, wallStart := processCPU(), time.Now()
	st.measuring.Store(true)
	fmt.Println("MEDIA_LOAD_START")
	time.Sleep(measure)
	for _, s := range senders {
		s.mark(&s.stopMarks)
	}
	st.measuring.Store(false)
	fmt.Println("MEDIA_LOAD_STOP")
	cpu, wall := processCPU()-cpuStart, time.Since(wallStart)
	time.Sleep(time.Second) // packets in flight, retransmissions

	marks := map[uint32][2]uint32{}
	for _, s := range senders {
		for k, id := range s.ids {
			marks[id] = [2]uint32{s.startMarks[k], s.stopMarks[k]}
		}
	}
	var res loadResult
	for _, r := range receivers {
		r.mu.Lock()
		for _, id := range r.expect {
			m := marks[id]
			res.Expected += int64(m[1] - m[0])
			if bs := r.tracks[id]; bs != nil {
				res.Received += int64(bs.countRange(m[0], m[1]))
			}
		}
		r.mu.Unlock()
	}
	for _, s := range senders {
		s.stop()
	}
	if res.Expected > 0 {
		res.LossPercent = 100 * float64(res.Expected-res.Received) / float64(res.Expected)
	}
	res.P50Millis, res.P99Millis = st.percentile(0.50), st.percentile(0.99)
	res.GeneratorCores = cpu.Seconds() / wall.Seconds()
	out, _ := json.Marshal(res)
	fmt.Println("MEDIA_LOAD_RESULT " + string(out))
}

// loadTrackID numbers each sender's track (kind 0 audio, 1 video).
func loadTrackID(m, p, kind int) uint32 { return uint32((m*loadPeople+p)*2 + kind) }

// loadStats is the latency histogram of packets sent during the window, in
// 0.1 ms buckets up to 500 ms.
type loadStats struct {
	measuring atomic.Bool
	buckets   [5001]atomic.Int64
}

func (s *loadStats) record(latency time.Duration) {
	i := int(latency / (100 * time.Microsecond))
	if i < 0 {
		i = 0
	}
	if i >= len(s.buckets) {
		i = len(s.buckets) - 1
	}
	s.buckets[i].Add(1)
}

func (s *loadStats) percentile(q float64) float64 {
	var total int64
	for i := range s.buckets {
		total += s.buckets[i].Load()
	}
	target, seen := int64(q*float64(total)), int64(0)
	for i := range s.buckets {
		seen += s.buckets[i].Load()
		if seen > target {
			return float64(i) / 10
		}
	}
	return 0
}

// loadReceiver records, per sender track, which packets arrived.
type loadReceiver struct {
	stats  *loadStats
	expect []uint32
	mu     sync.Mutex
	tracks map[uint32]*bitset
}

func (r *loadReceiver) receive(pkt *rtp.Packet) {
	if len(pkt.Payload) < loadHeader+16 {
		return
	}
	f := pkt.Payload[loadHeader:]
	sent := int64(binary.BigEndian.Uint64(f))
	track := binary.BigEndian.Uint32(f[8:])
	counter := binary.BigEndian.Uint32(f[12:])
	if r.stats.measuring.Load() {
		r.stats.record(time.Duration(time.Now().UnixNano() - sent))
	}
	r.mu.Lock()
	bs := r.tracks[track]
	if bs == nil {
		bs = &bitset{}
		r.tracks[track] = bs
	}
	bs.set(counter)
	r.mu.Unlock()
}

type bitset struct{ words []uint64 }

func (b *bitset) set(i uint32) {
	for int(i/64) >= len(b.words) {
		b.words = append(b.words, 0)
	}
	b.words[i/64] |= 1 << (i % 64)
}

func (b *bitset) countRange(from, to uint32) int {
	n := 0
	for i := from; i < to; i++ {
		if int(i/64) < len(b.words) && b.words[i/64]&(1<<(i%64)) != 0 {
			n++
		}
	}
	return n
}

// loadSender sends one participant's audio and video as prebuilt RTP
// packets (no encoder: the SFU never looks past the VP8 payload header).
type loadSender struct {
	ids        [2]uint32 // audio, video track IDs
	audio      *webrtc.TrackLocalStaticRTP
	video      *webrtc.TrackLocalStaticRTP
	counters   [2]atomic.Uint32 // packets sent per track: every packet has its number
	startMarks [2]uint32
	stopMarks  [2]uint32
	keyframe   atomic.Bool
	done       chan struct{}
	quit       chan struct{}
}

// mark records how many packets each track has sent so far.
func (s *loadSender) mark(into *[2]uint32) {
	for k := range s.counters {
		into[k] = s.counters[k].Load()
	}
}

func newLoadSender(t *testing.T, c *testClient, audioID, videoID uint32) *loadSender {
	s := &loadSender{ids: [2]uint32{audioID, videoID}, done: make(chan struct{}), quit: make(chan struct{})}
	var err error
	s.audio, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "load-"+c.p.ID)
	if err != nil {
		t.Fatal(err)
	}
	s.video, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", "load-"+c.p.ID)
	if err != nil {
		t.Fatal(err)
	}
	tracks := map[string]string{}
	for _, tr := range []*webrtc.TrackLocalStaticRTP{s.audio, s.video} {
		x, err := c.pub.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			t.Fatal(err)
		}
		if tr == s.video {
			go s.readRTCP(x.Sender())
		} else {
			go func() {
				for {
					if _, _, err := x.Sender().ReadRTCP(); err != nil {
						return
					}
				}
			}()
		}
	}
	tracks["audio"] = sourceMic
	tracks["video"] = sourceCamera
	offer, err := c.pub.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.pub.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	c.send(message{Type: msgOffer, PC: pcPub, SDP: offer.SDP, Tracks: tracks})
	s.keyframe.Store(true)
	go s.run()
	return s
}

func (s *loadSender) readRTCP(sender *webrtc.RTPSender) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			if _, ok := p.(*rtcp.PictureLossIndication); ok {
				s.keyframe.Store(true)
			}
		}
	}
}

func (s *loadSender) run() {
	defer close(s.done)
	tick := time.NewTicker(loadTick)
	defer tick.Stop()
	var audioSeq, videoSeq uint16
	var audioTS, videoTS uint32
	frame := 0
	payload := make([]byte, loadVideoPacket)
	for {
		select {
		case <-s.quit:
			return
		case <-tick.C:
		}
		stamp := func(p []byte, kind int) {
			binary.BigEndian.PutUint64(p[loadHeader:], uint64(time.Now().UnixNano()))
			binary.BigEndian.PutUint32(p[loadHeader+8:], s.ids[kind])
			binary.BigEndian.PutUint32(p[loadHeader+12:], s.counters[kind].Add(1)-1)
		}
		audio := payload[:loadAudioPayload]
		audio[0] = 0x78
		stamp(audio, 0)
		audioSeq++
		audioTS += 960
		_ = s.audio.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: audioSeq, Timestamp: audioTS, Marker: true}, Payload: audio})

		// One video frame per tick, in packets of at most 1200 bytes.
		frame++
		key := s.keyframe.Swap(false) || frame%50 == 0
		videoTS += 1800
		for off := 0; off < loadVideoFrame; off += loadVideoPacket {
			size := min(loadVideoPacket, loadVideoFrame-off)
			p := payload[:max(size, loadHeader+16)]
			clear(p[:loadHeader])
			if off == 0 {
				p[0] = 0x10 // VP8 payload descriptor: start of partition 0
				p[1] = 0x01 // inter frame
				if key {
					p[1], p[4], p[5], p[6] = 0x00, 0x9d, 0x01, 0x2a
				}
			}
			stamp(p, 1)
			videoSeq++
			_ = s.video.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: videoSeq, Timestamp: videoTS,
				Marker: off+loadVideoPacket >= loadVideoFrame}, Payload: p})
		}
	}
}

func (s *loadSender) stop() {
	close(s.quit)
	<-s.done
}
