package mail

import (
	"bytes"
	"fmt"
	"io"
	"net/mail"
	"strings"
	"time"

	gomail "github.com/emersion/go-message/mail"
)

// Compose renders a message as RFC 5322 bytes with CRLF line ends:
//
//	multipart/mixed
//	├── multipart/alternative
//	│   ├── text/plain
//	│   ├── text/html                        (when HTML is set)
//	│   └── text/calendar; method=REQUEST    (when Calendar is set)
//	└── application/ics invite.ics           (when Calendar is set)
//
// Outlook and Gmail turn a message into an invitation with Accept/Decline
// from the text/calendar alternative and its method parameter (RFC 6047
// section 2.4); Apple Mail and Thunderbird also offer the attachment.
// A message without a calendar is a plain multipart/alternative.
func Compose(from *mail.Address, m Message, date time.Time) ([]byte, error) {
	var h gomail.Header
	h.SetDate(date)
	h.SetAddressList("From", []*gomail.Address{{Name: from.Name, Address: from.Address}})
	h.SetAddressList("To", []*gomail.Address{{Address: m.To}})
	h.SetSubject(m.Subject)
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	if err := h.GenerateMessageIDWithHostname(domain); err != nil {
		return nil, fmt.Errorf("compose: message ID: %w", err)
	}

	var buf bytes.Buffer
	if m.Calendar == nil {
		w, err := gomail.CreateInlineWriter(&buf, h)
		if err != nil {
			return nil, fmt.Errorf("compose: %w", err)
		}
		if err := writeAlternatives(w, m); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}

	w, err := gomail.CreateWriter(&buf, h)
	if err != nil {
		return nil, fmt.Errorf("compose: %w", err)
	}
	alternatives, err := w.CreateInline()
	if err != nil {
		return nil, fmt.Errorf("compose: %w", err)
	}
	if err := writeAlternatives(alternatives, m); err != nil {
		return nil, err
	}
	var ah gomail.AttachmentHeader
	ah.SetContentType("application/ics", map[string]string{"name": "invite.ics"})
	ah.SetFilename("invite.ics")
	if err := writePart(func() (io.WriteCloser, error) { return w.CreateAttachment(ah) }, m.Calendar); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("compose: %w", err)
	}
	return buf.Bytes(), nil
}

func writeAlternatives(w *gomail.InlineWriter, m Message) error {
	part := func(contentType string, params map[string]string, body []byte) error {
		var ih gomail.InlineHeader
		ih.SetContentType(contentType, params)
		return writePart(func() (io.WriteCloser, error) { return w.CreatePart(ih) }, body)
	}
	utf8 := map[string]string{"charset": "utf-8"}
	if err := part("text/plain", utf8, []byte(m.Text)); err != nil {
		return err
	}
	if m.HTML != "" {
		if err := part("text/html", utf8, []byte(m.HTML)); err != nil {
			return err
		}
	}
	if m.Calendar != nil {
		if err := part("text/calendar", map[string]string{"charset": "utf-8", "method": m.CalendarMethod}, m.Calendar); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("compose: %w", err)
	}
	return nil
}

func writePart(create func() (io.WriteCloser, error), body []byte) error {
	pw, err := create()
	if err != nil {
		return fmt.Errorf("compose: %w", err)
	}
	if _, err := pw.Write(body); err != nil {
		return fmt.Errorf("compose: %w", err)
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("compose: %w", err)
	}
	return nil
}
