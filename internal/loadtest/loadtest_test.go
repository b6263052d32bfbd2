package loadtest

import (
	"testing"
	"time"
)

// Rounds of one kind add up to one run: the rate over their summed time,
// percentiles over every latency, statuses counted together.
func TestResultAddSumsRounds(t *testing.T) {
	var total Result
	total.Add(Result{Sent: 3, OK: 2, Errors: 1, Elapsed: time.Second, ByStatus: map[int]int{303: 2},
		latencies: []time.Duration{10 * time.Millisecond, 30 * time.Millisecond}})
	total.Add(Result{Sent: 2, OK: 2, Elapsed: time.Second, ByStatus: map[int]int{303: 1, 500: 1},
		latencies: []time.Duration{20 * time.Millisecond, 40 * time.Millisecond}})
	if total.Sent != 5 || total.OK != 4 || total.Errors != 1 || total.Elapsed != 2*time.Second {
		t.Errorf("sums: %+v", total)
	}
	if got := total.PerSecond(); got != 2 {
		t.Errorf("rate %v, want 2 a second", got)
	}
	if got := total.Percentile(100); got != 40*time.Millisecond {
		t.Errorf("max %v, want 40ms", got)
	}
	if got := total.Percentile(0); got != 10*time.Millisecond {
		t.Errorf("min %v, want 10ms", got)
	}
	if total.ByStatus[303] != 3 || total.ByStatus[500] != 1 {
		t.Errorf("statuses %v", total.ByStatus)
	}
}
