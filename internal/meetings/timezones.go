package meetings

import (
	_ "embed"
	"errors"
	"fmt"
	"html"
	"html/template"
	"slices"
	"strings"
	"sync"
	"time"

	// The portal runs in small containers without /usr/share/zoneinfo;
	// embedding Go's copy of the tz database keeps LoadLocation working there.
	_ "time/tzdata"
)

// ErrUnknownTimeZone refuses a zone name that is not in TimeZones.
var ErrUnknownTimeZone = errors.New("unknown time zone")

//go:embed zones.txt
var zonesFile string

// zoneNames parses zones.txt once; the list never changes while running.
var zoneNames = sync.OnceValue(func() []string {
	var names []string
	for line := range strings.Lines(zonesFile) {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			names = append(names, line)
		}
	}
	return names
})

// zoneOptions are the <option> elements of TimeZones, escaped once and
// joined (html), with where each one starts in it (at; the last entry is
// the end): the Preferences page offers all of them, and a template ranging
// over 600 zones was two thirds of the page's cost.
var zoneOptions = sync.OnceValue(func() (options struct {
	html string
	at   []int
}) {
	var b strings.Builder
	for _, z := range zoneNames() {
		options.at = append(options.at, b.Len())
		b.WriteString(zoneOption(z, false))
	}
	options.at = append(options.at, b.Len())
	options.html = b.String()
	return options
})

func zoneOption(zone string, selected bool) string {
	mark := ""
	if selected {
		mark = " selected"
	}
	return `<option value="` + html.EscapeString(zone) + `"` + mark + `>` + html.EscapeString(strings.ReplaceAll(zone, "_", " ")) + `</option>`
}

// ZoneOptions is the options of a time zone <select>: every zone of
// TimeZones, labelled with spaces for underscores, selected selected. It
// is the escaped list with one option swapped: one string of the list's
// size, not one built up option by option.
func ZoneOptions(selected string) template.HTML {
	options := zoneOptions()
	i := slices.Index(zoneNames(), selected)
	if i < 0 {
		return template.HTML(options.html)
	}
	return template.HTML(options.html[:options.at[i]] + zoneOption(selected, true) + options.html[options.at[i+1]:])
}

// TimeZones lists the IANA zone names a person may choose, UTC first, then
// sorted. The caller must not modify it.
func TimeZones() []string { return zoneNames() }

// LoadZone returns the location of a zone from TimeZones. Names outside the
// list (links such as "US/Eastern", POSIX strings, "Local") are refused so
// that every stored name is one the pages can offer again.
func LoadZone(name string) (*time.Location, error) {
	if loc, ok := loadedZones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	if !slices.Contains(zoneNames(), name) {
		return nil, fmt.Errorf("%w: %q", ErrUnknownTimeZone, name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrUnknownTimeZone, name, err)
	}
	loadedZones.Store(name, loc)
	return loc, nil
}

// loadedZones keeps every zone LoadZone has loaded (at most the 600 of
// TimeZones; a Location is never modified): time.LoadLocation reads and
// parses the zone's file each time, 15 µs, and every page that shows a time
// in the viewer's zone loads it.
var loadedZones sync.Map

// mustZone is LoadZone for names read back from the database, which were
// checked when written; a zone that stopped loading falls back to UTC
// rather than failing every page that shows the meeting.
func mustZone(name string) *time.Location {
	loc, err := LoadZone(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// localKind says how a wall-clock time maps to instants in a zone.
type localKind int

const (
	localNormal    localKind = iota // occurs exactly once
	localGap                        // skipped when clocks go forward
	localAmbiguous                  // occurs twice when clocks go back
)

// wallClock is the one place that turns a local date and time in a zone into
// an instant. It follows RFC 5545 section 3.3.5 (DATE-TIME with TZID), the
// rule every calendar client applies to the invitations we send, so that the
// portal and the invitees' calendars agree:
//   - a time that occurs twice (clocks go back) is its first occurrence;
//   - a time that does not occur (clocks go forward) is read with the UTC
//     offset in force before the gap, so 02:30 on the day Berlin skips from
//     02:00 to 03:00 becomes 03:30 CEST.
//
// Go's time.Date leaves both cases unspecified (and picks the other answer
// in each), hence this function.
func wallClock(loc *time.Location, year int, month time.Month, day, hour, minute int) (time.Time, localKind) {
	naive := time.Date(year, month, day, hour, minute, 0, 0, time.UTC)
	// No zone changes its offset twice within two days, so the offsets a
	// day either side are the only candidates.
	_, before := naive.Add(-24 * time.Hour).In(loc).Zone()
	_, after := naive.Add(24 * time.Hour).In(loc).Zone()
	var matches []time.Time
	for _, offset := range []int{before, after} {
		t := naive.Add(-time.Duration(offset) * time.Second).In(loc)
		if sameWallClock(t, naive) && !slices.ContainsFunc(matches, t.Equal) {
			matches = append(matches, t)
		}
	}
	switch len(matches) {
	case 0:
		return naive.Add(-time.Duration(before) * time.Second).In(loc), localGap
	case 1:
		return matches[0], localNormal
	default:
		first := matches[0]
		if matches[1].Before(first) {
			first = matches[1]
		}
		return first, localAmbiguous
	}
}

func sameWallClock(t, naive time.Time) bool {
	y, mo, d := t.Date()
	ny, nmo, nd := naive.Date()
	return y == ny && mo == nmo && d == nd && t.Hour() == naive.Hour() && t.Minute() == naive.Minute()
}

// floating returns t's wall clock in loc as a UTC time with the same fields:
// the "floating" time recurrence rules are expanded on, so that a weekly
// meeting stays at 10:00 local whatever the offset does.
func floating(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC)
}

// unfloat is the inverse of floating, through wallClock's RFC 5545 rules.
func unfloat(f time.Time, loc *time.Location) time.Time {
	t, _ := wallClock(loc, f.Year(), f.Month(), f.Day(), f.Hour(), f.Minute())
	return t
}
