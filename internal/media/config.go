package media

import (
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/pion/webrtc/v4"
)

// Config says where the SFU listens and what browsers are told. The zero
// value is usable: ephemeral ports on every interface, no public address, no
// STUN/TURN servers.
type Config struct {
	// ListenIP is the address the media sockets bind to; "" means every
	// interface. Tests use "127.0.0.1" so that no packet leaves loopback.
	ListenIP string
	// UDPPort is the one UDP port every peer connection shares (pion's UDP
	// mux, PORTAL_MEDIA_UDP); 0 picks an ephemeral port.
	UDPPort int
	// TCPPort is the ICE-TCP fallback port for networks that block UDP; 0
	// picks an ephemeral port and a negative value turns ICE-TCP off.
	TCPPort int
	// PublicIPs replace the host addresses in the candidates the SFU
	// announces (NAT 1:1, PORTAL_MEDIA_PUBLIC_IP): behind a cloud NAT the
	// machine's own address is private and useless to browsers.
	PublicIPs []string
	// ICEServers are handed to browsers (PORTAL_ICE_SERVERS): STUN finds
	// their public address, TURN relays for those behind strict firewalls.
	// The SFU itself needs neither: it has a reachable address.
	ICEServers []webrtc.ICEServer
	// ReconnectGrace is how long a participant whose connection dropped
	// keeps its place (and its tiles on the others' screens) before it is
	// treated as gone. Default 20 s.
	ReconnectGrace time.Duration
	// PingInterval is the WebSocket keepalive period. Default 15 s.
	PingInterval time.Duration
	// OnControl, when set, is told of every host action taken over a
	// signalling connection (mute, remove, end), so that the meetings
	// package can record it — above all a removal, so that the person is not
	// let in again without being admitted anew.
	OnControl func(Control)
	// OnRoomEmpty, when set, is called when nobody is connected or
	// reconnecting to a room any more (or it was ended), for example to
	// release the room's ownership in the Store.
	OnRoomEmpty func(key string)
}

func (c Config) withDefaults() Config {
	if c.ReconnectGrace <= 0 {
		c.ReconnectGrace = 20 * time.Second
	}
	if c.PingInterval <= 0 {
		c.PingInterval = 15 * time.Second
	}
	return c
}

// ParseICEServers reads PORTAL_ICE_SERVERS: either a JSON array in the
// browser's RTCIceServer shape (needed for TURN credentials), e.g.
//
//	[{"urls":["turn:turn.example.com:3478"],"username":"u","credential":"p"}]
//
// or URLs separated by spaces or commas, e.g.
// "stun:stun.example.com:3478 stun:stun2.example.com:3478".
func ParseICEServers(s string) ([]webrtc.ICEServer, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var servers []webrtc.ICEServer
	if strings.HasPrefix(s, "[") {
		if err := json.Unmarshal([]byte(s), &servers); err != nil {
			return nil, fmt.Errorf("ICE servers JSON: %w", err)
		}
	} else {
		for _, u := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '\n' || r == '\t' }) {
			servers = append(servers, webrtc.ICEServer{URLs: []string{u}})
		}
	}
	for _, srv := range servers {
		if len(srv.URLs) == 0 {
			return nil, fmt.Errorf("ICE server without urls")
		}
		for _, u := range srv.URLs {
			scheme, _, _ := strings.Cut(u, ":")
			switch scheme {
			case "stun", "stuns", "turn", "turns":
			default:
				return nil, fmt.Errorf("ICE server %q: scheme must be stun, stuns, turn or turns", u)
			}
		}
	}
	return servers, nil
}

// ParsePublicIPs reads PORTAL_MEDIA_PUBLIC_IP: one or more IP addresses
// separated by commas or spaces.
func ParsePublicIPs(s string) ([]string, error) {
	var ips []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' }) {
		if net.ParseIP(f) == nil {
			return nil, fmt.Errorf("public media address %q is not an IP address", f)
		}
		ips = append(ips, f)
	}
	return ips, nil
}
