// Package loadtest measures sign-ins under load: it posts pre-signed,
// Azure-shaped SAML responses to a running portal (and, side by side, to a
// minimal crewjam samlsp service provider) with many concurrent clients or
// at a fixed rate, and reports sign-ins per second, latency percentiles,
// errors by status, and the server's CPU per sign-in and peak memory read
// from /proc. The entry point is TestLoad (load_test.go); docs/PERFORMANCE.md
// has the commands.
package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Request is one prepared POST to an ACS, or one GET of a page.
type Request struct {
	Host      string // the site's host, sent as the Host header
	Body      []byte // the form: SAMLResponse=…
	Forwarded string // the client address, sent as X-Forwarded-For
	// Path, when set, makes the request a GET of this path (on Load.URL's
	// server) with Cookie, which succeeds with 200.
	Path   string
	Cookie string
}

// Load is how requests are sent.
type Load struct {
	// URL is where every request goes (the server's address and /saml/acs).
	URL string
	// Clients is the number of concurrent connections.
	Clients int
	// Rate, when above zero, sends requests at this many per second
	// whatever the answers (open loop: a slow answer does not delay the
	// next request, so latency is measured without coordinated omission);
	// zero sends each client's next request as soon as its previous one is
	// answered (closed loop, for the peak rate).
	Rate float64
}

// Result is what one run measured.
type Result struct {
	Sent      int
	OK        int // a sign-in answered with a redirect (302 or 303), a page with 200
	ByStatus  map[int]int
	Errors    int // transport errors
	Elapsed   time.Duration
	latencies []time.Duration
}

// PerSecond is successful sign-ins per second.
func (r Result) PerSecond() float64 { return float64(r.OK) / r.Elapsed.Seconds() }

// Add counts other's requests in r, as one run that lasted both runs'
// time.
func (r *Result) Add(other Result) {
	r.Sent += other.Sent
	r.OK += other.OK
	r.Errors += other.Errors
	r.Elapsed += other.Elapsed
	r.latencies = append(r.latencies, other.latencies...)
	if r.ByStatus == nil {
		r.ByStatus = map[int]int{}
	}
	for status, n := range other.ByStatus {
		r.ByStatus[status] += n
	}
}

// Percentile is the latency below which p (0–100) percent of the answered
// requests fell.
func (r Result) Percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	sorted := slices.Clone(r.latencies)
	slices.Sort(sorted)
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i]
}

// Run sends every request once, as load says, and measures the answers.
//
// The client is fasthttp's, not net/http's: the generator shares the
// portal's two cores, and net/http's client spends about 0.19 ms of CPU a
// request there (a reader and a writer goroutine per connection handing
// each request over: futex wake-ups and the scheduler were 40 % of its
// profile), which the portal's figures would lose to it. fasthttp sends
// and reads on the caller's goroutine. Both speak plain HTTP/1.1 with
// keep-alive to the same server.
func Run(ctx context.Context, requests []Request, load Load) Result {
	target, err := url.Parse(load.URL)
	if err != nil {
		return Result{Sent: len(requests), Errors: len(requests), ByStatus: map[int]int{}}
	}
	client := &fasthttp.HostClient{Addr: target.Host, MaxConns: load.Clients,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second,
		// Open loop, more requests may be due than there are connections:
		// they wait for one, as net/http's MaxConnsPerHost makes them.
		MaxConnWaitTimeout: 30 * time.Second,
		// A page of tens of kilobytes is read in one or two system calls.
		ReadBufferSize: 64 << 10,
		// An answer that fails is counted, never retried behind the count's back.
		MaxIdemponentCallAttempts: 1,
		Name:                      "portal-loadgen", DisablePathNormalizing: true}
	defer client.CloseIdleConnections()

	var mu sync.Mutex
	result := Result{ByStatus: map[int]int{}}
	record := func(req Request, status int, latency time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		result.Sent++
		if err != nil {
			result.Errors++
			return
		}
		result.ByStatus[status]++
		switch {
		case req.Path == "" && (status == http.StatusSeeOther || status == http.StatusFound),
			req.Path != "" && status == http.StatusOK:
			result.OK++
		}
		result.latencies = append(result.latencies, latency)
	}
	send := func(req Request, scheduled time.Time) {
		httpReq, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(httpReq)
		defer fasthttp.ReleaseResponse(resp)
		if req.Path == "" {
			httpReq.SetRequestURI(load.URL)
			httpReq.Header.SetMethod(http.MethodPost)
			httpReq.Header.SetContentType("application/x-www-form-urlencoded")
			httpReq.SetBodyRaw(req.Body)
		} else {
			// A page's Path is on the same server as the ACS.
			httpReq.SetRequestURI(target.Scheme + "://" + target.Host + req.Path)
			httpReq.Header.SetMethod(http.MethodGet)
		}
		httpReq.UseHostHeader = true
		httpReq.Header.SetHost(req.Host)
		if req.Cookie != "" {
			httpReq.Header.Set("Cookie", req.Cookie)
		}
		httpReq.Header.Set("X-Forwarded-For", req.Forwarded)
		if err := client.Do(httpReq, resp); err != nil {
			record(req, 0, 0, err)
			return
		}
		// Measured from when the request was due, not when it was sent.
		record(req, resp.StatusCode(), time.Since(scheduled), nil)
	}

	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	if load.Rate <= 0 {
		for range load.Clients {
			wg.Go(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= len(requests) || ctx.Err() != nil {
						return
					}
					send(requests[i], time.Now())
				}
			})
		}
	} else {
		interval := time.Duration(float64(time.Second) / load.Rate)
		slots := make(chan struct{}, load.Clients*4)
		for i, req := range requests {
			due := start.Add(time.Duration(i) * interval)
			time.Sleep(time.Until(due))
			if ctx.Err() != nil {
				break
			}
			slots <- struct{}{}
			wg.Go(func() {
				defer func() { <-slots }()
				send(req, due)
			})
		}
	}
	wg.Wait()
	result.Elapsed = time.Since(start)
	return result
}

// ProcessStats are a process's CPU time and peak resident memory.
type ProcessStats struct {
	CPU     time.Duration // user + system
	PeakRSS int64         // bytes (VmHWM)
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on Linux.
const clockTicks = 100

// Stats reads /proc for process pid.
func Stats(pid int) (ProcessStats, error) {
	cpu, err := cpuTime(pid)
	if err != nil {
		return ProcessStats{}, err
	}
	status, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return ProcessStats{}, fmt.Errorf("read status of %d: %w", pid, err)
	}
	var peak int64
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			peak = kb << 10
		}
	}
	return ProcessStats{CPU: cpu, PeakRSS: peak}, nil
}

func cpuTime(pid int) (time.Duration, error) {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, fmt.Errorf("read stat of %d: %w", pid, err)
	}
	// The command name (field 2) may hold spaces: count fields after ")".
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("stat of %d: too few fields", pid)
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// PostgresCPU is the CPU time of every PostgreSQL server process on this
// machine (the database's share of a sign-in), summed.
func PostgresCPU() time.Duration {
	entries, _ := os.ReadDir("/proc")
	var total time.Duration
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		if err != nil || !strings.HasPrefix(strings.TrimSpace(string(comm)), "postgres") {
			continue
		}
		if cpu, err := cpuTime(pid); err == nil {
			total += cpu
		}
	}
	return total
}
