package meetings

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/meetings-portal/portal/internal/pgnotify"
)

// eventsChannel is the one PostgreSQL channel every lobby change is
// announced on; the payload names the topic. One channel means one LISTEN
// per process, whatever the number of meetings.
const eventsChannel = "meeting_events"

// Topic is what a page waits on: a live meeting, or a meeting or personal
// room that has not started yet.
type Topic struct {
	SiteID int64
	Kind   string // "instance", "meeting" or "room"
	ID     int64
}

// InstanceTopic changes with the roster and state of a live meeting.
func InstanceTopic(siteID, instanceID int64) Topic { return Topic{siteID, "instance", instanceID} }

// MeetingTopic changes when a scheduled meeting starts or ends.
func MeetingTopic(siteID, meetingID int64) Topic { return Topic{siteID, "meeting", meetingID} }

// RoomTopic changes when a personal room (by owner) starts or ends.
func RoomTopic(siteID, ownerID int64) Topic { return Topic{siteID, "room", ownerID} }

func (t Topic) String() string { return fmt.Sprintf("%d/%s/%d", t.SiteID, t.Kind, t.ID) }

func parseTopic(s string) (Topic, bool) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 {
		return Topic{}, false
	}
	site, err1 := strconv.ParseInt(parts[0], 10, 64)
	id, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil {
		return Topic{}, false
	}
	return Topic{site, parts[1], id}, true
}

type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// notify announces changes; inside a transaction PostgreSQL delivers them
// at commit, so a woken reader always sees the change.
func notify(ctx context.Context, q execer, topics ...Topic) error {
	for _, t := range topics {
		if _, err := q.Exec(ctx, `SELECT pg_notify($1, $2)`, eventsChannel, t.String()); err != nil {
			return fmt.Errorf("notify %s: %w", t, err)
		}
	}
	return nil
}

// Watcher holds one listening connection per process and wakes the
// in-process subscribers of a topic (the server-sent-event streams of the
// people on a meeting page) when any portal process changes it.
type Watcher struct {
	config *pgx.ConnConfig
	log    *slog.Logger

	mu    sync.Mutex
	subs  map[Topic]map[chan struct{}]struct{}
	ready chan struct{}
	once  sync.Once
	done  chan struct{}
}

// NewWatcher returns a Watcher that listens on a connection made with
// config (straight to PostgreSQL: LISTEN needs a session of its own); call
// Run.
func NewWatcher(config *pgx.ConnConfig, log *slog.Logger) *Watcher {
	return &Watcher{
		config: config, log: log,
		subs: map[Topic]map[chan struct{}]struct{}{}, ready: make(chan struct{}), done: make(chan struct{}),
	}
}

// Subscribe returns a channel that receives a value after each change of t
// (several changes in a row may come as one: the subscriber re-reads the
// state) and the function that ends the subscription.
func (w *Watcher) Subscribe(t Topic) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	if w.subs[t] == nil {
		w.subs[t] = map[chan struct{}]struct{}{}
	}
	w.subs[t][ch] = struct{}{}
	w.mu.Unlock()
	return ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.subs[t], ch)
		if len(w.subs[t]) == 0 {
			delete(w.subs, t)
		}
	}
}

// Ready is closed once the Watcher first listens.
func (w *Watcher) Ready() <-chan struct{} { return w.ready }

// Done is closed once Run has returned: the process is shutting down, and
// the pages' event streams end so that browsers reconnect to another
// process.
func (w *Watcher) Done() <-chan struct{} { return w.done }

// Run listens until ctx ends, reconnecting after a lost connection. It
// listens on a connection of its own, not one of the pool's, which serve
// requests. Run it once per Watcher.
func (w *Watcher) Run(ctx context.Context) {
	defer close(w.done)
	l := pgnotify.Listener{
		Config: w.config, Channels: []string{eventsChannel}, Log: w.log,
		Connected: func() {
			w.once.Do(func() { close(w.ready) })
			// Changes made while not listening were missed: everyone
			// re-reads.
			w.wakeAll()
		},
		Notified: func(n *pgconn.Notification) {
			if t, ok := parseTopic(n.Payload); ok {
				w.wake(t)
			}
		},
	}
	l.Run(ctx)
}

func (w *Watcher) wake(t Topic) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.subs[t] {
		select {
		case ch <- struct{}{}:
		default: // already has a wake-up pending
		}
	}
}

func (w *Watcher) wakeAll() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, subs := range w.subs {
		for ch := range subs {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
}
