package loadtest

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	mathrand "math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/crewjam/saml"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/meetings-portal/portal/internal/database"
	"github.com/meetings-portal/portal/internal/dbtest"
	"github.com/meetings-portal/portal/internal/portaltest"
	"github.com/meetings-portal/portal/internal/seal"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/sso/ssotest"
)

// Without flags TestLoad is a smoke run (a few sites and sign-ins) that
// proves the generator, the seeder and the three servers work; the flags
// make it the measurement docs/PERFORMANCE.md reports.
var (
	sitesFlag          = flag.Int("loadgen.sites", 3, "sites to seed")
	usersFlag          = flag.Int("loadgen.users", 10, "users per site")
	eventsFlag         = flag.Int("loadgen.events", 300, "sign-in events to seed")
	requestsFlag       = flag.Int("loadgen.requests", 60, "sign-ins sent to each server")
	clientsFlag        = flag.Int("loadgen.clients", 4, "concurrent clients")
	rateFlag           = flag.Float64("loadgen.rate", 0, "requests per second, open loop; 0: closed loop, as fast as the clients go")
	newUsersFlag       = flag.Bool("loadgen.new-users", false, "every sign-in is a user's first (just-in-time account creation)")
	compareFirstFlag   = flag.Bool("loadgen.compare-first", false, "send -loadgen.requests sign-ins of existing users and as many first sign-ins to one portal, in alternating rounds, and compare their rates")
	roundsFlag         = flag.Int("loadgen.rounds", 6, "with -loadgen.compare-first: the rounds of each kind")
	databaseFlag       = flag.String("loadgen.database", "", "name of a database to seed once and reuse across runs (the 10,000-site scale test); default: a fresh one per run")
	minimalFlag        = flag.Bool("loadgen.minimal-sp", true, "also measure a minimal crewjam samlsp service provider")
	profileFlag        = flag.String("loadgen.cpuprofile", "", "write the portal's CPU profile, taken while the sign-ins are sent (TestPages: the mixed pages at the peak), to this file (go tool pprof FILE)")
	profileSecondsFlag = flag.Int("loadgen.cpuprofile-seconds", 10, "how long the CPU profile lasts, from the first sign-in")
	heapProfileFlag    = flag.String("loadgen.heapprofile", "", "write the portal's heap profile, taken when the sign-ins are done (TestPages: the mixed pages at the peak), to this file (go tool pprof -sample_index=inuse_space FILE)")
)

// secretKey is the PORTAL_SECRET_KEY of the portal under load.
var secretKey = bytes.Repeat([]byte{0x5a}, seal.KeySize)

func TestLoad(t *testing.T) {
	ctx := context.Background()
	bin := t.TempDir()
	build(t, filepath.Join(bin, "portal"), "../../cmd/portal")
	if *minimalFlag {
		build(t, filepath.Join(bin, "minimalsp"), "./minimalsp")
	}
	dbURL, idp := loadDatabase(t)
	portal, port, metrics, hosts := startPortal(t, filepath.Join(bin, "portal"), dbURL)

	// The same responses go to crewjam's ParseResponse alone, then to the
	// portal: both verify exactly the same documents.
	requests := portalRequests(t, idp, hosts, *newUsersFlag && !*compareFirstFlag)
	parse := parseAlone(t, idp, hosts, requests)
	load := Load{URL: fmt.Sprintf("http://127.0.0.1:%d/saml/acs", port), Clients: *clientsFlag, Rate: *rateFlag}
	if *compareFirstFlag {
		compareFirstSignIns(ctx, t, portal, load, requests, portalRequests(t, idp, hosts, true), parse)
		return
	}
	requests, warm := warmUp(ctx, requests, load)
	profileDone := profile(t, metrics)
	pgBefore, genBefore := PostgresCPU(), selfCPU(t)
	before := stats(t, portal.Process.Pid)
	got := Run(ctx, requests, load)
	after := stats(t, portal.Process.Pid)
	pgCPU, genCPU := PostgresCPU()-pgBefore, selfCPU(t)-genBefore
	profileDone()
	heapProfile(t, metrics)

	report := &strings.Builder{}
	tw := tabwriter.NewWriter(report, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "server\tsign-ins/s\tp50\tp95\tp99\tmax\tCPU/sign-in\tPostgreSQL CPU/sign-in\tpeak RSS\tstatuses\t\n")
	fmt.Fprintf(tw, "crewjam ParseResponse alone (%d workers)\t%.0f\t\t\t\t\t%s\t\t\t%d ok, %d refused\t\n",
		runtime.GOMAXPROCS(0), parse.perSecond, parse.cpuEach.Round(time.Microsecond), parse.ok, parse.failed)
	row(tw, "portal", got, after.CPU-before.CPU, pgCPU, after.PeakRSS)
	if *minimalFlag {
		minimal, cpu, rss := runMinimalSP(t, filepath.Join(bin, "minimalsp"), idp)
		row(tw, "minimal samlsp SP", minimal, cpu, 0, rss)
		fmt.Fprintf(tw, "\t\t\t\t\t\t\t\t\t\t\n")
		fmt.Fprintf(tw, "portal / minimal samlsp SP\t%.2f\t\t\t\t\t\t\t\t\t\n", got.PerSecond()/minimal.PerSecond())
	}
	fmt.Fprintf(tw, "portal / ParseResponse alone\t%.2f\t\t\t\t\t\t\t\t\t\n", got.PerSecond()/parse.perSecond)
	tw.Flush()
	// The generator shares the cores with the portal and PostgreSQL: what
	// one sign-in costs the machine as a whole bounds the rate.
	if got.OK > 0 {
		each := func(d time.Duration) time.Duration { return (d / time.Duration(got.OK)).Round(time.Microsecond) }
		fmt.Fprintf(report, "\nCPU of one portal sign-in on the machine: portal %s + PostgreSQL %s + load generator %s = %s (ParseResponse alone: %s a response)\n",
			each(after.CPU-before.CPU), each(pgCPU), each(genCPU), each(after.CPU-before.CPU+pgCPU+genCPU), parse.cpuEach.Round(time.Microsecond))
	}
	t.Logf("%d sites, %d users each, %d sign-ins per server (%s; and %d to warm up), %d clients, rate %s, GOMAXPROCS %d\n%s",
		*sitesFlag, *usersFlag, len(requests), map[bool]string{true: "new users", false: "existing users"}[*newUsersFlag], warm,
		*clientsFlag, rateLabel(*rateFlag), runtime.GOMAXPROCS(0), report)

	if parse.failed != 0 {
		t.Errorf("ParseResponse refused %d of the responses", parse.failed)
	}
	if got.OK != len(requests) || got.Errors != 0 {
		t.Errorf("portal: %d of %d signed in, %d transport errors, statuses %v; its log ends:\n%s",
			got.OK, len(requests), got.Errors, got.ByStatus, logTail(portal))
	}
}

// startPortal runs the portal binary on dbURL, trusting the load
// generator as its load balancer, and waits until it is ready. It returns
// the process, its port, its metrics address (with the profiler) and hosts.
func startPortal(t *testing.T, bin, dbURL string) (*exec.Cmd, int, string, sites.Hosts) {
	t.Helper()
	port := portaltest.FreePort(t)
	metrics := fmt.Sprintf("127.0.0.1:%d", portaltest.FreePort(t))
	baseURL := fmt.Sprintf("http://localhost:%d", port)
	hosts, err := sites.ParseBaseURL(baseURL)
	if err != nil {
		t.Fatal(err)
	}
	portal := start(t, bin, []string{"serve", "--no-migrate"},
		"DATABASE_URL="+dbURL,
		fmt.Sprintf("PORTAL_ADDR=127.0.0.1:%d", port),
		"PORTAL_BASE_URL="+baseURL,
		"PORTAL_METRICS_ADDR="+metrics,
		"PORTAL_PPROF=1",
		"PORTAL_TRUSTED_PROXIES=127.0.0.1/32",
		"PORTAL_SECRET_KEY="+hex.EncodeToString(secretKey))
	waitReady(t, fmt.Sprintf("http://127.0.0.1:%d/readyz", port))
	return portal, port, metrics, hosts
}

// profile starts taking the portal's CPU profile when -loadgen.cpuprofile
// asks for one, for the first -loadgen.cpuprofile-seconds of the load; the
// function it returns waits for it and writes the file.
func profile(t *testing.T, metrics string) func() {
	t.Helper()
	if *profileFlag == "" {
		return func() {}
	}
	done := make(chan error, 1)
	go func() {
		done <- saveProfile(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", metrics, *profileSecondsFlag), *profileFlag)
	}()
	return func() {
		if err := <-done; err != nil {
			t.Errorf("CPU profile: %v", err)
		}
	}
}

// heapProfile writes the portal's heap profile, after a collection, when
// -loadgen.heapprofile asks for one.
func heapProfile(t *testing.T, metrics string) {
	t.Helper()
	if *heapProfileFlag == "" {
		return
	}
	if err := saveProfile(fmt.Sprintf("http://%s/debug/pprof/heap?gc=1", metrics), *heapProfileFlag); err != nil {
		t.Errorf("heap profile: %v", err)
	}
}

// saveProfile writes what the portal's profiler serves at url to file.
func saveProfile(url, file string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	if err != nil {
		return err
	}
	return os.WriteFile(file, b, 0o644)
}

func rateLabel(r float64) string {
	if r <= 0 {
		return "closed loop"
	}
	return fmt.Sprintf("%.0f/s open loop", r)
}

func row(tw *tabwriter.Writer, name string, r Result, cpu, pgCPU time.Duration, rss int64) {
	each := func(d time.Duration) string {
		if r.OK == 0 {
			return "-"
		}
		return (d / time.Duration(r.OK)).Round(time.Microsecond).String()
	}
	fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%.0f MiB\t%v\t\n", name, r.PerSecond(),
		r.Percentile(50).Round(time.Microsecond), r.Percentile(95).Round(time.Microsecond),
		r.Percentile(99).Round(time.Microsecond), r.Percentile(100).Round(time.Microsecond),
		each(cpu), each(pgCPU), float64(rss)/(1<<20), r.ByStatus)
}

// loadDatabase returns the database to load and the IdP its sites trust:
// a fresh one seeded now, or the named one, seeded on first use.
func loadDatabase(t *testing.T) (string, *ssotest.IdP) {
	t.Helper()
	if *databaseFlag == "" {
		dbURL := dbtest.NewURL(t)
		idp := ssotest.NewIdP(t)
		seed(t, dbURL, idp)
		return dbURL, idp
	}
	cfg, err := pgx.ParseConfig(dbtest.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Database = *databaseFlag
	dbURL := fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, *databaseFlag)
	keyFile := filepath.Join(os.TempDir(), *databaseFlag+"-idp.json")
	if idp, err := readIdP(keyFile); err == nil {
		t.Logf("reusing database %s, seeded earlier (IdP key in %s)", *databaseFlag, keyFile)
		// The portal under load runs with --no-migrate: a database seeded
		// by an older version is brought up to date first.
		if err := database.Migrate(dbURL); err != nil {
			t.Fatal(err)
		}
		return dbURL, idp
	}
	if err := database.EnsureDatabase(context.Background(), dbURL); err != nil {
		t.Fatal(err)
	}
	if err := database.Migrate(dbURL); err != nil {
		t.Fatal(err)
	}
	idp := ssotest.NewIdP(t)
	seed(t, dbURL, idp)
	if err := writeIdP(keyFile, idp); err != nil {
		t.Fatal(err)
	}
	return dbURL, idp
}

func seed(t *testing.T, dbURL string, idp *ssotest.IdP) {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	box, err := seal.New(secretKey)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = Seed(context.Background(), pool, box, func(site string) string { return "http://" + site + ".localhost/saml/metadata" },
		IdP{EntityID: idp.EntityID, SSOURL: idp.SSOURL, Certificate: idp.Cert},
		Scale{Sites: *sitesFlag, UsersPerSite: *usersFlag, Events: *eventsFlag, AuditPerSite: 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded %d sites, %d users, %d events in %s", *sitesFlag, *sitesFlag**usersFlag, *eventsFlag, time.Since(start).Round(time.Millisecond))
}

// storedIdP is the load test's IdP on disk, for a database reused across runs.
type storedIdP struct {
	TenantID string
	Key      []byte // PKCS#1 DER
	Cert     []byte // DER
}

func writeIdP(path string, idp *ssotest.IdP) error {
	b, err := json.Marshal(storedIdP{TenantID: idp.TenantID, Key: x509.MarshalPKCS1PrivateKey(idp.Key), Cert: idp.Cert.Raw})
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

func readIdP(path string) (*ssotest.IdP, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s storedIdP
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	key, err := x509.ParsePKCS1PrivateKey(s.Key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(s.Cert)
	if err != nil {
		return nil, err
	}
	return &ssotest.IdP{TenantID: s.TenantID, EntityID: "https://sts.windows.net/" + s.TenantID + "/",
		SSOURL: "https://login.microsoftonline.com/" + s.TenantID + "/saml2", Key: key, Cert: cert}, nil
}

// compareFirstSignIns sends existing users' sign-ins and first sign-ins
// (each one creating its account) to one portal, in alternating rounds
// (existing then first, then first then existing, …), so that both kinds
// meet the same process, database and machine: on these shared cores two
// runs one after the other differ by ±10 %, more than what is compared.
// Each kind's rate and CPU are summed over its rounds.
func compareFirstSignIns(ctx context.Context, t *testing.T, portal *exec.Cmd, load Load, existing, first []Request, parse parseResult) {
	t.Helper()
	type kind struct {
		name          string
		requests      []Request
		result        Result
		cpu, pg, self time.Duration
	}
	// The first round would otherwise pay the warm-up alone.
	existing, warm := warmUp(ctx, existing, load)
	kinds := []*kind{{name: "portal, existing users", requests: existing}, {name: "portal, first sign-ins", requests: first}}
	rounds := max(*roundsFlag, 1)
	for r := range rounds {
		order := []*kind{kinds[0], kinds[1]}
		if r%2 == 1 {
			order = []*kind{kinds[1], kinds[0]}
		}
		for _, k := range order {
			chunk := k.requests[r*len(k.requests)/rounds : (r+1)*len(k.requests)/rounds]
			pgBefore, selfBefore := PostgresCPU(), selfCPU(t)
			before := stats(t, portal.Process.Pid)
			k.result.Add(Run(ctx, chunk, load))
			after := stats(t, portal.Process.Pid)
			k.cpu += after.CPU - before.CPU
			k.pg += PostgresCPU() - pgBefore
			k.self += selfCPU(t) - selfBefore
		}
	}
	peak := stats(t, portal.Process.Pid).PeakRSS

	report := &strings.Builder{}
	tw := tabwriter.NewWriter(report, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "server\tsign-ins/s\tp50\tp95\tp99\tmax\tCPU/sign-in\tPostgreSQL CPU/sign-in\tpeak RSS\tstatuses\t\n")
	fmt.Fprintf(tw, "crewjam ParseResponse alone (%d workers)\t%.0f\t\t\t\t\t%s\t\t\t%d ok, %d refused\t\n",
		runtime.GOMAXPROCS(0), parse.perSecond, parse.cpuEach.Round(time.Microsecond), parse.ok, parse.failed)
	for _, k := range kinds {
		row(tw, k.name, k.result, k.cpu, k.pg, peak)
	}
	fmt.Fprintf(tw, "first sign-ins / existing users\t%.2f\t\t\t\t\t\t\t\t\t\n", kinds[1].result.PerSecond()/kinds[0].result.PerSecond())
	tw.Flush()
	for _, k := range kinds {
		if k.result.OK > 0 {
			each := func(d time.Duration) time.Duration { return (d / time.Duration(k.result.OK)).Round(time.Microsecond) }
			fmt.Fprintf(report, "CPU of one sign-in on the machine, %s: portal %s + PostgreSQL %s + load generator %s = %s\n",
				k.name, each(k.cpu), each(k.pg), each(k.self), each(k.cpu+k.pg+k.self))
		}
	}
	t.Logf("%d sites, %d users each, %d sign-ins of existing users (and %d to warm up) and %d first sign-ins in %d rounds, %d clients, rate %s, GOMAXPROCS %d\n%s",
		*sitesFlag, *usersFlag, len(kinds[0].requests), warm, len(first), rounds, *clientsFlag, rateLabel(*rateFlag), runtime.GOMAXPROCS(0), report)
	for _, k := range kinds {
		if k.result.OK != len(k.requests) || k.result.Errors != 0 {
			t.Errorf("%s: %d of %d signed in, %d transport errors, statuses %v; its log ends:\n%s",
				k.name, k.result.OK, len(k.requests), k.result.Errors, k.result.ByStatus, logTail(portal))
		}
	}
}

// portalRequests signs one IdP-initiated response per sign-in, each for a
// random site and user, from its own client address.
func portalRequests(t *testing.T, idp *ssotest.IdP, hosts sites.Hosts, newUsers bool) []Request {
	t.Helper()
	requests := make([]Request, *requestsFlag)
	rng := mathrand.New(mathrand.NewPCG(1, 2))
	// New users are numbered past the seeded ones, from a base of this
	// run's own, so that a database reused across runs still has never
	// seen them.
	var firstSignIns atomic.Int64
	firstSignIns.Store(int64(*usersFlag) + time.Now().Unix()%100_000*100_000)
	sign := func(i int, site string, user int) {
		siteURL := hosts.SiteURL(site)
		uid := UserID(site, user)
		doc := idp.Response(t, ssotest.Options{ACS: siteURL + "/saml/acs", Audience: siteURL + "/saml/metadata", NameID: uid,
			Attributes: idp.AzureClaims(uid, "User", fmt.Sprint(user), ObjectID(site, user))})
		host := strings.TrimPrefix(siteURL, "http://")
		requests[i] = Request{Host: host, Body: []byte(url.Values{"SAMLResponse": {ssotest.Encode(doc)}}.Encode()),
			Forwarded: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)}
	}
	type job struct {
		i, user int
		site    string
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for j := range jobs {
				sign(j.i, j.site, j.user)
			}
		})
	}
	for i := range requests {
		site := SiteName(rng.IntN(*sitesFlag))
		user := rng.IntN(*usersFlag)
		if newUsers {
			user = int(firstSignIns.Add(1))
		}
		jobs <- job{i: i, site: site, user: user}
	}
	close(jobs)
	wg.Wait()
	return requests
}

type parseResult struct {
	ok, failed int
	perSecond  float64
	cpuEach    time.Duration
}

// parseAlone runs crewjam's ServiceProvider.ParseResponse on the requests,
// with as many workers as cores: what the library alone costs for the same
// documents (signature, conditions; no replay cache, no database).
func parseAlone(t *testing.T, idp *ssotest.IdP, hosts sites.Hosts, requests []Request) parseResult {
	t.Helper()
	providers := map[string]*saml.ServiceProvider{}
	var idpDesc saml.EntityDescriptor
	if err := xml.Unmarshal(idp.MetadataXML(), &idpDesc); err != nil {
		t.Fatal(err)
	}
	for _, r := range requests {
		if providers[r.Host] != nil {
			continue
		}
		root := "http://" + r.Host
		metadataURL, _ := url.Parse(root + "/saml/metadata")
		acsURL, _ := url.Parse(root + "/saml/acs")
		providers[r.Host] = &saml.ServiceProvider{EntityID: metadataURL.String(), MetadataURL: *metadataURL, AcsURL: *acsURL,
			IDPMetadata: &idpDesc, AllowIDPInitiated: true}
	}
	var next, ok, failed atomic.Int64
	var wg sync.WaitGroup
	selfBefore := selfCPU(t)
	start := time.Now()
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(requests) {
					return
				}
				r := requests[i]
				req, _ := http.NewRequest(http.MethodPost, "http://"+r.Host+"/saml/acs", bytes.NewReader(r.Body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				_ = req.ParseForm()
				if _, err := providers[r.Host].ParseResponse(req, nil); err != nil {
					failed.Add(1)
					continue
				}
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := selfCPU(t) - selfBefore
	return parseResult{ok: int(ok.Load()), failed: int(failed.Load()), perSecond: float64(ok.Load()) / elapsed.Seconds(),
		cpuEach: cpu / time.Duration(max(ok.Load(), 1))}
}

// runMinimalSP starts the minimal samlsp service provider and loads it the
// same way as the portal; it returns the result, the SP's CPU time during
// the run and its peak RSS.
func runMinimalSP(t *testing.T, bin string, idp *ssotest.IdP) (Result, time.Duration, int64) {
	t.Helper()
	port := portaltest.FreePort(t)
	root := fmt.Sprintf("http://127.0.0.1:%d", port)
	metadata := filepath.Join(t.TempDir(), "idp.xml")
	if err := os.WriteFile(metadata, idp.MetadataXML(), 0o600); err != nil {
		t.Fatal(err)
	}
	sp := start(t, bin, []string{"-addr", fmt.Sprintf("127.0.0.1:%d", port), "-url", root, "-idp-metadata", metadata})
	waitReady(t, root+"/saml/metadata")
	requests := make([]Request, *requestsFlag)
	for i := range requests {
		uid := UserID("minimal", i)
		doc := idp.Response(t, ssotest.Options{ACS: root + "/saml/acs", Audience: root + "/saml/metadata", NameID: uid,
			Attributes: idp.AzureClaims(uid, "User", fmt.Sprint(i), fmt.Sprintf("obj-%d", i))})
		requests[i] = Request{Host: fmt.Sprintf("127.0.0.1:%d", port), Body: []byte(url.Values{"SAMLResponse": {ssotest.Encode(doc)}}.Encode()),
			Forwarded: fmt.Sprintf("10.0.%d.%d", i>>8&255, i&255)}
	}
	load := Load{URL: root + "/saml/acs", Clients: *clientsFlag, Rate: *rateFlag}
	requests, _ = warmUp(context.Background(), requests, load)
	before := stats(t, sp.Process.Pid)
	result := Run(context.Background(), requests, load)
	after := stats(t, sp.Process.Pid)
	if result.OK != len(requests) {
		t.Errorf("minimal SP: %d of %d signed in, statuses %v", result.OK, len(requests), result.ByStatus)
	}
	return result, after.CPU - before.CPU, after.PeakRSS
}

// warmUp sends the first twentieth of requests, uncounted, and returns the
// rest and how many it sent. A process's first requests open its pool's
// connections, whose PostgreSQL backends fill their catalog caches on their
// first statements: at 240 sign-ins/s, open loop, the requests of the first
// 100 ms waited 200 ms, the whole of a 3,000-request run's p99.
func warmUp(ctx context.Context, requests []Request, load Load) ([]Request, int) {
	warm := len(requests) / 20
	Run(ctx, requests[:warm], load)
	return requests[warm:], warm
}

// logTail is the end of a server's log, for a failure message.
func logTail(cmd *exec.Cmd) string {
	f, ok := cmd.Stdout.(*os.File)
	if !ok {
		return ""
	}
	b, _ := os.ReadFile(f.Name())
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-10):], "\n")
}

func build(t *testing.T, out, pkg string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
}

func start(t *testing.T, bin string, args []string, env ...string) *exec.Cmd {
	t.Helper()
	logFile, err := os.Create(filepath.Join(t.TempDir(), filepath.Base(bin)+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logFile.Close()
	})
	return cmd
}

func waitReady(t *testing.T, u string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not answer 200 within a minute", u)
}

func stats(t *testing.T, pid int) ProcessStats {
	t.Helper()
	s, err := Stats(pid)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func selfCPU(t *testing.T) time.Duration {
	t.Helper()
	return stats(t, os.Getpid()).CPU
}
