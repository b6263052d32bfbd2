// Package devidp is the development identity provider that `portal serve
// --dev-idp` (and so `make run`) serves at http://idp.<base host>, so that a
// newcomer can sign in to the demo site as B.Simon without an Azure AD
// tenant. It is crewjam/saml's samlidp with what makes it behave like Azure
// AD in the tutorial our customers follow: Azure's claims and NameID, only
// the assertion signed (RSA-SHA256), pages that work under the portal's
// Content-Security-Policy, and IdP-initiated sign-in like a My Apps tile.
//
// It is for development only: its users, their shared password and its
// sessions are not production material, and it is never on unless asked.
package devidp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlidp"
	"github.com/jackc/pgx/v5/pgxpool"
	dsig "github.com/russellhaering/goxmldsig"
	"golang.org/x/crypto/bcrypt"

	"github.com/meetings-portal/portal/internal/seal"
)

// Config configures the development IdP.
type Config struct {
	// BaseURL is the scheme and host the IdP is served at, for example
	// http://idp.localhost:8080.
	BaseURL *url.URL
	// Password is the demo users' password.
	Password string
	// Box seals the IdP private key at rest.
	Box *seal.Box
	// ServiceProvider returns the SP metadata for an entity ID the portal
	// knows (a site's "{site URL}/saml/metadata"), or an error; the IdP
	// trusts only the SPs it returns.
	ServiceProvider func(ctx context.Context, entityID string) (*saml.EntityDescriptor, error)
	Logger          *slog.Logger
}

// IdP is the development identity provider, an http.Handler for its host.
type IdP struct {
	server *samlidp.Server
	pages  *pages
	logger *slog.Logger
	mux    *http.ServeMux

	// knownSPs are the entity IDs of the sites that asked this process for
	// a sign-in, shown as tiles on the home page: the portal can look a site
	// up but not list them through Config.
	mu       sync.Mutex
	knownSPs []string
}

// Paths the IdP serves besides samlidp's /metadata, /sso, /slo and /logout.
const (
	// startPath starts IdP-initiated sign-in, like an Azure My Apps tile:
	// /start?sp=ENTITY_ID[&RelayState=/path].
	startPath      = "/start"
	autosubmitPath = "/autosubmit.js"
	stylesheetPath = "/devidp.css"
)

// New returns the development IdP, loading its key pair from PostgreSQL or
// creating it there on first use.
func New(ctx context.Context, pool *pgxpool.Pool, cfg Config) (*IdP, error) {
	switch {
	case cfg.BaseURL == nil || cfg.BaseURL.Scheme == "" || cfg.BaseURL.Host == "":
		return nil, errors.New("devidp: BaseURL must have a scheme and a host")
	case cfg.Password == "":
		return nil, errors.New("devidp: Password is empty")
	case cfg.Box == nil:
		return nil, errors.New("devidp: Box is nil")
	case cfg.ServiceProvider == nil:
		return nil, errors.New("devidp: ServiceProvider is nil")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	keys, err := loadOrCreateKey(ctx, pool, cfg.Box, "Portal development IdP ("+cfg.BaseURL.Host+")")
	if err != nil {
		return nil, err
	}
	pg, err := parsePages()
	if err != nil {
		return nil, err
	}

	base := url.URL{Scheme: cfg.BaseURL.Scheme, Host: cfg.BaseURL.Host}
	// MemoryStore holds the users and the IdP sessions (a cookie per
	// browser). Development only: sessions are lost on restart and not
	// shared between portal processes, which a development IdP can afford.
	store := &samlidp.MemoryStore{}
	server, err := samlidp.New(samlidp.Options{
		URL:               base,
		Key:               keys.key,
		Certificate:       keys.certificate,
		Logger:            samlLogger{logger},
		Store:             store,
		LoginFormTemplate: pg.login,
	})
	if err != nil {
		return nil, fmt.Errorf("devidp: start samlidp: %w", err)
	}

	users := demoUsers()
	byName := make(map[string]demoUser, len(users))
	hash, err := bcrypt.GenerateFromPassword([]byte(cfg.Password), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("devidp: hash the demo password: %w", err)
	}
	for _, u := range users {
		byName[u.Username] = u
		err := store.Put("/users/"+u.Username, samlidp.User{
			Name:           u.Username,
			HashedPassword: hash,
			Email:          u.Email,
			CommonName:     u.DisplayName,
			GivenName:      u.GivenName,
			Surname:        u.Surname,
		})
		if err != nil {
			return nil, fmt.Errorf("devidp: store user %s: %w", u.Username, err)
		}
	}

	idp := &IdP{server: server, pages: pg, logger: logger}
	sso := &server.IDP
	sso.ServiceProviderProvider = spProvider{lookup: cfg.ServiceProvider, seen: idp.rememberSP, logger: logger}
	sso.SessionProvider = sessionProvider{server}
	sso.AssertionMaker = azureAssertionMaker{users: byName}
	sso.ResponseWriter = responseWriter{form: pg.responseForm, entityID: sso.MetadataURL.String()}
	sso.ResponseFormTemplate = pg.responseForm
	sso.LogoutRequestFormTemplate = pg.logoutRequestForm
	sso.LogoutCompleteTemplate = pg.logoutComplete
	sso.OnError = idp.serveError
	// The portal refuses SHA-1 and so does this IdP, both ways.
	sso.SignatureMethod = dsig.RSASHA256SignatureMethod
	sso.RejectSHA1Signatures = true
	// Like Azure AD: a request for a NameID format the IdP does not issue
	// (here emailAddress) gets an InvalidNameIDPolicy error, not a surprise.
	sso.NameIDFormats = []saml.NameIDFormat{saml.EmailAddressNameIDFormat}
	sso.EnforceNameIDPolicy = true
	idp.mux = idp.routes()

	logger.Warn("DEVELOPMENT IDENTITY PROVIDER ENABLED (--dev-idp): anyone who can reach it signs in to the sites that trust it as the demo users b.simon and a.lee with the shared demo password; never enable it in production",
		"url", base.String(), "entity_id", sso.MetadataURL.String())
	return idp, nil
}

func (i *IdP) routes() *http.ServeMux {
	sso := &i.server.IDP
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", i.serveHome)
	mux.HandleFunc("GET /metadata", i.serveMetadata)
	mux.HandleFunc("GET /sso", i.serveSSO)
	mux.HandleFunc("POST /sso", i.serveSSO)
	mux.HandleFunc("GET "+startPath, i.serveStart)
	mux.HandleFunc("POST "+startPath, i.serveStart)
	mux.HandleFunc("/slo", i.pageHeaders(sso.ServeSLO))
	mux.HandleFunc("GET /logout", i.pageHeaders(i.server.HandleLogout))
	mux.HandleFunc("POST /logout", i.pageHeaders(i.server.HandleLogout))
	mux.HandleFunc("GET "+autosubmitPath, serveAsset("text/javascript; charset=utf-8", autosubmitJS))
	mux.HandleFunc("GET "+stylesheetPath, serveAsset("text/css; charset=utf-8", stylesheet))
	// Nothing else: samlidp's unauthenticated admin API (/users, /services,
	// /sessions, /shortcuts) and its JSON /login are deliberately not routed.
	return mux
}

// ServeHTTP serves every request for the IdP's host.
func (i *IdP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i.mux.ServeHTTP(w, r)
}

// EntityID is the IdP's entity ID (its metadata URL).
func (i *IdP) EntityID() string {
	return i.server.IDP.MetadataURL.String()
}

// MetadataXML returns the IdP metadata to import into a site: an
// EntityDescriptor with the IDPSSODescriptor, signing certificate, SSO
// service (HTTP-Redirect and HTTP-POST) and single logout service.
func (i *IdP) MetadataXML() ([]byte, error) {
	md := i.server.IDP.Metadata()
	// The key lives as long as the database row, so the imported copy must
	// not expire in two days (crewjam's default validUntil); and Azure's
	// metadata publishes no encryption key, as nothing is encrypted to it.
	md.ValidUntil = time.Time{}
	md.CacheDuration = 0
	for d := range md.IDPSSODescriptors {
		md.IDPSSODescriptors[d].KeyDescriptors = slices.DeleteFunc(md.IDPSSODescriptors[d].KeyDescriptors,
			func(k saml.KeyDescriptor) bool { return k.Use == "encryption" })
	}
	buf, err := xml.MarshalIndent(md, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("devidp: marshal metadata: %w", err)
	}
	return append([]byte(xml.Header), buf...), nil
}

// serveMetadata serves MetadataXML, so that importing the metadata from its
// URL gives what the wiring imports.
func (i *IdP) serveMetadata(w http.ResponseWriter, r *http.Request) {
	md, err := i.MetadataXML()
	if err != nil {
		i.serveError(w, r, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	_, _ = w.Write(md)
}

// serveSSO answers AuthnRequests, and the sign-in form posted during one.
func (i *IdP) serveSSO(w http.ResponseWriter, r *http.Request) {
	setPageHeaders(w.Header())
	if r.Method == http.MethodPost {
		if err := i.parseLoginForm(r); err != nil {
			i.serveError(w, r, http.StatusBadRequest, err)
			return
		}
		// The sign-in form for an HTTP-Redirect AuthnRequest posts to the
		// request's own URL (see loginHTML). crewjam reads a POST as the
		// HTTP-POST binding, so hand it the request as the GET it was, with
		// its query-string signature, and let sessionProvider show samlidp
		// the credentials as a POST.
		if r.URL.Query().Has("SAMLRequest") {
			get := r.Clone(context.WithValue(r.Context(), loginPostKey{}, true))
			get.Method = http.MethodGet
			r = get
		}
	}
	i.server.IDP.ServeSSO(w, r)
}

// serveStart starts IdP-initiated sign-in to the service provider named by
// the sp query parameter: an unsolicited Response, as when a user clicks the
// app's tile in Azure My Apps. RelayState, if given, is passed on (Azure's
// "Relay State" setting).
func (i *IdP) serveStart(w http.ResponseWriter, r *http.Request) {
	setPageHeaders(w.Header())
	if r.Method == http.MethodPost {
		if err := i.parseLoginForm(r); err != nil {
			i.serveError(w, r, http.StatusBadRequest, err)
			return
		}
	}
	query := r.URL.Query()
	entityID := query.Get("sp")
	if entityID == "" {
		i.serveError(w, r, http.StatusBadRequest, errors.New("devidp: /start needs ?sp= and the entity ID of a site"))
		return
	}
	i.server.IDP.ServeIDPInitiated(w, r, entityID, query.Get("RelayState"))
}

// parseLoginForm parses a posted form and turns the username typed into
// the stored one (see canonicalUsername); samlidp reads the parsed form.
func (i *IdP) parseLoginForm(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return fmt.Errorf("devidp: parse form: %w", err)
	}
	if typed := r.PostForm.Get("user"); typed != "" {
		user := canonicalUsername(demoUsers(), typed)
		r.PostForm.Set("user", user)
		r.Form.Set("user", user)
	}
	return nil
}

func (i *IdP) serveHome(w http.ResponseWriter, r *http.Request) {
	i.mu.Lock()
	sps := slices.Clone(i.knownSPs)
	i.mu.Unlock()
	setPageHeaders(w.Header())
	if err := i.pages.home.Execute(w, sps); err != nil {
		i.logger.Error("devidp: render home page", "err", err)
	}
}

func (i *IdP) rememberSP(entityID string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if !slices.Contains(i.knownSPs, entityID) {
		i.knownSPs = append(i.knownSPs, entityID)
		slices.Sort(i.knownSPs)
	}
}

// serveError is the IdP's OnError: it logs the detail and shows a page.
// The detail is shown too: this is a development tool, and "request
// expired" or "unknown service provider" is what its user needs to read.
func (i *IdP) serveError(w http.ResponseWriter, r *http.Request, status int, err error) {
	reference := newReference()
	i.logger.Warn("devidp: request refused", "status", status, "path", r.URL.Path, "reference", reference, "err", err)
	setPageHeaders(w.Header())
	w.WriteHeader(status)
	data := struct {
		Message   string
		Reference string
		Status    int
	}{Message: err.Error(), Reference: reference, Status: status}
	if errors.Is(err, saml.ErrExpired) {
		// crewjam checks the AuthnRequest's age (saml.MaxIssueDelay) again
		// when the sign-in form comes back, so a form left open too long
		// ends here.
		data.Message = "The sign-in request expired while this page was open. Go back to the site and sign in again."
	}
	if err := i.pages.errorPage.Execute(w, data); err != nil {
		i.logger.Error("devidp: render error page", "err", err)
	}
}

func newReference() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return strings.ToUpper(hex.EncodeToString(b))
}

// pageHeaders sets the page headers before a samlidp handler that renders
// HTML; the ones it sets itself win.
func (i *IdP) pageHeaders(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		setPageHeaders(w.Header())
		next(w, r)
	}
}

func serveAsset(contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write([]byte(body))
	}
}

// loginPostKey marks, in a request's context, the sign-in form posted for
// an HTTP-Redirect AuthnRequest that serveSSO passes on as a GET.
type loginPostKey struct{}

// sessionProvider is samlidp's session handling (sign-in form, password
// check, session cookie, logout), except that it sees the credentials of a
// form serveSSO turned back into a GET. Embedding keeps samlidp's
// SessionInvalidator and participant tracking for single logout.
type sessionProvider struct {
	*samlidp.Server
}

// GetSession implements saml.SessionProvider.
func (p sessionProvider) GetSession(w http.ResponseWriter, r *http.Request, req *saml.IdpAuthnRequest) *saml.Session {
	if posted, _ := r.Context().Value(loginPostKey{}).(bool); posted {
		post := r.WithContext(r.Context())
		post.Method = http.MethodPost
		r = post
	}
	return p.Server.GetSession(w, r, req)
}

// spProvider asks the portal for a service provider's metadata.
type spProvider struct {
	lookup func(ctx context.Context, entityID string) (*saml.EntityDescriptor, error)
	seen   func(entityID string)
	logger *slog.Logger
}

// GetServiceProvider implements saml.ServiceProviderProvider. Any failure
// counts as "not trusted" (crewjam wants os.ErrNotExist for that): the
// portal's lookup reports an unknown site and a database error alike, and
// either way this IdP must not sign in to it. The cause is kept for the log.
func (p spProvider) GetServiceProvider(r *http.Request, entityID string) (*saml.EntityDescriptor, error) {
	md, err := p.lookup(r.Context(), entityID)
	if err != nil {
		return nil, fmt.Errorf("devidp: service provider %q: %w: %w", entityID, os.ErrNotExist, err)
	}
	if md == nil || md.EntityID != entityID {
		return nil, fmt.Errorf("devidp: service provider %q: %w", entityID, os.ErrNotExist)
	}
	p.seen(entityID)
	return withoutEncryptionKeys(md), nil
}

// withoutEncryptionKeys returns a copy of md whose SP descriptors publish
// no encryption key, so assertions go out signed but not encrypted: Azure
// AD encrypts only when an administrator uploads a token encryption
// certificate, which the tutorial does not do. A key without a use serves
// both purposes (saml-metadata §2.4.1.1) and is kept for signing only.
func withoutEncryptionKeys(md *saml.EntityDescriptor) *saml.EntityDescriptor {
	c := *md
	c.SPSSODescriptors = slices.Clone(md.SPSSODescriptors)
	for d := range c.SPSSODescriptors {
		var keys []saml.KeyDescriptor
		for _, k := range c.SPSSODescriptors[d].KeyDescriptors {
			switch k.Use {
			case "encryption":
				continue
			case "":
				k.Use = "signing"
			}
			keys = append(keys, k)
		}
		c.SPSSODescriptors[d].KeyDescriptors = keys
	}
	return &c
}

// samlLogger sends crewjam's Printf-style log lines to slog.
type samlLogger struct{ logger *slog.Logger }

func (l samlLogger) Printf(format string, v ...any) { l.log(fmt.Sprintf(format, v...)) }
func (l samlLogger) Print(v ...any)                 { l.log(fmt.Sprint(v...)) }
func (l samlLogger) Println(v ...any)               { l.log(fmt.Sprintln(v...)) }
func (l samlLogger) Fatal(v ...any)                 { l.log(fmt.Sprint(v...)) }
func (l samlLogger) Fatalf(format string, v ...any) { l.log(fmt.Sprintf(format, v...)) }
func (l samlLogger) Fatalln(v ...any)               { l.log(fmt.Sprintln(v...)) }
func (l samlLogger) Panic(v ...any)                 { l.log(fmt.Sprint(v...)) }
func (l samlLogger) Panicf(format string, v ...any) { l.log(fmt.Sprintf(format, v...)) }
func (l samlLogger) Panicln(v ...any)               { l.log(fmt.Sprintln(v...)) }

func (l samlLogger) log(msg string) {
	msg = strings.TrimSpace(msg)
	if rest, ok := strings.CutPrefix(msg, "ERROR: "); ok {
		l.logger.Warn("devidp: "+rest, "component", "samlidp")
		return
	}
	l.logger.Info("devidp: "+msg, "component", "samlidp")
}
