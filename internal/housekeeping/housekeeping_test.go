package housekeeping

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meetings-portal/portal/internal/dbtest"
)

func TestOnlyOneProcessRunsARoundAtATime(t *testing.T) {
	pool := dbtest.New(t)
	ctx := context.Background()
	release := make(chan struct{})
	started := make(chan struct{})
	var runs atomic.Int32
	slow := &Runner{Pool: pool, BatchSize: 10, Log: slog.New(slog.DiscardHandler), Jobs: []Job{{
		Name: "slow", Run: func(context.Context, int) (int64, error) {
			runs.Add(1)
			close(started)
			<-release
			return 0, nil
		},
	}}}
	other := &Runner{Pool: pool, BatchSize: 10, Log: slog.New(slog.DiscardHandler), Jobs: []Job{{
		Name: "other", Run: func(context.Context, int) (int64, error) { runs.Add(1); return 0, nil },
	}}}
	done := make(chan error)
	go func() { _, err := slow.Round(ctx); done <- err }()
	<-started
	ran, err := other.Round(ctx)
	if err != nil || ran {
		t.Fatalf("second process ran a round while the first held the lock: ran=%v err=%v", ran, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if ran, err := other.Round(ctx); err != nil || !ran {
		t.Fatalf("after the first finished: ran=%v err=%v", ran, err)
	}
	if runs.Load() != 2 {
		t.Fatalf("runs = %d, want 2", runs.Load())
	}
}

func TestRoundPassesTheBatchSize(t *testing.T) {
	var got int
	r := &Runner{Pool: dbtest.New(t), BatchSize: 250, Interval: time.Hour, Log: slog.New(slog.DiscardHandler),
		Jobs: []Job{{Name: "x", Run: func(_ context.Context, limit int) (int64, error) { got = limit; return 0, nil }}}}
	if _, err := r.Round(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got != 250 {
		t.Fatalf("limit %d", got)
	}
}

func TestRoundKeepsGoingWhileBatchesAreFull(t *testing.T) {
	left := int64(2500)
	calls := 0
	r := &Runner{Pool: dbtest.New(t), BatchSize: 1000, Log: slog.New(slog.DiscardHandler),
		Jobs: []Job{{Name: "backlog", Run: func(_ context.Context, limit int) (int64, error) {
			calls++
			n := min(left, int64(limit))
			left -= n
			return n, nil
		}}}}
	if _, err := r.Round(context.Background()); err != nil {
		t.Fatal(err)
	}
	if left != 0 || calls != 3 {
		t.Fatalf("left %d after %d batches; want the backlog drained in 3", left, calls)
	}
}

func TestRoundLogsEachJobAsWhatItDid(t *testing.T) {
	var logs strings.Builder
	r := &Runner{Pool: dbtest.New(t), BatchSize: 100, Log: slog.New(slog.NewTextHandler(&logs, nil)), Jobs: []Job{
		{Name: "sessions", Run: func(context.Context, int) (int64, error) { return 3, nil }},
		{Name: "metadata-refresh", Run: func(context.Context, int) (int64, error) { return 2, nil },
			Did: "housekeeping refreshed IdP metadata", Unit: "sites"},
		{Name: "idle", Run: func(context.Context, int) (int64, error) { return 0, nil }},
	}}
	if _, err := r.Round(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`msg="housekeeping deleted expired rows" job=sessions rows=3`,
		`msg="housekeeping refreshed IdP metadata" job=metadata-refresh sites=2`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %s:\n%s", want, logs.String())
		}
	}
	if strings.Contains(logs.String(), "metadata-refresh rows") || strings.Contains(logs.String(), "job=idle") {
		t.Errorf("a refresh logged as a deletion, or a job that did nothing logged:\n%s", logs.String())
	}
}
