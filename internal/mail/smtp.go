package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"net/url"
	"time"
)

// SMTPConfig is where mail goes, read from PORTAL_SMTP_URL.
type SMTPConfig struct {
	Addr        string // host:port
	Username    string
	Password    string
	ImplicitTLS bool // smtps://: TLS from the first byte (port 465)
	// TLSConfig overrides the TLS settings (tests trust their own CA); nil
	// verifies the server's certificate for its host name.
	TLSConfig *tls.Config
}

// ParseSMTPURL reads smtp://user:pass@host:port (STARTTLS whenever the
// server offers it; port 587 by default) or smtps://user:pass@host:port
// (implicit TLS; port 465 by default). User and password are optional and
// percent-decoded.
func ParseSMTPURL(raw string) (SMTPConfig, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return SMTPConfig{}, fmt.Errorf("SMTP URL: %w", err)
	}
	var cfg SMTPConfig
	port := u.Port()
	switch u.Scheme {
	case "smtp":
		if port == "" {
			port = "587"
		}
	case "smtps":
		cfg.ImplicitTLS = true
		if port == "" {
			port = "465"
		}
	default:
		return SMTPConfig{}, fmt.Errorf("SMTP URL: scheme must be smtp or smtps, not %q", u.Scheme)
	}
	if u.Hostname() == "" {
		return SMTPConfig{}, errors.New("SMTP URL: no host")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return SMTPConfig{}, errors.New("SMTP URL: want smtp[s]://[user:pass@]host[:port] with no path or query")
	}
	cfg.Addr = net.JoinHostPort(u.Hostname(), port)
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
	}
	return cfg, nil
}

// String is the configuration without its password, for logs.
func (c SMTPConfig) String() string {
	scheme := "smtp"
	if c.ImplicitTLS {
		scheme = "smtps"
	}
	if c.Username != "" {
		return scheme + "://" + c.Username + ":***@" + c.Addr
	}
	return scheme + "://" + c.Addr
}

// heloName is the name the portal gives in EHLO. Servers log it but do not
// check it against submitting clients, and the portal's own host name is
// often an internal container name anyway.
const heloName = "localhost"

// Sender hands one rendered message to a mail server.
type Sender interface {
	Send(ctx context.Context, from string, to []string, msg []byte) error
}

// SMTPSender sends through the server of its configuration, one connection
// per message (invitations are few; a pooled connection would only add
// failure modes).
type SMTPSender struct {
	Config  SMTPConfig
	Timeout time.Duration // per message; 0 means one minute
}

// Send delivers msg. A *textproto.Error with a 5xx code is a permanent
// refusal (see Permanent).
func (s *SMTPSender) Send(ctx context.Context, from string, to []string, msg []byte) error {
	timeout := s.Timeout
	if timeout == 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	host, _, _ := net.SplitHostPort(s.Config.Addr)
	tlsConfig := s.Config.TLSConfig
	if tlsConfig == nil {
		tlsConfig = &tls.Config{ServerName: host}
	}
	var conn net.Conn
	var err error
	if s.Config.ImplicitTLS {
		conn, err = (&tls.Dialer{Config: tlsConfig}).DialContext(ctx, "tcp", s.Config.Addr)
	} else {
		conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", s.Config.Addr)
	}
	if err != nil {
		return fmt.Errorf("connect to %s: %w", s.Config.Addr, err)
	}
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline) //nolint:errcheck // a missed deadline shows as a failed command
	// Cancelling ctx (shutdown) interrupts a send in progress.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) }) //nolint:errcheck
	defer stop()

	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("SMTP greeting from %s: %w", s.Config.Addr, err)
	}
	defer c.Close()
	if err := c.Hello(heloName); err != nil {
		return fmt.Errorf("SMTP hello: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok && !s.Config.ImplicitTLS {
		if err := c.StartTLS(tlsConfig); err != nil {
			return fmt.Errorf("SMTP STARTTLS: %w", err)
		}
	}
	if s.Config.Username != "" {
		// PlainAuth refuses to send the password over a connection that is
		// neither TLS nor to localhost.
		if err := c.Auth(smtp.PlainAuth("", s.Config.Username, s.Config.Password, host)); err != nil {
			return fmt.Errorf("SMTP authentication as %s: %w", s.Config.Username, err)
		}
	}
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("SMTP MAIL FROM %s: %w", from, err)
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			return fmt.Errorf("SMTP RCPT TO %s: %w", rcpt, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("SMTP DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("SMTP DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("SMTP DATA: %w", err)
	}
	// The server has accepted the message; a failed QUIT loses nothing.
	_ = c.Quit()
	return nil
}

// Permanent reports whether err is a refusal that retrying cannot cure: an
// SMTP 5xx reply (unknown mailbox, message rejected).
func Permanent(err error) bool {
	var protoErr *textproto.Error
	return errors.As(err, &protoErr) && protoErr.Code >= 500
}
