package main

import (
	"crypto/sha256"
	"flag"
	"log/slog"
	"net"
	netmail "net/mail"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/meetings-portal/portal/internal/app"
	"github.com/meetings-portal/portal/internal/database"
	"github.com/meetings-portal/portal/internal/mail"
	"github.com/meetings-portal/portal/internal/media"
	"github.com/meetings-portal/portal/internal/meetings"
	"github.com/meetings-portal/portal/internal/seal"
	"github.com/meetings-portal/portal/internal/sites"
	"github.com/meetings-portal/portal/internal/web"
)

// config is the portal's configuration: environment variables, each also a
// flag of serve.
type config struct {
	DatabaseURL string
	// DirectDatabaseURL reaches PostgreSQL itself when DATABASE_URL goes
	// through a transaction-pooling proxy (PORTAL_DIRECT_DATABASE_URL):
	// for LISTEN, the housekeeping lock and migrations. "" means
	// DATABASE_URL.
	DirectDatabaseURL string
	Addr              string
	BaseURL           string
	MetricsAddr       string
	TrustedProxies    string
	ClockSkew         time.Duration
	// EventRetention is how long sign-in events are kept
	// (PORTAL_EVENT_RETENTION); the housekeeping job deletes older ones.
	EventRetention time.Duration
	SecretKey      string
	// SignInRate and AdminSignInRate are the rate limits per client
	// address and site, a minute (PORTAL_SIGNIN_RATE,
	// PORTAL_ADMIN_SIGNIN_RATE).
	SignInRate, AdminSignInRate int
	// MaxConnections caps the connections the site listener holds open at
	// once (PORTAL_MAX_CONNECTIONS); beyond it new ones wait to be
	// accepted.
	MaxConnections int
	NoMigrate      bool
	DevIdP         bool
	// ShutdownGrace is how long serve keeps serving after SIGTERM with
	// /readyz answering 503, before its listeners close
	// (PORTAL_SHUTDOWN_GRACE).
	ShutdownGrace time.Duration
	// MetadataAllowPrivate lets metadata URLs reach loopback, link-local
	// and private addresses (PORTAL_METADATA_ALLOW_PRIVATE=1), for IdPs on
	// an internal network and for development.
	MetadataAllowPrivate bool
	// Pprof serves Go's profiler at /debug/pprof/ on the metrics address
	// (PORTAL_PPROF=1), for measuring; off by default, as it tells how
	// the process is built and costs CPU while a profile is taken.
	Pprof bool
	// SMTPURL is where invitations are sent (PORTAL_SMTP_URL); "" keeps
	// them for the development mail page.
	SMTPURL string
	// MailFrom is the From of the portal's e-mail (PORTAL_MAIL_FROM).
	MailFrom string
	// Meetings' media: the SFU's UDP port (PORTAL_MEDIA_UDP) and ICE-TCP
	// port (PORTAL_MEDIA_TCP, "off" for none), the public addresses it
	// announces (PORTAL_MEDIA_PUBLIC_IP), the STUN/TURN servers handed to
	// browsers (PORTAL_ICE_SERVERS), and where other portal processes reach
	// this one (PORTAL_INTERNAL_URL).
	MediaUDP, MediaTCP, MediaPublicIP, ICEServers, InternalURL string
	// LogFormat is json (the default) or text, short lines for a terminal
	// (PORTAL_LOG_FORMAT).
	LogFormat string
}

const defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/portal?sslmode=disable"

func (c *cli) env(name, def string) string {
	if v := c.getenv(name); v != "" {
		return v
	}
	return def
}

// envSet is env for a setting where "" is a value, not "unset": a listen
// address set to "" is refused (checkListenAddr), as --addr "" is, instead
// of quietly becoming the default.
func (c *cli) envSet(name, def string) string {
	if c.lookupEnv == nil {
		return c.env(name, def)
	}
	if v, ok := c.lookupEnv(name); ok {
		return v
	}
	return def
}

// loadConfig reads the environment; fs, when given, gets a flag for each
// setting, defaulting to the environment's value. validate checks the
// values once the flags are parsed.
func (c *cli) loadConfig(fs *flag.FlagSet) (cfg *config, validate func() error) {
	cfg = &config{}
	skew := c.env("PORTAL_SAML_CLOCK_SKEW", "3m")
	retention := c.env("PORTAL_EVENT_RETENTION", "2160h")
	maxConns := c.env("PORTAL_MAX_CONNECTIONS", "1000")
	signInRate := c.env("PORTAL_SIGNIN_RATE", "1200")
	adminSignInRate := c.env("PORTAL_ADMIN_SIGNIN_RATE", "10")
	grace := c.env("PORTAL_SHUTDOWN_GRACE", "5s")
	if fs == nil {
		fs = flag.NewFlagSet("", flag.ContinueOnError)
	}
	fs.StringVar(&cfg.DatabaseURL, "database-url", c.env("DATABASE_URL", defaultDatabaseURL), "PostgreSQL URL (DATABASE_URL)")
	fs.StringVar(&cfg.DirectDatabaseURL, "direct-database-url", c.env("PORTAL_DIRECT_DATABASE_URL", ""), "PostgreSQL itself when DATABASE_URL goes through PgBouncer in transaction mode: for LISTEN, locks and migrations (PORTAL_DIRECT_DATABASE_URL)")
	fs.StringVar(&cfg.Addr, "addr", c.envSet("PORTAL_ADDR", ":8080"), "listen address (PORTAL_ADDR)")
	fs.StringVar(&cfg.BaseURL, "base-url", c.env("PORTAL_BASE_URL", "http://localhost:8080"), "base URL; site NAME is served at NAME.<base host> (PORTAL_BASE_URL)")
	fs.StringVar(&cfg.MetricsAddr, "metrics-addr", c.envSet("PORTAL_METRICS_ADDR", "127.0.0.1:9090"), "where /metrics is served (PORTAL_METRICS_ADDR)")
	fs.StringVar(&cfg.TrustedProxies, "trusted-proxies", c.env("PORTAL_TRUSTED_PROXIES", ""), "CIDRs whose X-Forwarded-For/-Proto are believed (PORTAL_TRUSTED_PROXIES)")
	fs.StringVar(&skew, "saml-clock-skew", skew, "allowed clock difference with IdPs (PORTAL_SAML_CLOCK_SKEW)")
	fs.StringVar(&retention, "event-retention", retention, "how long sign-in events are kept, default 2160h = 90 days (PORTAL_EVENT_RETENTION)")
	fs.StringVar(&maxConns, "max-connections", maxConns, "connections served at once per process; more wait to be accepted (PORTAL_MAX_CONNECTIONS)")
	fs.StringVar(&signInRate, "signin-rate", signInRate, "sign-in starts, refused and unsolicited responses per client address and site, a minute (PORTAL_SIGNIN_RATE)")
	fs.StringVar(&adminSignInRate, "admin-signin-rate", adminSignInRate, "admin sign-in attempts per client address and site, a minute (PORTAL_ADMIN_SIGNIN_RATE)")
	fs.StringVar(&grace, "shutdown-grace", grace, "after SIGTERM, how long /readyz answers 503 while the portal still serves, before it stops listening (PORTAL_SHUTDOWN_GRACE)")
	fs.StringVar(&cfg.SecretKey, "secret-key", c.env("PORTAL_SECRET_KEY", ""), "32 random bytes, hex or base64, that encrypt SP private keys (PORTAL_SECRET_KEY)")
	fs.StringVar(&cfg.SMTPURL, "smtp-url", c.env("PORTAL_SMTP_URL", ""), "smtp://user:pass@host:port (STARTTLS when offered) or smtps://… for invitations; none keeps them for /admin/mail (PORTAL_SMTP_URL)")
	fs.StringVar(&cfg.MailFrom, "mail-from", c.env("PORTAL_MAIL_FROM", ""), "From of invitation e-mails, default Meetings <meetings@<base host>> (PORTAL_MAIL_FROM)")
	fs.StringVar(&cfg.MediaUDP, "media-udp", c.env("PORTAL_MEDIA_UDP", "0"), "UDP port of all meeting media, 0 for any free port (PORTAL_MEDIA_UDP)")
	fs.StringVar(&cfg.MediaTCP, "media-tcp", c.env("PORTAL_MEDIA_TCP", "0"), "ICE-TCP port for browsers that cannot use UDP, 0 for any free port, off for none (PORTAL_MEDIA_TCP)")
	fs.StringVar(&cfg.MediaPublicIP, "media-public-ip", c.env("PORTAL_MEDIA_PUBLIC_IP", ""), "public IP address(es) the media ports are reached at, behind a 1:1 NAT (PORTAL_MEDIA_PUBLIC_IP)")
	fs.StringVar(&cfg.ICEServers, "ice-servers", c.env("PORTAL_ICE_SERVERS", ""), "STUN/TURN servers for browsers: URLs, or a JSON array of RTCIceServer (PORTAL_ICE_SERVERS)")
	fs.StringVar(&cfg.InternalURL, "internal-url", c.env("PORTAL_INTERNAL_URL", ""), "http://host:port other portal processes reach this one at, default this machine's address and the --addr port (PORTAL_INTERNAL_URL)")
	fs.StringVar(&cfg.LogFormat, "log-format", c.env("PORTAL_LOG_FORMAT", "json"), "json (one object a line) or text (short lines for a terminal) (PORTAL_LOG_FORMAT)")
	cfg.MetadataAllowPrivate = c.getenv("PORTAL_METADATA_ALLOW_PRIVATE") == "1"
	cfg.Pprof = c.getenv("PORTAL_PPROF") == "1"
	validate = func() error {
		d, err := time.ParseDuration(skew)
		if err != nil || d < 0 || d > time.Hour {
			return badInputf("PORTAL_SAML_CLOCK_SKEW %q: want a duration such as 3m, at most 1h", skew)
		}
		cfg.ClockSkew = d
		if cfg.EventRetention, err = time.ParseDuration(retention); err != nil || cfg.EventRetention <= 0 {
			return badInputf("PORTAL_EVENT_RETENTION %q: want a positive duration such as 2160h (90 days)", retention)
		}
		if cfg.MaxConnections, err = strconv.Atoi(maxConns); err != nil || cfg.MaxConnections < 1 {
			return badInputf("PORTAL_MAX_CONNECTIONS %q: want a positive number such as 1000", maxConns)
		}
		if cfg.SignInRate, err = strconv.Atoi(signInRate); err != nil || cfg.SignInRate < 1 {
			return badInputf("PORTAL_SIGNIN_RATE %q: want a positive number of sign-ins a minute such as 1200", signInRate)
		}
		if cfg.AdminSignInRate, err = strconv.Atoi(adminSignInRate); err != nil || cfg.AdminSignInRate < 1 {
			return badInputf("PORTAL_ADMIN_SIGNIN_RATE %q: want a positive number of attempts a minute such as 10", adminSignInRate)
		}
		if cfg.ShutdownGrace, err = time.ParseDuration(grace); err != nil || cfg.ShutdownGrace < 0 || cfg.ShutdownGrace > 10*time.Minute {
			return badInputf("PORTAL_SHUTDOWN_GRACE %q: want a duration such as 5s, at most 10m (0 to stop at once)", grace)
		}
		if _, err := database.PoolConfig(cfg.DatabaseURL); err != nil {
			return badInputf("DATABASE_URL: %v", err)
		}
		if _, err := database.PoolConfig(cfg.directURL()); err != nil {
			return badInputf("PORTAL_DIRECT_DATABASE_URL: %v", err)
		}
		if _, err := sites.ParseBaseURL(cfg.BaseURL); err != nil {
			return badInput(err)
		}
		if _, err := web.ParseTrustedProxies(cfg.TrustedProxies); err != nil {
			return badInput(err)
		}
		if _, _, err := cfg.mail(); err != nil {
			return err
		}
		if !slices.Contains(web.LogFormats, cfg.LogFormat) {
			return badInputf("--log-format, PORTAL_LOG_FORMAT %q: want json or text", cfg.LogFormat)
		}
		if _, err := cfg.media(); err != nil {
			return err
		}
		return nil
	}
	return cfg, validate
}

// media reads the media settings.
func (cfg *config) media() (meetings.MediaConfig, error) {
	var m meetings.MediaConfig
	port := func(name, value string) (int, error) {
		n, err := strconv.Atoi(value)
		if err != nil || n < 0 || n > 65535 {
			return 0, badInputf("%s %q: want a port number (0 to 65535; 0 picks a free one)", name, value)
		}
		return n, nil
	}
	var err error
	if m.SFU.UDPPort, err = port("PORTAL_MEDIA_UDP", cfg.MediaUDP); err != nil {
		return m, err
	}
	if strings.EqualFold(cfg.MediaTCP, "off") {
		m.SFU.TCPPort = -1
	} else if m.SFU.TCPPort, err = port("PORTAL_MEDIA_TCP", cfg.MediaTCP); err != nil {
		return m, badInputf("%v, or off", err)
	}
	if m.SFU.PublicIPs, err = media.ParsePublicIPs(cfg.MediaPublicIP); err != nil {
		return m, badInputf("PORTAL_MEDIA_PUBLIC_IP: %v", err)
	}
	if m.SFU.ICEServers, err = media.ParseICEServers(cfg.ICEServers); err != nil {
		return m, badInputf("PORTAL_ICE_SERVERS: %v", err)
	}
	if m.InternalURL, err = internalURL(cfg.InternalURL, cfg.Addr); err != nil {
		return m, err
	}
	return m, nil
}

// internalURL checks PORTAL_INTERNAL_URL, or makes one from the listen
// address: its host when it names one, else this machine's first address
// that is not loopback (what other machines most likely reach it at;
// loopback when it has none, which suits processes on one machine).
func internalURL(value, addr string) (string, error) {
	if value != "" {
		u, err := url.Parse(value)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.User != nil {
			return "", badInputf("PORTAL_INTERNAL_URL %q: want http://host:port, with no path", value)
		}
		return strings.TrimSuffix(value, "/"), nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		// serve refuses the listen address itself (checkListenAddr); the
		// other commands listen on nothing.
		return "", nil
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
		if addrs, err := net.InterfaceAddrs(); err == nil {
			for _, a := range addrs {
				if n, ok := a.(*net.IPNet); ok && n.IP.IsGlobalUnicast() && n.IP.To4() != nil {
					host = n.IP.String()
					break
				}
			}
		}
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

// mail reads PORTAL_SMTP_URL and PORTAL_MAIL_FROM; nil values mean no SMTP
// server and the default From.
func (cfg *config) mail() (*mail.SMTPConfig, *netmail.Address, error) {
	var smtp *mail.SMTPConfig
	if cfg.SMTPURL != "" {
		parsed, err := mail.ParseSMTPURL(cfg.SMTPURL)
		if err != nil {
			return nil, nil, badInputf("PORTAL_SMTP_URL: %v", err)
		}
		smtp = &parsed
	}
	var from *netmail.Address
	if cfg.MailFrom != "" {
		addr, err := netmail.ParseAddress(cfg.MailFrom)
		if err != nil {
			return nil, nil, badInputf("PORTAL_MAIL_FROM %q: want an address such as \"Meetings <meetings@example.com>\"", cfg.MailFrom)
		}
		from = addr
	}
	return smtp, from, nil
}

// checkAddresses checks the listen addresses, which only serve uses.
func (cfg *config) checkAddresses() error {
	if err := checkListenAddr("PORTAL_ADDR (--addr)", cfg.Addr); err != nil {
		return err
	}
	if err := checkListenAddr("PORTAL_METRICS_ADDR (--metrics-addr)", cfg.MetricsAddr); err != nil {
		return err
	}
	if _, port, _ := net.SplitHostPort(cfg.Addr); cfg.Addr == cfg.MetricsAddr && port != "0" {
		return badInputf("PORTAL_METRICS_ADDR %q is also PORTAL_ADDR: /metrics needs an address of its own", cfg.MetricsAddr)
	}
	return nil
}

// hostName is what a listen address may name besides an IP address.
var hostName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)

// checkListenAddr refuses a listen address that is empty or malformed.
// net.Listen reads "" as every interface on a random port and http.Server
// as ":80" on every interface: either way an empty PORTAL_METRICS_ADDR
// would expose /metrics to anyone. The host may be empty (":8080", every
// interface, said explicitly), an IP address or a host name; the port is a
// number (0 picks a free one).
func checkListenAddr(setting, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if addr == "" || err != nil {
		return badInputf("%s %q: want HOST:PORT, such as 127.0.0.1:9090 or :8080", setting, addr)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || strconv.FormatUint(n, 10) != port {
		return badInputf("%s %q: the port must be a number from 0 to 65535", setting, addr)
	}
	if _, err := netip.ParseAddr(host); host != "" && err != nil && !hostName.MatchString(host) {
		return badInputf("%s %q: %q is neither an IP address nor a host name", setting, addr, host)
	}
	return nil
}

// developmentKey is used only when PORTAL_SECRET_KEY is unset, with a
// warning: anyone with this source code can open keys sealed under it.
var developmentKey = sha256.Sum256([]byte("meetings-portal development key: never use in production"))

// secretBox opens PORTAL_SECRET_KEY, or the development key when it is
// unset; warn says whether to say so in the log. serve does, once per
// start; the one-shot commands do not, so that `make run`, which runs a few
// of them before serve, prints the warning once rather than at every step.
func (cfg *config) secretBox(log *slog.Logger, warn bool) (*seal.Box, error) {
	if cfg.SecretKey == "" && strings.HasPrefix(cfg.BaseURL, "https://") {
		// An https base URL means a real deployment: the built-in key is
		// public, so it would protect nothing.
		return nil, badInputf("PORTAL_SECRET_KEY must be set when PORTAL_BASE_URL is https (generate one with: openssl rand -hex 32)")
	}
	if cfg.SecretKey == "" {
		if !warn {
			return seal.New(developmentKey[:])
		}
		log.Warn("PORTAL_SECRET_KEY is not set: using the built-in DEVELOPMENT key. SP private keys in the database are NOT protected. Set PORTAL_SECRET_KEY to 32 random bytes (openssl rand -hex 32) in production.")
		return seal.New(developmentKey[:])
	}
	key, err := seal.ParseKey(cfg.SecretKey)
	if err != nil {
		return nil, badInputf("PORTAL_SECRET_KEY: %v", err)
	}
	return seal.New(key)
}

// directURL reaches PostgreSQL itself (not through a transaction-pooling
// proxy): PORTAL_DIRECT_DATABASE_URL, else DATABASE_URL.
func (cfg *config) directURL() string {
	if cfg.DirectDatabaseURL != "" {
		return cfg.DirectDatabaseURL
	}
	return cfg.DatabaseURL
}

// appConfig is the configuration as the portal is built from it;
// warnDevKey is secretBox's warn.
func (cfg *config) appConfig(log *slog.Logger, warnDevKey bool) (app.Config, error) {
	hosts, err := sites.ParseBaseURL(cfg.BaseURL)
	if err != nil {
		return app.Config{}, badInput(err)
	}
	proxies, err := web.ParseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		return app.Config{}, badInput(err)
	}
	box, err := cfg.secretBox(log, warnDevKey)
	if err != nil {
		return app.Config{}, err
	}
	smtp, from, err := cfg.mail()
	if err != nil {
		return app.Config{}, err
	}
	mediaConfig, err := cfg.media()
	if err != nil {
		return app.Config{}, err
	}
	var direct *pgx.ConnConfig
	if cfg.DirectDatabaseURL != "" {
		poolConfig, err := database.PoolConfig(cfg.DirectDatabaseURL)
		if err != nil {
			return app.Config{}, badInputf("PORTAL_DIRECT_DATABASE_URL: %v", err)
		}
		direct = poolConfig.ConnConfig
	}
	return app.Config{
		Hosts: hosts, TrustedProxies: proxies, Box: box, Log: log, Direct: direct,
		MetadataAllowPrivate: cfg.MetadataAllowPrivate, EventRetention: cfg.EventRetention,
		SMTP: smtp, MailFrom: from, SignInRate: cfg.SignInRate, AdminSignInRate: cfg.AdminSignInRate, Media: mediaConfig,
	}, nil
}
