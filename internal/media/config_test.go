package media

import (
	"reflect"
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"
)

func TestParseICEServers(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []webrtc.ICEServer
		wantErr bool
	}{
		{"empty", "  ", nil, false},
		{"plain STUN URLs", "stun:a.example.com:3478, stun:b.example.com", []webrtc.ICEServer{
			{URLs: []string{"stun:a.example.com:3478"}}, {URLs: []string{"stun:b.example.com"}}}, false},
		{"TURN with credentials as JSON", `[{"urls":["turn:t.example.com:3478?transport=udp"],"username":"u","credential":"p"}]`,
			[]webrtc.ICEServer{{URLs: []string{"turn:t.example.com:3478?transport=udp"}, Username: "u", Credential: "p"}}, false},
		{"not an ICE URL", "https://example.com", nil, true},
		{"JSON without urls", `[{"username":"u"}]`, nil, true},
		{"broken JSON", `[{"urls":`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseICEServers(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParsePublicIPs(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"", nil, false},
		{"203.0.113.7", []string{"203.0.113.7"}, false},
		{"203.0.113.7, 2001:db8::7", []string{"203.0.113.7", "2001:db8::7"}, false},
		{"media.example.com", nil, true},
	}
	for _, tt := range tests {
		got, err := ParsePublicIPs(tt.in)
		if (err != nil) != tt.wantErr || (!tt.wantErr && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("ParsePublicIPs(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func TestPublicIPIsAnnouncedInsteadOfTheHostAddress(t *testing.T) {
	s, err := New(Config{ListenIP: "127.0.0.1", PublicIPs: []string{"203.0.113.7"}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pc, err := s.pubAPI.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	sdp := pc.LocalDescription().SDP
	if !strings.Contains(sdp, "203.0.113.7") || strings.Contains(sdp, " 127.0.0.1 ") {
		t.Fatalf("candidates do not announce only the public address:\n%s", sdp)
	}
}
