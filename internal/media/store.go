package media

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store records in PostgreSQL which portal process hosts each room's media,
// so that several processes behind a load balancer agree on one SFU per
// meeting. A process claims a room before serving its signalling, renews
// its claims with Heartbeat, and a room whose owner stopped renewing
// (crashed, partitioned) is taken over by the next process that claims it.
type Store struct {
	pool      *pgxpool.Pool
	processID string
	mediaURL  string
	ttl       time.Duration
}

// NewStore returns the store of the process processID, whose signalling is
// reachable at mediaURL (where the other portal processes forward the
// signalling of the rooms this one owns, e.g. "http://10.0.0.5:8080"). A
// claim not renewed within ttl (default 30 s) may be taken over.
func NewStore(pool *pgxpool.Pool, processID, mediaURL string, ttl time.Duration) *Store {
	if ttl <= 0 {
		ttl = 30 * time.Second
	}
	return &Store{pool: pool, processID: processID, mediaURL: mediaURL, ttl: ttl}
}

// Owner is the process hosting a room's media.
type Owner struct {
	ProcessID   string
	MediaURL    string
	Self        bool // this process
	HeartbeatAt time.Time
}

// The insert wins when nobody owns the room; the update when this process
// already does, or when the owner's heartbeat is older than the TTL (it is
// gone). Otherwise nothing is returned and the current owner is read.
const claimRoom = `
INSERT INTO media_rooms AS r (site_id, meeting_key, process_id, media_url)
VALUES ($1, $2, $3, $4)
ON CONFLICT (site_id, meeting_key) DO UPDATE
   SET process_id = EXCLUDED.process_id, media_url = EXCLUDED.media_url, heartbeat_at = now(),
       claimed_at = CASE WHEN r.process_id = EXCLUDED.process_id THEN r.claimed_at ELSE now() END
 WHERE r.process_id = EXCLUDED.process_id OR r.heartbeat_at < now() - make_interval(secs => $5)
RETURNING process_id, media_url, heartbeat_at`

const roomOwner = `
SELECT process_id, media_url, heartbeat_at FROM media_rooms WHERE site_id = $1 AND meeting_key = $2`

// Claim makes this process the owner of the room unless a live process
// already is, and returns the owner either way.
func (s *Store) Claim(ctx context.Context, siteID int64, meetingKey string) (Owner, error) {
	var o Owner
	err := s.pool.QueryRow(ctx, claimRoom, siteID, meetingKey, s.processID, s.mediaURL, s.ttl.Seconds()).
		Scan(&o.ProcessID, &o.MediaURL, &o.HeartbeatAt)
	if errors.Is(err, pgx.ErrNoRows) {
		err = s.pool.QueryRow(ctx, roomOwner, siteID, meetingKey).Scan(&o.ProcessID, &o.MediaURL, &o.HeartbeatAt)
	}
	if err != nil {
		return Owner{}, fmt.Errorf("claim media room %d/%s: %w", siteID, meetingKey, err)
	}
	o.Self = o.ProcessID == s.processID
	return o, nil
}

// Heartbeat renews every claim of this process. It spans sites on purpose:
// it is the process's own liveness, not a tenant's data.
const heartbeat = `UPDATE media_rooms SET heartbeat_at = now() WHERE process_id = $1`

// Heartbeat renews this process's claims and returns how many it holds.
func (s *Store) Heartbeat(ctx context.Context) (int64, error) {
	tag, err := s.pool.Exec(ctx, heartbeat, s.processID)
	if err != nil {
		return 0, fmt.Errorf("media rooms heartbeat: %w", err)
	}
	return tag.RowsAffected(), nil
}

// RunHeartbeat renews the claims every ttl/3 until ctx ends.
func (s *Store) RunHeartbeat(ctx context.Context, onError func(error)) {
	t := time.NewTicker(s.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.Heartbeat(ctx); err != nil && onError != nil && ctx.Err() == nil {
				onError(err)
			}
		}
	}
}

const releaseRoom = `DELETE FROM media_rooms WHERE site_id = $1 AND meeting_key = $2 AND process_id = $3`

// Release gives up this process's claim on the room (its meeting ended or
// emptied). A claim held by another process is left alone.
func (s *Store) Release(ctx context.Context, siteID int64, meetingKey string) error {
	if _, err := s.pool.Exec(ctx, releaseRoom, siteID, meetingKey, s.processID); err != nil {
		return fmt.Errorf("release media room %d/%s: %w", siteID, meetingKey, err)
	}
	return nil
}

const releaseAll = `DELETE FROM media_rooms WHERE process_id = $1`

// ReleaseAll gives up every claim of this process, at shutdown, so that
// other processes need not wait for the TTL.
func (s *Store) ReleaseAll(ctx context.Context) error {
	if _, err := s.pool.Exec(ctx, releaseAll, s.processID); err != nil {
		return fmt.Errorf("release media rooms: %w", err)
	}
	return nil
}
