// Package mailtest runs an SMTP server inside a test (github.com/emersion/go-smtp)
// that keeps what it receives and can refuse on demand, so tests see the
// exact bytes a real mail server would get.
package mailtest

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Received is one accepted message.
type Received struct {
	From string
	To   []string
	Data []byte
}

// Server is an in-process SMTP server on 127.0.0.1.
type Server struct {
	Addr string

	mu       sync.Mutex
	received []Received
	refusals []*smtp.SMTPError
	arrived  chan struct{}
}

// NewServer starts a server that stops when t ends.
func NewServer(t testing.TB) *Server {
	t.Helper()
	s := &Server{arrived: make(chan struct{}, 1000)}
	srv := smtp.NewServer(backend{s})
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	s.Addr = ln.Addr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln) //nolint:errcheck // returns when closed
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return s
}

// RefuseNext makes the next DATA commands fail with these replies, in
// order, before accepting again.
func (s *Server) RefuseNext(replies ...*smtp.SMTPError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refusals = append(s.refusals, replies...)
}

// Temporary is a 451 reply: "try again later".
var Temporary = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Greylisted, try again later"}

// Permanent is a 550 reply: "no such mailbox".
var Permanent = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such mailbox"}

// Messages returns what was accepted so far.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// Wait returns once n messages have been accepted in all, or fails t after
// the timeout.
func (s *Server) Wait(t testing.TB, n int, timeout time.Duration) []Received {
	t.Helper()
	deadline := time.After(timeout)
	for {
		if got := s.Messages(); len(got) >= n {
			return got
		}
		select {
		case <-s.arrived:
		case <-deadline:
			t.Fatalf("mailtest: %d messages after %s, want %d", len(s.Messages()), timeout, n)
		}
	}
}

type backend struct{ s *Server }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s    *Server
	from string
	to   []string
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	if len(ss.s.refusals) > 0 {
		refusal := ss.s.refusals[0]
		ss.s.refusals = ss.s.refusals[1:]
		return refusal
	}
	if ss.from == "" || len(ss.to) == 0 {
		return errors.New("mailtest: DATA without MAIL FROM and RCPT TO")
	}
	ss.s.received = append(ss.s.received, Received{From: ss.from, To: ss.to, Data: data})
	select {
	case ss.s.arrived <- struct{}{}:
	default:
	}
	return nil
}

func (ss *session) Reset() {
	ss.from, ss.to = "", nil
}

func (ss *session) Logout() error { return nil }
