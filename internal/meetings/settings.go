package meetings

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/meetings-portal/portal/internal/users"
)

// Who may host, the site setting's values.
const (
	HostsAll      = "all"       // every user
	HostsHostRole = "host-role" // only users with the host role
)

// ErrInvalidSetting refuses a settings value outside its choices.
var ErrInvalidSetting = errors.New("invalid meeting setting")

// Settings are a site's meeting settings, set on the admin pages.
type Settings struct {
	DefaultTimeZone string `db:"default_time_zone"` // for users who have not chosen one
	Hosts           string `db:"hosts"`             // HostsAll or HostsHostRole
}

// DefaultSettings apply to a site whose admin has not changed them.
var DefaultSettings = Settings{DefaultTimeZone: "UTC", Hosts: HostsAll}

// Settings returns the site's meeting settings.
func (s *Store) Settings(ctx context.Context, siteID int64) (Settings, error) {
	return s.settings(ctx, s.pool, siteID)
}

func (s *Store) settings(ctx context.Context, q querier, siteID int64) (Settings, error) {
	rows, err := q.Query(ctx, `SELECT default_time_zone, hosts FROM meeting_settings WHERE site_id = $1`, siteID)
	if err != nil {
		return Settings{}, fmt.Errorf("meeting settings: %w", err)
	}
	settings, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Settings])
	if errors.Is(err, pgx.ErrNoRows) {
		return DefaultSettings, nil
	}
	if err != nil {
		return Settings{}, fmt.Errorf("meeting settings: %w", err)
	}
	return settings, nil
}

const upsertSettings = `
INSERT INTO meeting_settings (site_id, default_time_zone, hosts, updated_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (site_id) DO UPDATE SET default_time_zone = EXCLUDED.default_time_zone, hosts = EXCLUDED.hosts, updated_at = EXCLUDED.updated_at`

// SaveSettings replaces the site's meeting settings.
func (s *Store) SaveSettings(ctx context.Context, siteID int64, settings Settings) error {
	if _, err := LoadZone(settings.DefaultTimeZone); err != nil {
		return err
	}
	if settings.Hosts != HostsAll && settings.Hosts != HostsHostRole {
		return fmt.Errorf("%w: hosts %q", ErrInvalidSetting, settings.Hosts)
	}
	if _, err := s.pool.Exec(ctx, upsertSettings, siteID, settings.DefaultTimeZone, settings.Hosts, s.now()); err != nil {
		return fmt.Errorf("save meeting settings: %w", err)
	}
	return nil
}

// TimeZone returns the zone every time is shown and entered in for a user:
// theirs, or else the site's default. chosen is false until the user picks
// one, which is when the Preferences page offers the browser's zone.
func (s *Store) TimeZone(ctx context.Context, siteID, userID int64) (zone string, chosen bool, err error) {
	v, err := s.ViewerSettings(ctx, siteID, userID)
	return v.Zone, v.Chosen, err
}

// ViewerSettings are a site's meeting settings with the zone one of its
// users sees times in (TimeZone), read together: the pages that need both
// make one round trip to PostgreSQL. The user's zone is theirs, or else the
// site's default.
type ViewerSettings struct {
	Settings
	Zone   string
	Chosen bool // the user picked Zone (TimeZone's chosen)
}

const selectViewerSettings = `
SELECT ms.default_time_zone, ms.hosts, up.time_zone
FROM (VALUES (1)) AS one (x)
LEFT JOIN meeting_settings ms ON ms.site_id = $1
LEFT JOIN user_preferences up ON up.site_id = $1 AND up.user_id = $2`

// ViewerSettings returns the site's meeting settings and userID's zone.
func (s *Store) ViewerSettings(ctx context.Context, siteID, userID int64) (ViewerSettings, error) {
	var defaultZone, hosts, zone *string
	if err := s.pool.QueryRow(ctx, selectViewerSettings, siteID, userID).Scan(&defaultZone, &hosts, &zone); err != nil {
		return ViewerSettings{}, fmt.Errorf("meeting settings and time zone of user %d: %w", userID, err)
	}
	v := ViewerSettings{Settings: DefaultSettings}
	if defaultZone != nil && hosts != nil {
		v.Settings = Settings{DefaultTimeZone: *defaultZone, Hosts: *hosts}
	}
	v.Zone = v.DefaultTimeZone
	if zone != nil {
		v.Zone, v.Chosen = *zone, true
	}
	return v, nil
}

// Location is TimeZone as a *time.Location.
func (s *Store) Location(ctx context.Context, siteID, userID int64) (*time.Location, error) {
	zone, _, err := s.TimeZone(ctx, siteID, userID)
	if err != nil {
		return nil, err
	}
	return mustZone(zone), nil
}

const upsertTimeZone = `
INSERT INTO user_preferences (site_id, user_id, time_zone, updated_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (site_id, user_id) DO UPDATE SET time_zone = EXCLUDED.time_zone, updated_at = EXCLUDED.updated_at`

// SetTimeZone records a user's zone, one of TimeZones (else
// ErrUnknownTimeZone).
func (s *Store) SetTimeZone(ctx context.Context, siteID, userID int64, zone string) error {
	if _, err := LoadZone(zone); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, upsertTimeZone, siteID, userID, zone, s.now()); err != nil {
		return fmt.Errorf("set time zone of user %d: %w", userID, err)
	}
	return nil
}

var roomUnsafe = regexp.MustCompile(`[^a-z0-9.-]+`)

// PersonalRoom is the room name a user's personal room is created with: the
// local part of their UserID, as Webex names personal rooms.
func PersonalRoom(u users.User) string {
	local, _, _ := strings.Cut(u.UID, "@")
	return strings.Trim(roomUnsafe.ReplaceAllString(strings.ToLower(local), "-"), "-.")
}

// Room is a user's personal room, /meet/<Name>.
type Room struct {
	SiteID        int64     `db:"site_id"`
	UserID        int64     `db:"user_id"` // its owner, who hosts it
	Name          string    `db:"room"`
	GuestsAllowed bool      `db:"guests_allowed"`
	CreatedAt     time.Time `db:"created_at"`
}

// URL is <site URL>/meet/<room>.
func (r Room) URL(site Site) string { return site.URL + "/meet/" + r.Name }

const roomColumns = `site_id, user_id, room, guests_allowed, created_at`

const insertRoom = `
INSERT INTO personal_rooms (site_id, user_id, room, created_at) VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING
RETURNING ` + roomColumns

// RoomFor returns the user's personal room, creating it on first use: named
// by PersonalRoom from their user ID, with "-2", "-3", … when another user
// of the site has that name already. Once created, it never changes, so a
// link someone shared keeps working.
func (s *Store) RoomFor(ctx context.Context, u users.User) (Room, error) {
	room, err := s.roomOf(ctx, u.SiteID, u.ID)
	if !errors.Is(err, ErrNotFound) {
		return room, err
	}
	base := PersonalRoom(u)
	if base == "" {
		base = "room"
	}
	if len(base) > 70 {
		base = strings.TrimRight(base[:70], "-.")
	}
	for n := 1; n <= 1000; n++ {
		name := base
		if n > 1 {
			name = base + "-" + strconv.Itoa(n)
		}
		rows, err := s.pool.Query(ctx, insertRoom, u.SiteID, u.ID, name, s.now())
		if err != nil {
			return Room{}, fmt.Errorf("create personal room: %w", err)
		}
		room, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Room])
		if err == nil {
			return room, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return Room{}, fmt.Errorf("create personal room: %w", err)
		}
		// Nothing inserted: the name is taken, or this user's room was
		// created meanwhile by a concurrent request.
		if room, err := s.roomOf(ctx, u.SiteID, u.ID); !errors.Is(err, ErrNotFound) {
			return room, err
		}
	}
	return Room{}, fmt.Errorf("create personal room: no free name from %q", base)
}

func (s *Store) roomOf(ctx context.Context, siteID, userID int64) (Room, error) {
	return s.room(ctx, `SELECT `+roomColumns+` FROM personal_rooms WHERE site_id = $1 AND user_id = $2`, siteID, userID)
}

var roomName = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]{0,78}[a-z0-9])?$`)

// RoomByName returns the room at /meet/<name> on a site.
func (s *Store) RoomByName(ctx context.Context, siteID int64, name string) (Room, error) {
	if !roomName.MatchString(name) {
		return Room{}, ErrNotFound
	}
	return s.room(ctx, `SELECT `+roomColumns+` FROM personal_rooms WHERE site_id = $1 AND room = $2`, siteID, name)
}

func (s *Store) room(ctx context.Context, query string, args ...any) (Room, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return Room{}, fmt.Errorf("personal room: %w", err)
	}
	room, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Room])
	if errors.Is(err, pgx.ErrNoRows) {
		return Room{}, ErrNotFound
	}
	if err != nil {
		return Room{}, fmt.Errorf("personal room: %w", err)
	}
	return room, nil
}

// SetRoomGuests lets guests into the owner's room through the lobby, or not.
func (s *Store) SetRoomGuests(ctx context.Context, siteID, userID int64, allowed bool) error {
	tag, err := s.pool.Exec(ctx, `UPDATE personal_rooms SET guests_allowed = $3 WHERE site_id = $1 AND user_id = $2`, siteID, userID, allowed)
	if err != nil {
		return fmt.Errorf("personal room guests: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}
