package mailtest

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"
)

// Parsed is a received message taken apart.
type Parsed struct {
	Header gomail.Header
	// Structure lists every part's media type, depth-first, indented two
	// spaces per level: "multipart/mixed", "  multipart/alternative", …
	Structure      []string
	Text, HTML     string
	Calendar       []byte // the text/calendar alternative
	CalendarMethod string // its method parameter
	Attachments    map[string][]byte
}

// Parse reads a message as a mail client would, with go-message's reader
// (transfer encodings undone).
func Parse(t testing.TB, data []byte) Parsed {
	t.Helper()
	entity, err := message.Read(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("mailtest: read message: %v", err)
	}
	p := Parsed{Header: gomail.Header{Header: entity.Header}, Attachments: map[string][]byte{}}
	err = entity.Walk(func(path []int, e *message.Entity, err error) error {
		if err != nil {
			return err
		}
		mediaType, params, err := e.Header.ContentType()
		if err != nil {
			return err
		}
		p.Structure = append(p.Structure, strings.Repeat("  ", len(path))+mediaType)
		if strings.HasPrefix(mediaType, "multipart/") {
			return nil
		}
		body, err := io.ReadAll(e.Body)
		if err != nil {
			return err
		}
		if disposition, dparams, _ := e.Header.ContentDisposition(); disposition == "attachment" {
			p.Attachments[dparams["filename"]] = body
			return nil
		}
		switch mediaType {
		case "text/plain":
			p.Text = string(body)
		case "text/html":
			p.HTML = string(body)
		case "text/calendar":
			p.Calendar, p.CalendarMethod = body, params["method"]
		}
		return nil
	})
	if err != nil {
		t.Fatalf("mailtest: walk message: %v", err)
	}
	return p
}
