package media

import (
	"strings"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
)

// rewriter makes the packets a receiver gets from one forwarded track look
// like one continuous RTP stream, whichever upstream they come from: a
// simulcast layer switch, a publisher's reconnection or a pause all change
// the source's SSRC, sequence numbers or timestamps, and a receiver's jitter
// buffer treats a jump as loss or a new stream. The SSRC itself is set by
// the local track; the rewriter shifts sequence numbers and timestamps.
type rewriter struct {
	started   bool
	resync    bool // the next packet starts a new segment (new source or resumption)
	clockRate uint32

	seqOffset uint16 // out = in - seqOffset
	tsOffset  uint32 // out = in - tsOffset

	segmentStart uint16 // first input sequence number of the current segment
	lastInSeq    uint16 // highest input sequence number of the current segment
	lastOutSeq   uint16
	lastOutTS    uint32
	lastOutAt    time.Time
}

// newSegment makes the next packet continue the output stream where it
// stopped, whatever its own numbering.
func (r *rewriter) newSegment() { r.resync = true }

// rewrite shifts h into the output numbering. It reports false for a packet
// that belongs before the current segment (a late packet of the previous
// source), which must not be forwarded.
func (r *rewriter) rewrite(h *rtp.Header, now time.Time) bool {
	if !r.started || r.resync {
		if r.started {
			// Continue one sequence number after the last packet sent, and
			// advance the timestamp by the wall-clock time since then (at
			// least one tick, so the new frame never shares the old one's
			// timestamp).
			ticks := uint32(1)
			if r.clockRate > 0 && !r.lastOutAt.IsZero() {
				if elapsed := now.Sub(r.lastOutAt); elapsed > 0 {
					if t := uint32(elapsed.Seconds() * float64(r.clockRate)); t > 0 {
						ticks = t
					}
				}
			}
			r.seqOffset = h.SequenceNumber - (r.lastOutSeq + 1)
			r.tsOffset = h.Timestamp - (r.lastOutTS + ticks)
		}
		r.started, r.resync = true, false
		r.segmentStart = h.SequenceNumber
		r.lastInSeq = h.SequenceNumber - 1
	}
	if int16(h.SequenceNumber-r.segmentStart) < 0 {
		return false
	}
	newest := int16(h.SequenceNumber-r.lastInSeq) > 0
	if newest {
		r.lastInSeq = h.SequenceNumber
	}
	h.SequenceNumber -= r.seqOffset
	h.Timestamp -= r.tsOffset
	if newest {
		r.lastOutSeq, r.lastOutTS, r.lastOutAt = h.SequenceNumber, h.Timestamp, now
	}
	return true
}

// skip drops the in-order packet seq without leaving a hole in the output,
// which the receiver would otherwise NACK for nothing.
func (r *rewriter) skip(seq uint16) {
	if r.started && !r.resync && seq == r.lastInSeq+1 {
		r.lastInSeq = seq
		r.seqOffset++
	}
}

// isKeyframe reports whether payload starts a key frame, the only place a
// receiver can start decoding a video stream, so the only place to switch
// layers or begin forwarding.
func isKeyframe(mimeType string, payload []byte) bool {
	switch strings.ToLower(mimeType) {
	case "video/vp8":
		var vp8 codecs.VP8Packet
		frame, err := vp8.Unmarshal(payload)
		if err != nil || vp8.S != 1 || vp8.PID != 0 || len(frame) == 0 {
			return false
		}
		// RFC 7741 §4.3: the P bit of the VP8 payload header is 0 in a key frame.
		return frame[0]&0x01 == 0
	case "video/h264":
		return h264Keyframe(payload)
	}
	return false
}

// h264Keyframe looks for an IDR slice or a sequence parameter set at the
// start of a frame (RFC 6184: single NAL unit, STAP-A, or the first FU-A
// fragment).
func h264Keyframe(payload []byte) bool {
	if len(payload) < 1 {
		return false
	}
	const (
		naluIDR  = 5
		naluSPS  = 7
		naluSTAP = 24
		naluFUA  = 28
	)
	switch typ := payload[0] & 0x1f; typ {
	case naluIDR, naluSPS:
		return true
	case naluSTAP:
		for rest := payload[1:]; len(rest) > 2; {
			size := int(rest[0])<<8 | int(rest[1])
			if size == 0 || len(rest) < 2+size {
				return false
			}
			if t := rest[2] & 0x1f; t == naluIDR || t == naluSPS {
				return true
			}
			rest = rest[2+size:]
		}
	case naluFUA:
		if len(payload) < 2 {
			return false
		}
		start := payload[1]&0x80 != 0
		t := payload[1] & 0x1f
		return start && (t == naluIDR || t == naluSPS)
	}
	return false
}

// Simulcast qualities as Chrome names its layers: quarter, half and full
// resolution.
const (
	qualityLow    = 0
	qualityMedium = 1
	qualityHigh   = 2
)

func qualityOf(rid string) int {
	switch rid {
	case "q", "l", "0":
		return qualityLow
	case "h", "m", "1":
		return qualityMedium
	case "f", "2":
		return qualityHigh
	case "":
		return qualityHigh
	}
	return qualityMedium
}

// nominalBitrate is what a layer is assumed to cost until it has been
// measured (Chrome's defaults for 720p camera video, roughly).
var nominalBitrate = [3]int{150_000, 500_000, 1_500_000}

// layerRate is a layer a publisher is sending now and its measured bitrate.
type layerRate struct {
	quality int
	bitrate int // bits per second, 0 when not yet measured
}

// chooseQuality picks, from the layers being sent, the best one whose
// bitrate fits budget; when none fits, the lowest. A receiver keeps its
// current layer while it costs up to 10% more than the budget, so that an
// estimate hovering at a layer's bitrate does not switch back and forth at
// every keyframe. It returns -1 when no layer is being sent.
func chooseQuality(layers []layerRate, budget, current int) int {
	best, lowest := -1, -1
	for _, l := range layers {
		rate := l.bitrate
		if rate <= 0 {
			rate = nominalBitrate[l.quality]
		}
		limit := budget
		if l.quality == current {
			limit = budget + budget/10
		}
		if rate <= limit && l.quality > best {
			best = l.quality
		}
		if lowest < 0 || l.quality < lowest {
			lowest = l.quality
		}
	}
	if best < 0 {
		return lowest
	}
	return best
}
