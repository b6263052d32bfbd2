package meetings

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/meetings-portal/portal/internal/media"
)

// Errors of the media signalling a caller tells apart.
var (
	// ErrMediaUnavailable: this process cannot serve or reach the
	// meeting's media now (not started, or the owning process is not
	// reachable); the browser tries again.
	ErrMediaUnavailable = errors.New("the meeting's audio and video are not available right now")
	// ErrNotAdmitted: the person is not (or no longer) in the meeting.
	ErrNotAdmitted = errors.New("only people in the meeting get its audio and video")
)

// MediaConfig is how a process runs meetings' media.
type MediaConfig struct {
	// SFU is where the SFU listens and what browsers are told
	// (PORTAL_MEDIA_UDP, PORTAL_MEDIA_TCP, PORTAL_MEDIA_PUBLIC_IP,
	// PORTAL_ICE_SERVERS). Its OnControl is set here.
	SFU media.Config
	// InternalURL is where the other portal processes reach this one's
	// HTTP server (PORTAL_INTERNAL_URL): they forward the signalling of
	// the meetings whose media this process hosts to it.
	InternalURL string
	// ClaimTTL is how long a meeting stays with a process that stopped
	// renewing its claim (crashed) before another takes it over; it is
	// shorter than the browsers' reconnect grace, so that they reconnect
	// to the new owner. Default 15 s.
	ClaimTTL time.Duration
	// Recheck is how often a meeting's media is checked against the lobby
	// even without a change announced (a safety net for a missed NOTIFY);
	// default 10 s.
	Recheck time.Duration
}

// Media carries live meetings' audio and video through the SFU of the
// process that hosts each meeting (internal/media), and keeps it in step
// with the lobby, both ways:
//
//   - only participants the lobby admitted get a signalling connection,
//     re-checked in PostgreSQL whichever process served their page;
//   - a removal or the end of the meeting in the lobby (the host's buttons
//     on the meeting page, in any process: the Watcher's NOTIFY) closes the
//     media connections at once, and a participant who left the meeting
//     leaves its media;
//   - the host's remove and end in the media controls are recorded in the
//     lobby, so a removed participant is not let in again without a new
//     admission.
//
// One meeting's media lives in one process: the first to claim it in
// media_rooms. Another process forwards the signalling of that meeting to
// the owner (a reverse proxy on the site's own host and origin, so the
// browser's cookie and Origin reach the owner, which checks them itself).
type Media struct {
	lobby     *Lobby
	watcher   *Watcher
	rooms     *media.Store
	config    MediaConfig
	processID string
	log       *slog.Logger
	// toOwners carries signalling forwarded to other portal processes:
	// straight to them (never through an HTTP_PROXY of the environment).
	toOwners *http.Transport

	sfu atomic.Pointer[media.SFU] // set by Start

	ctx    context.Context // ends with Close: followers stop
	cancel context.CancelFunc

	mu       sync.Mutex
	followed map[mediaRoom]*follower
}

// NewMedia returns the media of this process; call Start to open the SFU's
// sockets. It does no I/O.
func NewMedia(pool *pgxpool.Pool, lobby *Lobby, watcher *Watcher, cfg MediaConfig, log *slog.Logger) *Media {
	if cfg.ClaimTTL <= 0 {
		cfg.ClaimTTL = 15 * time.Second
	}
	if cfg.Recheck <= 0 {
		cfg.Recheck = 10 * time.Second
	}
	processID := newProcessID()
	ctx, cancel := context.WithCancel(context.Background())
	return &Media{
		lobby: lobby, watcher: watcher, config: cfg, processID: processID, log: log,
		rooms: media.NewStore(pool, processID, cfg.InternalURL, cfg.ClaimTTL),
		ctx:   ctx, cancel: cancel, followed: map[mediaRoom]*follower{},
		toOwners: &http.Transport{
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			ResponseHeaderTimeout: 10 * time.Second,
		},
	}
}

// newProcessID names this process in media_rooms: the host name for
// operators reading the table, and random bytes so that a restarted
// process is a new owner.
func newProcessID() string {
	host, _ := os.Hostname()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	if host == "" {
		host = "portal"
	}
	return host + "-" + hex.EncodeToString(b)
}

// Start opens the SFU's media sockets and registers its metrics on reg.
func (m *Media) Start(reg prometheus.Registerer) error {
	cfg := m.config.SFU
	cfg.OnControl = m.onControl
	sfu, err := media.New(cfg, m.log, reg)
	if err != nil {
		return err
	}
	if !m.sfu.CompareAndSwap(nil, sfu) {
		_ = sfu.Close()
		return errors.New("media: started twice")
	}
	return nil
}

// SFU is the process's SFU, nil before Start (or without media).
func (m *Media) SFU() *media.SFU {
	if m == nil {
		return nil
	}
	return m.sfu.Load()
}

// ProcessID names this process in media_rooms.
func (m *Media) ProcessID() string { return m.processID }

// InternalURL is where other portal processes forward this one the
// signalling of the meetings it hosts.
func (m *Media) InternalURL() string { return m.config.InternalURL }

// PublicIPs are the addresses the SFU announces instead of its own.
func (m *Media) PublicIPs() []string { return m.config.SFU.PublicIPs }

// RunHeartbeat renews this process's claims on its meetings until ctx
// ends; run it once per process beside the server.
func (m *Media) RunHeartbeat(ctx context.Context) {
	m.rooms.RunHeartbeat(ctx, func(err error) { m.log.WarnContext(ctx, "media rooms heartbeat failed", "error", err.Error()) })
}

// Close hangs up every media connection of this process (as lost: the
// browsers reconnect to another process, which takes the meetings over)
// and gives up its claims so that no one waits for them to lapse.
func (m *Media) Close(ctx context.Context) error {
	m.cancel()
	m.toOwners.CloseIdleConnections()
	var err error
	if sfu := m.sfu.Load(); sfu != nil {
		err = sfu.Close()
	}
	return errors.Join(err, m.rooms.ReleaseAll(ctx))
}

// mediaRoom is a live meeting (an instance) as the SFU knows it.
type mediaRoom struct {
	siteID, instanceID int64
}

// key names the room in the SFU and in media_rooms; the site is part of it,
// so no two sites ever share a room.
func (r mediaRoom) key() string { return fmt.Sprintf("site:%d/instance:%d", r.siteID, r.instanceID) }

func parseMediaRoom(key string) (mediaRoom, bool) {
	var r mediaRoom
	_, err := fmt.Sscanf(key, "site:%d/instance:%d", &r.siteID, &r.instanceID)
	return r, err == nil && r.key() == key
}

// MediaID is a participant's identity in the SFU: its lobby row, so that a
// reconnection (or another tab) resumes the same place.
func MediaID(participantID int64) string { return strconv.FormatInt(participantID, 10) }

// mediaRole is what the participant may do in the meeting's media: the
// meeting's host controls it.
func mediaRole(in Instance, p Participant) media.Role {
	switch {
	case p.UserID != nil && *p.UserID == in.HostUserID:
		return media.RoleHost
	case p.Guest():
		return media.RoleGuest
	}
	return media.RoleParticipant
}

// forwardedHeader marks signalling one portal process forwarded to
// another; a process forwards only what no process forwarded yet, so that
// two processes that disagree about the owner cannot loop.
const forwardedHeader = "Portal-Media-Forwarded-By"

// serve serves the signalling WebSocket of self, a participant the caller
// found admitted to the live meeting in, from the site at origin: here
// when this process hosts the meeting's media (claiming it if nobody
// does), else forwarded to the process that does. It returns an error
// without answering when it could do neither.
func (m *Media) serve(w http.ResponseWriter, r *http.Request, in Instance, self Participant, origin string) error {
	if m == nil || m.sfu.Load() == nil {
		return ErrMediaUnavailable
	}
	sfu, ctx := m.sfu.Load(), r.Context()
	room := mediaRoom{in.SiteID, in.ID}
	key, id := room.key(), MediaID(self.ID)
	// Followed before anything else: a removal committed from here on
	// wakes the follower, which takes the person off the allow list again.
	leave := m.enter(room)
	owner, err := m.rooms.Claim(ctx, in.SiteID, key)
	if err != nil || !owner.Self {
		leave() // nothing to follow here
		if err != nil {
			return err
		}
		return m.forward(w, r, owner)
	}
	defer leave()
	sfu.Allow(key, id)
	// The page that let this person in may have been served by another
	// process, long ago: the lobby decides, now.
	admitted, live, err := m.lobby.admitted(ctx, in.SiteID, in.ID)
	if err != nil {
		return err
	}
	if !live || !admitted[self.ID] {
		sfu.Remove(key, id)
		return ErrNotAdmitted
	}
	sfu.ServeSignalling(w, r, key, media.Participant{ID: id, Name: self.DisplayName, Role: mediaRole(in, self)}, origin)
	return nil
}

// forward passes the signalling on to the process that hosts the
// meeting's media, on the same site host: its session or ticket cookie
// and its Origin go along, and the owner checks them as it checks any
// request.
func (m *Media) forward(w http.ResponseWriter, r *http.Request, owner media.Owner) error {
	if r.Header.Get(forwardedHeader) != "" {
		m.log.WarnContext(r.Context(), "media signalling forwarded to a process that does not host the meeting",
			"owner", owner.ProcessID, "forwarded_by", r.Header.Get(forwardedHeader))
		return ErrMediaUnavailable
	}
	target, err := url.Parse(owner.MediaURL)
	if err != nil || target.Host == "" {
		m.log.ErrorContext(r.Context(), "media: the process hosting the meeting has no internal URL (PORTAL_INTERNAL_URL)",
			"owner", owner.ProcessID, "media_url", owner.MediaURL)
		return ErrMediaUnavailable
	}
	proxy := &httputil.ReverseProxy{
		Transport: m.toOwners,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host // the site is resolved from the Host
			pr.Out.Header.Set(forwardedHeader, m.processID)
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			m.log.WarnContext(r.Context(), "media: the process hosting the meeting did not answer",
				"owner", owner.ProcessID, "media_url", owner.MediaURL, "error", err.Error())
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	proxy.ServeHTTP(w, r)
	return nil
}

// follower keeps one meeting's media in step with its lobby while this
// process serves it.
type follower struct {
	connections int           // signalling requests being served
	idle        chan struct{} // a request ended: check whether the room is idle
}

// enter counts a signalling request for room until the returned function
// is called, following the room's lobby from now on.
func (m *Media) enter(room mediaRoom) (leave func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.followed[room]
	if f == nil {
		f = &follower{idle: make(chan struct{}, 1)}
		m.followed[room] = f
		// Subscribed before the caller goes on, so no change is missed.
		changed, stop := m.watcher.Subscribe(InstanceTopic(room.siteID, room.instanceID))
		go m.follow(room, f, changed, stop)
	}
	f.connections++
	return func() {
		m.mu.Lock()
		f.connections--
		m.mu.Unlock()
		select {
		case f.idle <- struct{}{}:
		default:
		}
	}
}

// follow applies every change of the room's lobby to its media, until the
// meeting ends or nobody is in its media any more.
func (m *Media) follow(room mediaRoom, f *follower, changed <-chan struct{}, stop func()) {
	defer stop()
	tick := time.NewTicker(m.config.Recheck)
	defer tick.Stop()
	for {
		ended := false
		select {
		case <-m.ctx.Done():
			return
		case <-f.idle:
		case <-changed:
			ended = m.enforce(room)
		case <-tick.C:
			ended = m.enforce(room)
		}
		if m.unfollow(room, f, ended) {
			return
		}
	}
}

// enforce closes the media of everyone the lobby no longer admits, or of
// everyone when the meeting has ended; it reports the end.
func (m *Media) enforce(room mediaRoom) (ended bool) {
	ctx, cancel := context.WithTimeout(m.ctx, 10*time.Second)
	defer cancel()
	admitted, live, err := m.lobby.admitted(ctx, room.siteID, room.instanceID)
	if err != nil {
		if ctx.Err() == nil {
			m.log.Error("media: read the lobby", "room", room.key(), "error", err.Error())
		}
		return false
	}
	sfu := m.sfu.Load()
	if !live {
		sfu.End(room.key())
		return true
	}
	for _, id := range sfu.Allowed(room.key()) {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil || !admitted[n] {
			sfu.Remove(room.key(), id)
		}
	}
	return false
}

// unfollow stops following the room when the meeting ended, or when no
// request is being served and nobody is in its media (not even
// reconnecting); the SFU then forgets it and its claim is given up. It
// runs under the lock enter takes, so that no request starts on a room
// being given up.
func (m *Media) unfollow(room mediaRoom, f *follower, ended bool) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	sfu := m.sfu.Load()
	if !ended && (f.connections > 0 || len(sfu.Participants(room.key())) > 0) {
		return false
	}
	delete(m.followed, room)
	sfu.End(room.key())
	ctx, cancel := context.WithTimeout(m.ctx, 5*time.Second)
	defer cancel()
	if err := m.rooms.Release(ctx, room.siteID, room.key()); err != nil && ctx.Err() == nil {
		m.log.Warn("media: release the room", "room", room.key(), "error", err.Error())
	}
	return true
}

// onControl records in the lobby what a host did in the media controls:
// a removal (so that the person is not let in again without a new
// admission) and the end of the meeting. The SFU has already carried them
// out; a mute needs nothing more.
func (m *Media) onControl(c media.Control) {
	room, ok := parseMediaRoom(c.Key)
	hostID, err := strconv.ParseInt(c.By.ID, 10, 64)
	if !ok || err != nil || (c.Action != "remove" && c.Action != "end") {
		return
	}
	ctx, cancel := context.WithTimeout(m.ctx, 10*time.Second)
	defer cancel()
	host, err := m.lobby.participant(ctx, room.siteID, room.instanceID, hostID)
	if err == nil && host.UserID == nil {
		err = ErrNotHost
	}
	if err == nil {
		by := Viewer{SiteID: room.siteID, UserID: *host.UserID}
		if c.Action == "end" {
			err = m.lobby.End(ctx, room.siteID, room.instanceID, by)
		} else if target, perr := strconv.ParseInt(c.Target, 10, 64); perr == nil {
			err = m.lobby.Remove(ctx, room.siteID, room.instanceID, target, by)
		}
	}
	switch {
	case err == nil:
	case errors.Is(err, ErrEnded), errors.Is(err, ErrNoParticipant):
		// Already ended, or the person already gone: nothing to record.
	default:
		m.log.Error("media: record the host's "+c.Action+" in the lobby", "room", c.Key, "target", c.Target, "error", err.Error())
	}
}

// admitted returns who is admitted to a live meeting (lobby row IDs) and
// whether it is live; an unknown meeting is not live.
func (l *Lobby) admitted(ctx context.Context, siteID, instanceID int64) (map[int64]bool, bool, error) {
	var live bool
	var ids []int64
	err := l.pool.QueryRow(ctx, `
SELECT i.ended_at IS NULL,
       ARRAY(SELECT p.id FROM meeting_participants p
             WHERE p.site_id = i.site_id AND p.instance_id = i.id AND p.state = 'admitted')
FROM meeting_instances i WHERE i.site_id = $1 AND i.id = $2`, siteID, instanceID).Scan(&live, &ids)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("admitted participants of meeting %d: %w", instanceID, err)
	}
	admitted := make(map[int64]bool, len(ids))
	for _, id := range ids {
		admitted[id] = true
	}
	return admitted, live, nil
}
