package media

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the SFU's Prometheus collectors. Participants and rooms are
// gauges computed at scrape time from the rooms themselves, so they cannot
// drift from the truth.
type metrics struct {
	packetsForwarded *prometheus.CounterVec
	bytesForwarded   *prometheus.CounterVec
	packetsLost      prometheus.Counter
	keyframeRequests prometheus.Counter
	layerSwitches    prometheus.Counter
	refused          *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, s *SFU) (*metrics, error) {
	m := &metrics{
		packetsForwarded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_media_packets_forwarded_total",
			Help: "RTP packets the SFU sent to receivers, by kind (audio, video).",
		}, []string{"kind"}),
		bytesForwarded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_media_bytes_forwarded_total",
			Help: "RTP payload bytes the SFU sent to receivers, by kind; rate() of it is the forwarded bitrate.",
		}, []string{"kind"}),
		packetsLost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "portal_media_packets_lost_total",
			Help: "Packets receivers reported lost in RTCP receiver reports (before retransmission).",
		}),
		keyframeRequests: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "portal_media_keyframe_requests_total",
			Help: "Picture loss indications the SFU sent to publishers.",
		}),
		layerSwitches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "portal_media_layer_switches_total",
			Help: "Simulcast layer switches made for receivers.",
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_media_signalling_refused_total",
			Help: "Signalling connections refused, by reason (origin, not-admitted, bad-request).",
		}, []string{"reason"}),
	}
	participants := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "portal_media_participants",
		Help: "Participants connected to the SFU of this process.",
	}, func() float64 { p, _ := s.counts(); return float64(p) })
	rooms := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "portal_media_rooms",
		Help: "Meetings with media in this process (at least one participant connected or reconnecting).",
	}, func() float64 { _, r := s.counts(); return float64(r) })
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.packetsForwarded, m.bytesForwarded, m.packetsLost,
		m.keyframeRequests, m.layerSwitches, m.refused, participants, rooms} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
