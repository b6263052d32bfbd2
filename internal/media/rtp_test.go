package media

import (
	"testing"
	"time"

	"github.com/pion/rtp"
)

func TestRewriterKeepsOutputContinuousAcrossSources(t *testing.T) {
	t0 := time.Unix(1000, 0)
	type pkt struct {
		seq     uint16
		ts      uint32
		at      time.Duration
		resync  bool // a new source starts with this packet
		skip    bool // dropped in order (padding)
		wantOK  bool
		wantSeq uint16
		wantTS  uint32
	}
	tests := []struct {
		name      string
		clockRate uint32
		packets   []pkt
	}{
		{"first source keeps its numbering", 90000, []pkt{
			{seq: 100, ts: 5000, wantOK: true, wantSeq: 100, wantTS: 5000},
			{seq: 101, ts: 5000, wantOK: true, wantSeq: 101, wantTS: 5000},
			{seq: 102, ts: 8000, at: 33 * time.Millisecond, wantOK: true, wantSeq: 102, wantTS: 8000},
		}},
		{"switch continues one after the last and advances by elapsed time", 90000, []pkt{
			{seq: 100, ts: 5000, wantOK: true, wantSeq: 100, wantTS: 5000},
			{seq: 40000, ts: 123456, at: 10 * time.Millisecond, resync: true, wantOK: true, wantSeq: 101, wantTS: 5900},
			{seq: 40001, ts: 126456, at: 43 * time.Millisecond, wantOK: true, wantSeq: 102, wantTS: 8900},
		}},
		{"sequence numbers wrap", 48000, []pkt{
			{seq: 65535, ts: 10, wantOK: true, wantSeq: 65535, wantTS: 10},
			{seq: 0, ts: 970, wantOK: true, wantSeq: 0, wantTS: 970},
		}},
		{"late packet of the current segment is forwarded", 90000, []pkt{
			{seq: 10, ts: 0, wantOK: true, wantSeq: 10},
			{seq: 12, ts: 0, wantOK: true, wantSeq: 12},
			{seq: 11, ts: 0, wantOK: true, wantSeq: 11},
		}},
		{"late packet of the previous source is dropped", 90000, []pkt{
			{seq: 10, ts: 0, wantOK: true, wantSeq: 10},
			{seq: 500, ts: 0, resync: true, at: time.Millisecond, wantOK: true, wantSeq: 11, wantTS: 90},
			{seq: 499, ts: 0, wantOK: false},
		}},
		{"skipped in-order packet leaves no hole", 90000, []pkt{
			{seq: 10, ts: 0, wantOK: true, wantSeq: 10},
			{seq: 11, skip: true},
			{seq: 12, ts: 0, wantOK: true, wantSeq: 11},
		}},
		{"same instant switch still advances the timestamp", 90000, []pkt{
			{seq: 1, ts: 1000, wantOK: true, wantSeq: 1, wantTS: 1000},
			{seq: 900, ts: 1, resync: true, wantOK: true, wantSeq: 2, wantTS: 1001},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rewriter{clockRate: tt.clockRate}
			for i, p := range tt.packets {
				if p.resync {
					r.newSegment()
				}
				if p.skip {
					r.skip(p.seq)
					continue
				}
				h := rtp.Header{SequenceNumber: p.seq, Timestamp: p.ts}
				ok := r.rewrite(&h, t0.Add(p.at))
				if ok != p.wantOK {
					t.Fatalf("packet %d: forwarded %v, want %v", i, ok, p.wantOK)
				}
				if !ok {
					continue
				}
				if h.SequenceNumber != p.wantSeq || h.Timestamp != p.wantTS {
					t.Fatalf("packet %d: got seq %d ts %d, want seq %d ts %d", i, h.SequenceNumber, h.Timestamp, p.wantSeq, p.wantTS)
				}
			}
		})
	}
}

func TestIsKeyframe(t *testing.T) {
	tests := []struct {
		name    string
		mime    string
		payload []byte
		want    bool
	}{
		{"vp8 key frame", "video/VP8", []byte{0x10, 0x00, 0x9d, 0x01, 0x2a}, true},
		{"vp8 inter frame", "video/VP8", []byte{0x10, 0x01, 0x00}, false},
		{"vp8 continuation of a key frame", "video/VP8", []byte{0x00, 0x00, 0x9d}, false},
		{"vp8 key frame with picture id", "video/VP8", []byte{0x90, 0x80, 0x81, 0x23, 0x00, 0x9d}, true},
		{"vp8 empty", "video/VP8", nil, false},
		{"h264 idr", "video/H264", []byte{0x65, 0x88}, true},
		{"h264 non-idr slice", "video/H264", []byte{0x41, 0x9a}, false},
		{"h264 stap-a with sps", "video/H264", []byte{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce}, true},
		{"h264 fu-a start of idr", "video/H264", []byte{0x7c, 0x85, 0x00}, true},
		{"h264 fu-a middle of idr", "video/H264", []byte{0x7c, 0x05, 0x00}, false},
		{"opus is never a key frame", "audio/opus", []byte{0x10, 0x00}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isKeyframe(tt.mime, tt.payload); got != tt.want {
				t.Fatalf("isKeyframe = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestChooseQuality(t *testing.T) {
	all := []layerRate{{qualityLow, 150_000}, {qualityMedium, 500_000}, {qualityHigh, 1_500_000}}
	tests := []struct {
		name    string
		layers  []layerRate
		budget  int
		current int
		want    int
	}{
		{"plenty of bandwidth gets full", all, 5_000_000, -1, qualityHigh},
		{"medium budget gets half", all, 800_000, -1, qualityMedium},
		{"low budget gets quarter", all, 200_000, -1, qualityLow},
		{"budget below every layer still gets the lowest", all, 10_000, -1, qualityLow},
		{"current layer kept within 10% over budget", all, 1_400_000, qualityHigh, qualityHigh},
		{"current layer dropped beyond 10% over budget", all, 1_300_000, qualityHigh, qualityMedium},
		{"unmeasured layers use nominal rates", []layerRate{{qualityLow, 0}, {qualityHigh, 0}}, 1_000_000, -1, qualityLow},
		{"only the layers being sent are chosen", []layerRate{{qualityLow, 150_000}, {qualityMedium, 500_000}}, 5_000_000, -1, qualityMedium},
		{"nothing sent", nil, 5_000_000, -1, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := chooseQuality(tt.layers, tt.budget, tt.current); got != tt.want {
				t.Fatalf("chooseQuality = %d, want %d", got, tt.want)
			}
		})
	}
}
