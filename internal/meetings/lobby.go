package meetings

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

var (
	// ErrNotStarted: the host has not started the meeting (or room) yet.
	ErrNotStarted = errors.New("the meeting has not started")
	// ErrEnded: the live meeting was ended by its host.
	ErrEnded = errors.New("the meeting has ended")
	// ErrLocked: the host locked the meeting; nobody new gets in.
	ErrLocked = errors.New("the meeting is locked")
	// ErrGuestsNotAllowed: only signed-in users of the site may join.
	ErrGuestsNotAllowed = errors.New("this meeting is for signed-in users only")
	// ErrGuestName refuses a guest name that is empty or too long.
	ErrGuestName = errors.New("enter your name (at most 100 characters)")
	// ErrNotMember refuses JoinMember for someone not signed in to this
	// site: they join through single sign-on, or as a guest.
	ErrNotMember = errors.New("sign in to this site to join")
	// ErrNoParticipant: no such participant in this meeting, or an
	// unknown guest ticket.
	ErrNoParticipant = errors.New("no such participant")
)

// PresenceTimeout is how long a participant counts as here after their last
// heartbeat: a browser that closed without saying goodbye drops off after it.
const PresenceTimeout = 30 * time.Second

// Participant states.
const (
	StateLobby    = "lobby"    // waiting to be admitted
	StateAdmitted = "admitted" // in the meeting
	StateRemoved  = "removed"  // put out by the host: back to the lobby if they come again
	StateLeft     = "left"
)

// Target is what a live meeting is an instance of: a scheduled meeting or a
// personal room. Build it with Meeting.Target or Room.Target.
type Target struct {
	MeetingID     int64 // a scheduled meeting, or 0
	RoomUserID    int64 // a personal room (its owner's user ID), or 0
	HostUserID    int64 // who controls it
	Title         string
	GuestsAllowed bool
}

// Target is the meeting as something to start.
func (m Meeting) Target() Target {
	return Target{MeetingID: m.ID, HostUserID: m.HostUserID, Title: m.Topic, GuestsAllowed: m.GuestsAllowed}
}

// Target is the room as something to start; ownerName titles it.
func (r Room) Target(ownerName string) Target {
	return Target{RoomUserID: r.UserID, HostUserID: r.UserID, Title: truncateRunes(ownerName+"'s personal room", MaxTopic), GuestsAllowed: r.GuestsAllowed}
}

// Instance is a live (or ended) meeting.
type Instance struct {
	SiteID        int64      `db:"site_id"`
	ID            int64      `db:"id"`
	MeetingID     *int64     `db:"meeting_id"`
	RoomUserID    *int64     `db:"room_user_id"`
	HostUserID    int64      `db:"host_user_id"`
	Title         string     `db:"title"`
	GuestsAllowed bool       `db:"guests_allowed"`
	StartedAt     time.Time  `db:"started_at"`
	EndedAt       *time.Time `db:"ended_at"`
	Locked        bool       `db:"locked"`
}

// Participant is someone who came to an instance.
type Participant struct {
	SiteID      int64      `db:"site_id"`
	InstanceID  int64      `db:"instance_id"`
	ID          int64      `db:"id"`
	UserID      *int64     `db:"user_id"` // nil for a guest
	GuestEmail  string     `db:"guest_email"`
	DisplayName string     `db:"display_name"`
	State       string     `db:"state"`
	JoinedAt    time.Time  `db:"joined_at"`
	AdmittedAt  *time.Time `db:"admitted_at"`
	LeftAt      *time.Time `db:"left_at"`
	HeartbeatAt time.Time  `db:"heartbeat_at"`
}

// Guest reports whether the participant is a guest rather than a user.
func (p Participant) Guest() bool { return p.UserID == nil }

// Lobby runs live meetings: starting and ending them, who is in and who
// waits, with presence kept in PostgreSQL so that every portal process sees
// the same room. Every change is announced with NOTIFY for Watchers.
type Lobby struct {
	pool *pgxpool.Pool
	now  func() time.Time
}

// NewLobby returns a Lobby; now is the clock.
func NewLobby(pool *pgxpool.Pool, now func() time.Time) *Lobby {
	return &Lobby{pool: pool, now: now}
}

const instanceColumns = `site_id, id, meeting_id, room_user_id, host_user_id, title, guests_allowed, started_at, ended_at, locked`

const participantColumns = `site_id, instance_id, id, user_id, guest_email, display_name, state, joined_at, admitted_at, left_at, heartbeat_at`

const insertInstance = `
INSERT INTO meeting_instances (site_id, meeting_id, room_user_id, host_user_id, title, guests_allowed, started_at)
VALUES ($1, NULLIF($2, 0), NULLIF($3, 0), $4, $5, $6, $7)
ON CONFLICT DO NOTHING
RETURNING ` + instanceColumns

// Start starts the live meeting of t, or returns the one already live; only
// its host may. The host is in it from the start.
func (l *Lobby) Start(ctx context.Context, host Viewer, t Target) (Instance, Participant, error) {
	if !host.SignedIn() || host.UserID != t.HostUserID {
		return Instance{}, Participant{}, ErrNotHost
	}
	var in Instance
	var p Participant
	err := pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		var err error
		in, err = collectInstance(tx.Query(ctx, insertInstance, host.SiteID, t.MeetingID, t.RoomUserID, t.HostUserID, t.Title, t.GuestsAllowed, l.now()))
		if errors.Is(err, pgx.ErrNoRows) { // already live
			in, err = l.current(ctx, tx, host.SiteID, t)
		}
		if err != nil {
			return fmt.Errorf("start meeting: %w", err)
		}
		p, err = l.joinMember(ctx, tx, in, host)
		if err != nil {
			return err
		}
		return notify(ctx, tx, in.topics()...)
	})
	return in, p, err
}

func collectInstance(rows pgx.Rows, err error) (Instance, error) {
	if err != nil {
		return Instance{}, err
	}
	return pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Instance])
}

// Current returns the live meeting of t, or ErrNotStarted.
func (l *Lobby) Current(ctx context.Context, siteID int64, t Target) (Instance, error) {
	return l.current(ctx, l.pool, siteID, t)
}

func (l *Lobby) current(ctx context.Context, q querier, siteID int64, t Target) (Instance, error) {
	in, err := collectInstance(q.Query(ctx, `
SELECT `+instanceColumns+` FROM meeting_instances
WHERE site_id = $1 AND ended_at IS NULL AND (meeting_id = NULLIF($2, 0) OR room_user_id = NULLIF($3, 0))`, siteID, t.MeetingID, t.RoomUserID))
	if errors.Is(err, pgx.ErrNoRows) {
		return Instance{}, ErrNotStarted
	}
	if err != nil {
		return Instance{}, fmt.Errorf("live meeting: %w", err)
	}
	return in, nil
}

// Last returns the latest instance of t, live or ended, or ErrNotStarted
// when it was never started: the join page tells "has ended" from "has not
// started" with it.
func (l *Lobby) Last(ctx context.Context, siteID int64, t Target) (Instance, error) {
	in, err := collectInstance(l.pool.Query(ctx, `
SELECT `+instanceColumns+` FROM meeting_instances
WHERE site_id = $1 AND (meeting_id = NULLIF($2, 0) OR room_user_id = NULLIF($3, 0))
ORDER BY started_at DESC, id DESC LIMIT 1`, siteID, t.MeetingID, t.RoomUserID))
	if errors.Is(err, pgx.ErrNoRows) {
		return Instance{}, ErrNotStarted
	}
	if err != nil {
		return Instance{}, fmt.Errorf("last meeting instance: %w", err)
	}
	return in, nil
}

// Instance returns a live or ended meeting of the site by ID.
func (l *Lobby) Instance(ctx context.Context, siteID, instanceID int64) (Instance, error) {
	return l.instance(ctx, l.pool, siteID, instanceID, "")
}

func (l *Lobby) instance(ctx context.Context, q querier, siteID, instanceID int64, lock string) (Instance, error) {
	in, err := collectInstance(q.Query(ctx, `SELECT `+instanceColumns+` FROM meeting_instances WHERE site_id = $1 AND id = $2 `+lock, siteID, instanceID))
	if errors.Is(err, pgx.ErrNoRows) {
		return Instance{}, ErrNotFound
	}
	if err != nil {
		return Instance{}, fmt.Errorf("meeting instance %d: %w", instanceID, err)
	}
	return in, nil
}

// topics are the Watcher topics a change of the instance wakes: its own,
// and its meeting's or room's, where people wait for it to start.
func (in Instance) topics() []Topic {
	topics := []Topic{InstanceTopic(in.SiteID, in.ID)}
	if in.MeetingID != nil {
		topics = append(topics, MeetingTopic(in.SiteID, *in.MeetingID))
	}
	if in.RoomUserID != nil {
		topics = append(topics, RoomTopic(in.SiteID, *in.RoomUserID))
	}
	return topics
}

// control runs fn on the live instance, locked, if by is its host.
func (l *Lobby) control(ctx context.Context, siteID, instanceID int64, by Viewer, fn func(tx pgx.Tx, in Instance, now time.Time) error) error {
	return pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		in, err := l.instance(ctx, tx, siteID, instanceID, "FOR UPDATE")
		if err != nil {
			return err
		}
		if by.SiteID != siteID || by.UserID != in.HostUserID {
			return ErrNotHost
		}
		if in.EndedAt != nil {
			return ErrEnded
		}
		if err := fn(tx, in, l.now()); err != nil {
			return err
		}
		return notify(ctx, tx, in.topics()...)
	})
}

// End ends the live meeting: everyone in it or waiting has left.
func (l *Lobby) End(ctx context.Context, siteID, instanceID int64, by Viewer) error {
	return l.control(ctx, siteID, instanceID, by, func(tx pgx.Tx, in Instance, now time.Time) error {
		if _, err := tx.Exec(ctx, `UPDATE meeting_instances SET ended_at = $3 WHERE site_id = $1 AND id = $2`, siteID, instanceID, now); err != nil {
			return fmt.Errorf("end meeting: %w", err)
		}
		if _, err := tx.Exec(ctx, `
UPDATE meeting_participants SET state = 'left', left_at = $3
WHERE site_id = $1 AND instance_id = $2 AND state IN ('lobby', 'admitted')`, siteID, instanceID, now); err != nil {
			return fmt.Errorf("end meeting: %w", err)
		}
		return nil
	})
}

// SetLocked locks the meeting (nobody new gets in, not even to the lobby)
// or unlocks it.
func (l *Lobby) SetLocked(ctx context.Context, siteID, instanceID int64, by Viewer, locked bool) error {
	return l.control(ctx, siteID, instanceID, by, func(tx pgx.Tx, in Instance, now time.Time) error {
		if _, err := tx.Exec(ctx, `UPDATE meeting_instances SET locked = $3 WHERE site_id = $1 AND id = $2`, siteID, instanceID, locked); err != nil {
			return fmt.Errorf("lock meeting: %w", err)
		}
		return nil
	})
}

// Admit lets a participant in from the lobby (or back in after removal).
func (l *Lobby) Admit(ctx context.Context, siteID, instanceID, participantID int64, by Viewer) error {
	return l.setState(ctx, siteID, instanceID, participantID, by, StateAdmitted)
}

// Remove puts a participant out; coming back takes them to the lobby, where
// the host must admit them again.
func (l *Lobby) Remove(ctx context.Context, siteID, instanceID, participantID int64, by Viewer) error {
	return l.setState(ctx, siteID, instanceID, participantID, by, StateRemoved)
}

const setParticipantState = `
UPDATE meeting_participants SET state = $4,
    admitted_at = CASE WHEN $4 = 'admitted' THEN coalesce(admitted_at, $5) ELSE admitted_at END
WHERE site_id = $1 AND instance_id = $2 AND id = $3 AND state <> 'left'
  AND (user_id IS NULL OR user_id <> $6)`

func (l *Lobby) setState(ctx context.Context, siteID, instanceID, participantID int64, by Viewer, state string) error {
	return l.control(ctx, siteID, instanceID, by, func(tx pgx.Tx, in Instance, now time.Time) error {
		// The host cannot remove (or re-admit) themselves.
		tag, err := tx.Exec(ctx, setParticipantState, siteID, instanceID, participantID, state, now, in.HostUserID)
		if err != nil {
			return fmt.Errorf("%s participant %d: %w", state, participantID, err)
		}
		if tag.RowsAffected() == 0 {
			return ErrNoParticipant
		}
		return nil
	})
}

// JoinMember brings a signed-in user of the site into the live meeting:
// straight in, unless the host removed them earlier (then to the lobby).
// A locked meeting lets in only its host and those already admitted.
func (l *Lobby) JoinMember(ctx context.Context, siteID, instanceID int64, v Viewer) (Participant, error) {
	if !v.SignedIn() || v.SiteID != siteID {
		return Participant{}, ErrNotMember
	}
	var p Participant
	err := pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		in, err := l.instance(ctx, tx, siteID, instanceID, "FOR SHARE")
		if err != nil {
			return err
		}
		p, err = l.joinMember(ctx, tx, in, v)
		if err != nil {
			return err
		}
		return notify(ctx, tx, in.topics()...)
	})
	return p, err
}

const upsertMember = `
INSERT INTO meeting_participants AS p (site_id, instance_id, user_id, display_name, state, joined_at, admitted_at, heartbeat_at)
VALUES ($1, $2, $3, $4, 'admitted', $5, $5, $5)
ON CONFLICT (site_id, instance_id, user_id) WHERE user_id IS NOT NULL DO UPDATE SET
    display_name = EXCLUDED.display_name,
    heartbeat_at = EXCLUDED.heartbeat_at,
    left_at = NULL,
    state = CASE WHEN p.state = 'removed' AND NOT $6 THEN 'lobby'
                 WHEN p.state = 'lobby' AND NOT $6 THEN 'lobby'
                 ELSE 'admitted' END,
    admitted_at = coalesce(p.admitted_at, CASE WHEN p.state NOT IN ('removed', 'lobby') OR $6 THEN EXCLUDED.admitted_at END)
RETURNING ` + participantColumns

func (l *Lobby) joinMember(ctx context.Context, tx pgx.Tx, in Instance, v Viewer) (Participant, error) {
	if in.EndedAt != nil {
		return Participant{}, ErrEnded
	}
	isHost := v.UserID == in.HostUserID
	if in.Locked && !isHost {
		var admitted bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM meeting_participants WHERE site_id = $1 AND instance_id = $2 AND user_id = $3 AND state = 'admitted')`,
			in.SiteID, in.ID, v.UserID).Scan(&admitted); err != nil {
			return Participant{}, fmt.Errorf("join: %w", err)
		}
		if !admitted {
			return Participant{}, ErrLocked
		}
	}
	name := v.Name
	if name == "" {
		name = v.Email
	}
	p, err := collectParticipant(tx.Query(ctx, upsertMember, in.SiteID, in.ID, v.UserID, truncateRunes(name, 200), l.now(), isHost))
	if err != nil {
		return Participant{}, fmt.Errorf("join: %w", err)
	}
	return p, nil
}

func collectParticipant(rows pgx.Rows, err error) (Participant, error) {
	if err != nil {
		return Participant{}, err
	}
	return pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Participant])
}

// Member returns a signed-in user's place in an instance, or
// ErrNoParticipant when they have not joined it.
func (l *Lobby) Member(ctx context.Context, siteID, instanceID, userID int64) (Participant, error) {
	return l.participantBy(ctx, siteID, instanceID, "user_id", userID)
}

// participant returns a participant of an instance by ID, or
// ErrNoParticipant.
func (l *Lobby) participant(ctx context.Context, siteID, instanceID, id int64) (Participant, error) {
	return l.participantBy(ctx, siteID, instanceID, "id", id)
}

// participantBy finds a participant of an instance by a unique column
// ("id" or "user_id"; never text from a request).
func (l *Lobby) participantBy(ctx context.Context, siteID, instanceID int64, column string, value int64) (Participant, error) {
	p, err := collectParticipant(l.pool.Query(ctx, `SELECT `+participantColumns+` FROM meeting_participants
WHERE site_id = $1 AND instance_id = $2 AND `+column+` = $3`, siteID, instanceID, value))
	if errors.Is(err, pgx.ErrNoRows) {
		return Participant{}, ErrNoParticipant
	}
	if err != nil {
		return Participant{}, fmt.Errorf("participant with %s %d: %w", column, value, err)
	}
	return p, nil
}

const insertGuest = `
INSERT INTO meeting_participants (site_id, instance_id, guest_name, guest_email, display_name, ticket_hash, state, joined_at, heartbeat_at)
VALUES ($1, $2, $3, $4, $3, $5, 'lobby', $6, $6)
RETURNING ` + participantColumns

// JoinGuest puts a visitor who gave their name (and optionally an e-mail
// address) in the lobby of a meeting that lets guests in. It returns the
// guest's ticket: a random token the guest's browser presents from now on
// (the lobby page, then the media signalling); only its SHA-256 is stored.
func (l *Lobby) JoinGuest(ctx context.Context, siteID, instanceID int64, name, email string) (Participant, string, error) {
	name = strings.Join(strings.Fields(name), " ")
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return Participant{}, "", ErrGuestName
	}
	email = strings.TrimSpace(email)
	if email != "" {
		addrs, problem := ParseInvitees(email)
		if problem != "" || len(addrs) != 1 {
			return Participant{}, "", fmt.Errorf("%w: %s", ErrInvalidGuestEmail, problem)
		}
		email = addrs[0]
	}
	ticket, hash, err := newTicket()
	if err != nil {
		return Participant{}, "", err
	}
	var p Participant
	err = pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		in, err := l.instance(ctx, tx, siteID, instanceID, "FOR SHARE")
		if err != nil {
			return err
		}
		switch {
		case in.EndedAt != nil:
			return ErrEnded
		case !in.GuestsAllowed:
			return ErrGuestsNotAllowed
		case in.Locked:
			return ErrLocked
		}
		p, err = collectParticipant(tx.Query(ctx, insertGuest, siteID, instanceID, name, email, hash, l.now()))
		if err != nil {
			return fmt.Errorf("join as guest: %w", err)
		}
		return notify(ctx, tx, in.topics()...)
	})
	if err != nil {
		return Participant{}, "", err
	}
	return p, ticket, nil
}

// ErrInvalidGuestEmail refuses a guest's e-mail address that is not one.
var ErrInvalidGuestEmail = errors.New("not an e-mail address")

func newTicket() (string, []byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("guest ticket: %w", err)
	}
	ticket := base64.RawURLEncoding.EncodeToString(b)
	return ticket, hashTicket(ticket), nil
}

func hashTicket(ticket string) []byte {
	h := sha256.Sum256([]byte(ticket))
	return h[:]
}

// Guest returns the guest holding ticket on this site, or ErrNoParticipant.
func (l *Lobby) Guest(ctx context.Context, siteID int64, ticket string) (Participant, error) {
	if ticket == "" {
		return Participant{}, ErrNoParticipant
	}
	p, err := collectParticipant(l.pool.Query(ctx, `SELECT `+participantColumns+` FROM meeting_participants WHERE site_id = $1 AND ticket_hash = $2`, siteID, hashTicket(ticket)))
	if errors.Is(err, pgx.ErrNoRows) {
		return Participant{}, ErrNoParticipant
	}
	if err != nil {
		return Participant{}, fmt.Errorf("guest by ticket: %w", err)
	}
	return p, nil
}

// RejoinGuest brings back a guest (by ticket) who left or was removed: to
// the lobby, unless they are still admitted.
func (l *Lobby) RejoinGuest(ctx context.Context, siteID int64, ticket string) (Participant, error) {
	g, err := l.Guest(ctx, siteID, ticket)
	if err != nil {
		return Participant{}, err
	}
	var p Participant
	err = pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		in, err := l.instance(ctx, tx, siteID, g.InstanceID, "FOR SHARE")
		if err != nil {
			return err
		}
		if in.EndedAt != nil {
			return ErrEnded
		}
		if in.Locked && g.State != StateAdmitted {
			return ErrLocked
		}
		p, err = collectParticipant(tx.Query(ctx, `
UPDATE meeting_participants SET heartbeat_at = $4, left_at = NULL,
    state = CASE WHEN state = 'admitted' THEN 'admitted' ELSE 'lobby' END
WHERE site_id = $1 AND instance_id = $2 AND id = $3
RETURNING `+participantColumns, siteID, g.InstanceID, g.ID, l.now()))
		if err != nil {
			return fmt.Errorf("rejoin as guest: %w", err)
		}
		return notify(ctx, tx, in.topics()...)
	})
	return p, err
}

// Leave records that a participant left (a removed one stays removed).
func (l *Lobby) Leave(ctx context.Context, siteID, instanceID, participantID int64) error {
	return pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		in, err := l.instance(ctx, tx, siteID, instanceID, "")
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
UPDATE meeting_participants SET state = 'left', left_at = $4
WHERE site_id = $1 AND instance_id = $2 AND id = $3 AND state IN ('lobby', 'admitted')`, siteID, instanceID, participantID, l.now()); err != nil {
			return fmt.Errorf("leave: %w", err)
		}
		return notify(ctx, tx, in.topics()...)
	})
}

const heartbeat = `
UPDATE meeting_participants p SET heartbeat_at = $4
FROM (SELECT heartbeat_at AS previous FROM meeting_participants WHERE site_id = $1 AND instance_id = $2 AND id = $3) prev
WHERE p.site_id = $1 AND p.instance_id = $2 AND p.id = $3
RETURNING p.site_id, p.instance_id, p.id, p.user_id, p.guest_email, p.display_name, p.state, p.joined_at, p.admitted_at,
          p.left_at, p.heartbeat_at, prev.previous < $4::timestamptz - $5::interval AS returned`

// Heartbeat records that a participant's page is still open, and returns
// their current state (so their page learns of an admission or removal).
// Someone whose presence had lapsed reappears, and the others are told.
func (l *Lobby) Heartbeat(ctx context.Context, siteID, instanceID, participantID int64) (Participant, error) {
	now := l.now()
	rows, err := l.pool.Query(ctx, heartbeat, siteID, instanceID, participantID, now, PresenceTimeout)
	if err != nil {
		return Participant{}, fmt.Errorf("heartbeat: %w", err)
	}
	type beat struct {
		Participant
		Returned bool `db:"returned"`
	}
	b, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[beat])
	if errors.Is(err, pgx.ErrNoRows) {
		return Participant{}, ErrNoParticipant
	}
	if err != nil {
		return Participant{}, fmt.Errorf("heartbeat: %w", err)
	}
	if b.Returned && (b.State == StateAdmitted || b.State == StateLobby) {
		if err := notify(ctx, l.pool, InstanceTopic(siteID, instanceID)); err != nil {
			return Participant{}, err
		}
	}
	return b.Participant, nil
}

// Roster is who is in a live meeting and who waits, as everyone's page
// shows it.
type Roster struct {
	Instance Instance
	Present  []Participant // admitted, with a fresh heartbeat
	Waiting  []Participant // in the lobby, with a fresh heartbeat
}

// Roster reads the meeting's roster at this moment.
func (l *Lobby) Roster(ctx context.Context, siteID, instanceID int64) (Roster, error) {
	in, err := l.Instance(ctx, siteID, instanceID)
	if err != nil {
		return Roster{}, err
	}
	rows, err := l.pool.Query(ctx, `
SELECT `+participantColumns+` FROM meeting_participants
WHERE site_id = $1 AND instance_id = $2 AND state IN ('lobby', 'admitted') AND heartbeat_at > $3
ORDER BY joined_at, id`, siteID, instanceID, l.now().Add(-PresenceTimeout))
	if err != nil {
		return Roster{}, fmt.Errorf("roster: %w", err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByName[Participant])
	if err != nil {
		return Roster{}, fmt.Errorf("roster: %w", err)
	}
	r := Roster{Instance: in}
	for _, p := range list {
		if p.State == StateAdmitted {
			r.Present = append(r.Present, p)
		} else {
			r.Waiting = append(r.Waiting, p)
		}
	}
	return r, nil
}

// PastMeeting is an ended live meeting, for Past meetings.
type PastMeeting struct {
	InstanceID int64     `db:"id"`
	Title      string    `db:"title"`
	Number     string    `db:"number"` // the scheduled meeting's number, "" for a personal room
	Room       string    `db:"room"`   // the personal room's name, "" for a scheduled meeting
	StartedAt  time.Time `db:"started_at"`
	EndedAt    time.Time `db:"ended_at"`
	Attendees  []string  `db:"attendees"` // names of everyone admitted, in order of arrival
}

const selectPast = `
SELECT i.id, i.title, coalesce(m.number, '') AS number, coalesce(r.room, '') AS room, i.started_at, i.ended_at,
    ARRAY(SELECT p.display_name FROM meeting_participants p
          WHERE p.site_id = i.site_id AND p.instance_id = i.id AND p.admitted_at IS NOT NULL
          ORDER BY p.admitted_at, p.id) AS attendees
FROM meeting_instances i
LEFT JOIN meetings m ON m.site_id = i.site_id AND m.id = i.meeting_id
LEFT JOIN personal_rooms r ON r.site_id = i.site_id AND r.user_id = i.room_user_id
WHERE i.site_id = $1 AND i.ended_at IS NOT NULL
  AND (i.host_user_id = $2
       OR EXISTS (SELECT 1 FROM meeting_participants p
                  WHERE p.site_id = i.site_id AND p.instance_id = i.id AND p.user_id = $2 AND p.admitted_at IS NOT NULL)
       OR EXISTS (SELECT 1 FROM meeting_invitees v
                  WHERE v.site_id = i.site_id AND v.meeting_id = i.meeting_id AND v.email = $3))
ORDER BY i.ended_at DESC, i.id DESC
LIMIT $4 OFFSET $5`

// Past lists, newest first and a page at a time, the ended meetings v
// hosted, attended or was invited to, with who attended; more says whether
// another page follows.
func (l *Lobby) Past(ctx context.Context, v Viewer, limit, offset int) (list []PastMeeting, more bool, err error) {
	rows, err := l.pool.Query(ctx, selectPast, v.SiteID, v.UserID, addressKey(v.Email), limit+1, offset)
	if err != nil {
		return nil, false, fmt.Errorf("past meetings: %w", err)
	}
	list, err = pgx.CollectRows(rows, pgx.RowToStructByName[PastMeeting])
	if err != nil {
		return nil, false, fmt.Errorf("past meetings: %w", err)
	}
	if len(list) > limit {
		return list[:limit], true, nil
	}
	return list, false, nil
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
