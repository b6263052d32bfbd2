package server

import (
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/meetings-portal/portal/internal/web"
	"github.com/meetings-portal/portal/web/static"
)

// Front is what the portal's listener serves from the moment it opens, so
// that an orchestrator sees a live process while the portal waits for its
// database, and a load balancer stops sending traffic before the process
// stops taking it:
//
//   - /healthz answers 200 at once and always (the process is alive);
//   - /readyz answers 503 with the reason while the portal starts (waiting
//     for PostgreSQL, applying migrations, a schema it cannot use) and from
//     the moment it starts draining; otherwise the portal's own check;
//   - every other request gets a 503 page with Retry-After while the portal
//     starts, and the portal itself once it is built (Serve).
type Front struct {
	render  *web.Renderer
	log     *slog.Logger
	waiting http.Handler // what answers before Serve

	mu       sync.Mutex
	portal   *Server
	notReady string // why /readyz answers 503; "" when ready
}

// Why the portal is not ready, as /readyz says it: short and public (the
// probe answers on any host), the detail is in the log.
const (
	ReasonStarting     = "starting"
	ReasonNoDatabase   = "waiting for the database"
	ReasonMigrating    = "applying database migrations"
	ReasonShuttingDown = "shutting down"
)

// NewFront makes the front, not ready ("starting") until Serve.
func NewFront(log *slog.Logger, https bool) (*Front, error) {
	assets, err := web.NewAssets(static.FS)
	if err != nil {
		return nil, err
	}
	// The front only ever answers with the error page.
	render, err := web.NewRenderer(log, assets, "error")
	if err != nil {
		return nil, err
	}
	f := &Front{render: render, log: log, notReady: ReasonStarting}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", healthz)
	mux.Handle("GET /static/", assets)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		render.Unavailable(w, r, "The portal is starting. Please try again in a few seconds.")
	})
	f.waiting = headAsGet(web.RequestIDs(web.SecurityHeaders(https)(mux)))
	return f, nil
}

// NotReady makes /readyz answer 503 with reason (one of the Reason…
// constants, or a sentence the operator can act on, such as "the database
// is not migrated: run `portal migrate up`").
func (f *Front) NotReady(reason string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.notReady = reason
}

// Serve hands every request to the built portal; /readyz becomes its
// database check.
func (f *Front) Serve(portal *Server) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.portal, f.notReady = portal, ""
}

// Drain makes /readyz answer 503 from now on while everything else is
// still served: the load balancer takes the process out of rotation during
// the shutdown grace period, before the listener closes.
func (f *Front) Drain() { f.NotReady(ReasonShuttingDown) }

func (f *Front) state() (*Server, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.portal, f.notReady
}

func (f *Front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	portal, notReady := f.state()
	switch {
	case r.URL.Path == "/readyz" && notReady != "":
		notReadyAnswer(w, notReady)
	case portal != nil:
		portal.ServeHTTP(w, r)
	default:
		f.waiting.ServeHTTP(w, r)
	}
}

func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}

func notReadyAnswer(w http.ResponseWriter, reason string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte("not ready: " + strings.TrimSpace(reason) + "\n"))
}
