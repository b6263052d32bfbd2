// Package meetings is the meetings domain of a site: scheduling (a form
// type, recurrences, meeting numbers), calendar invitations queued through
// package mail, personal rooms, time-zone preferences and the site's
// meeting settings, the access rules every page applies, and live meetings
// (lobby, admission, presence) with a Watcher that wakes the pages of every
// portal process through PostgreSQL LISTEN/NOTIFY. Its Handler serves the
// pages (home, preferences, the Schedule form, meeting pages with the live
// lobby and its event stream, join links, past meetings), thin over the
// Store and the Lobby.
//
// Times are stored as UTC instants plus the IANA zone the host entered them
// in; wallClock is the one place that turns a local date and time into an
// instant (with RFC 5545's rules where DST makes a time ambiguous or
// skipped), and recurrences are expanded on wall-clock time in the
// meeting's zone so a weekly 10:00 meeting stays at 10:00 across DST.
//
// Libraries:
//   - github.com/teambition/rrule-go expands RRULEs. It is what
//     emersion/go-ical itself uses, has no dependencies, and reads and
//     writes RFC 5545 RRULE strings; the portal feeds it floating
//     (zone-less) times and converts each occurrence with wallClock.
//   - github.com/arran4/golang-ical writes the iCalendar objects (.ics
//     downloads and invitations). It folds lines at 75 octets without
//     splitting UTF-8 characters and escapes TEXT values, as RFC 5545
//     section 3.1 and 3.3.11 require, has typed helpers for METHOD,
//     ORGANIZER, ATTENDEE and STATUS, and has tagged releases and recent
//     maintenance. github.com/emersion/go-ical was the alternative: a
//     cleaner data model, but its encoder does not fold long lines and it
//     has no tagged release. Two gaps of golang-ical are covered here:
//     it writes "\n" line ends unless told otherwise (serialize asks for
//     CRLF) and backslash-escapes parameter values instead of quoting them
//     (paramText keeps , ; : out of CN).
package meetings
