// Package media is the portal's embedded selective forwarding unit (SFU):
// meeting audio, video and screen sharing forwarded by the portal process
// itself, built on pion/webrtc, and the WebSocket signalling browsers use to
// reach it.
//
// Each participant sends its tracks once; the SFU forwards them to every
// other participant of the same room. It forwards, it never decodes: media
// is DTLS-SRTP on each leg, decrypted and re-encrypted per receiver, and
// the SFU reads only RTP headers and the first bytes of the VP8/H.264
// payload (to find key frames). Camera video may arrive as Chrome's three
// simulcast layers (rid q, h, f); each receiver gets the layer its
// bandwidth estimate allows (Google congestion control over transport-wide
// feedback), switched on a key frame with sequence numbers and timestamps
// rewritten, so a weak receiver does not degrade the others. NACKs are
// answered from a per-receiver buffer; picture loss indications are passed
// to the publisher, and sent on a new subscription and on a layer switch.
//
// # Who gets media
//
// The package authenticates no one: the caller (the meeting page's
// handlers) resolves the person from the session cookie or lobby ticket and
// decides who is let in. The SFU enforces what it is told:
//
//   - Allow(key, id) puts a participant on a room's allow list; only
//     listed participants get a signalling connection (403 otherwise).
//   - Remove(key, id) closes the participant's connections at once and takes
//     it off the list: it cannot reconnect until Allow is called again.
//   - End(key) closes every connection of the room and forgets its list.
//   - MuteRemote(key, id) asks the client to mute and stops forwarding its
//     audio until the participant turns its microphone back on.
//   - ServeSignalling refuses a request whose Origin header is not exactly
//     the site's origin (cross-site WebSocket hijacking).
//
// A host's mute, remove and end over signalling are enforced here and
// reported to Config.OnControl, so that the meetings package records a
// removal and does not Allow that person again without a new admission.
//
// # Signalling protocol
//
// One WebSocket per participant and room, JSON text messages, each an
// object with a "type". Each participant has two peer connections, named by
// "pc": "pub" carries what the browser sends, and the browser always offers
// it; "sub" carries what the SFU forwards, and the SFU always offers it. One
// fixed offerer per connection means offers never cross, so there is no
// glare and no rollback (perfect negotiation is not needed), and the
// browser's own offer is how Chrome declares its simulcast layers.
//
// Server to browser:
//
//	{"type":"welcome","self":{id,name,role},"iceServers":[RTCIceServer...],"graceSeconds":20}
//	{"type":"participants","participants":[{"id","name","role","connected","audio","video","hostMuted",
//	    "streams":[{"streamId","source":"mic|camera|screen","kind":"audio|video"}]}]}
//	{"type":"offer","pc":"sub","sdp":"..."}        renegotiation: someone joined, left, (un)published
//	{"type":"answer","pc":"pub","sdp":"..."}
//	{"type":"candidate","pc":"pub|sub","candidate":RTCIceCandidateInit}
//	{"type":"muted"}                               the host muted you: mute your microphone
//	{"type":"removed"} / {"type":"ended"} / {"type":"replaced"}   then the socket closes
//	{"type":"error","message":"..."}               a message was refused; the session goes on
//
// Browser to server:
//
//	{"type":"offer","pc":"pub","sdp":"...","tracks":{"<track id>":"mic|camera|screen"}}
//	{"type":"answer","pc":"sub","sdp":"..."}
//	{"type":"candidate","pc":"pub|sub","candidate":RTCIceCandidateInit}
//	{"type":"state","audio":true,"video":false}     own microphone and camera
//	{"type":"unpublish","source":"screen"}          screen share stopped
//	{"type":"leave"}
//	{"type":"mute","id":"..."} / {"type":"remove","id":"..."} / {"type":"end"}   hosts only
//
// A received stream's MediaStream id is the "streamId" of the participant
// list, which names its tile. Close codes: 4000 meeting ended, 4001
// removed, 4002 replaced by a newer connection of the same participant;
// any other close is a lost connection. The server pings every 15 s.
//
// # Reconnection
//
// A participant whose connection drops keeps its place for
// Config.ReconnectGrace (20 s): the others see it as "connected": false,
// with its tiles, not as a leave. When it reconnects with the same
// participant ID (a new WebSocket and new peer connections), its new tracks
// feed the same forwarded streams, so the others need no renegotiation and
// see no new tiles. A new connection with the ID of a connected participant
// takes over (the old one gets "replaced").
//
// # Several processes
//
// One room's media lives in one process. Store records the owner of each
// room in PostgreSQL (media_rooms), with a heartbeat; a process claims a
// room before serving its signalling, and a room whose owner stopped its
// heartbeat is taken over. The portal's other processes forward the
// signalling of a room to its owner's media URL (internal/meetings), so
// the browser always talks to one SFU; the media itself goes straight to
// that SFU's ports.
package media
