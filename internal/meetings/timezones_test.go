package meetings

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestEveryOfferedTimeZoneLoads(t *testing.T) {
	zones := TimeZones()
	if len(zones) < 300 || zones[0] != "UTC" {
		t.Fatalf("TimeZones: %d names starting with %q; want UTC first and the tz database's zones", len(zones), zones[0])
	}
	for _, name := range zones {
		if _, err := LoadZone(name); err != nil {
			t.Errorf("LoadZone(%q): %v", name, err)
		}
	}
}

func TestLoadZoneRefusesNamesOutsideTheList(t *testing.T) {
	for _, name := range []string{"", "Local", "US/Eastern", "Europe/Atlantis", "EST5EDT", "../../etc/passwd"} {
		if _, err := LoadZone(name); !errors.Is(err, ErrUnknownTimeZone) {
			t.Errorf("LoadZone(%q) = %v, want ErrUnknownTimeZone", name, err)
		}
	}
}

func TestWallClockFollowsRFC5545AcrossDSTChanges(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	newYork := mustLoad(t, "America/New_York")
	tests := []struct {
		name      string
		loc       *time.Location
		date      [3]int
		hour, min int
		wantUTC   string
		wantKind  localKind
	}{
		{"winter", berlin, [3]int{2026, 1, 15}, 10, 0, "2026-01-15T09:00:00Z", localNormal},
		{"summer", berlin, [3]int{2026, 7, 15}, 10, 0, "2026-07-15T08:00:00Z", localNormal},
		// Berlin skips 02:00-03:00 on 29 March 2026: read with the offset
		// before the gap (+01:00), so 02:30 is 01:30Z = 03:30 CEST.
		{"gap", berlin, [3]int{2026, 3, 29}, 2, 30, "2026-03-29T01:30:00Z", localGap},
		// Berlin repeats 02:00-03:00 on 25 October 2026: the first
		// occurrence (CEST, +02:00) is meant.
		{"ambiguous", berlin, [3]int{2026, 10, 25}, 2, 30, "2026-10-25T00:30:00Z", localAmbiguous},
		{"new york gap", newYork, [3]int{2026, 3, 8}, 2, 30, "2026-03-08T07:30:00Z", localGap},
		{"new york ambiguous", newYork, [3]int{2026, 11, 1}, 1, 30, "2026-11-01T05:30:00Z", localAmbiguous},
		{"utc", time.UTC, [3]int{2026, 3, 29}, 2, 30, "2026-03-29T02:30:00Z", localNormal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, kind := wallClock(tt.loc, tt.date[0], time.Month(tt.date[1]), tt.date[2], tt.hour, tt.min)
			if got.UTC().Format(time.RFC3339) != tt.wantUTC || kind != tt.wantKind {
				t.Errorf("wallClock = %s (kind %d), want %s (kind %d)", got.UTC().Format(time.RFC3339), kind, tt.wantUTC, tt.wantKind)
			}
			if got.Location() != tt.loc {
				t.Errorf("location %v, want %v", got.Location(), tt.loc)
			}
		})
	}
}

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := LoadZone(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestZoneOptionsOfferEveryZoneWithOneSelected(t *testing.T) {
	for _, tc := range []struct {
		selected, want string
	}{
		{"Europe/Paris", `<option value="Europe/Paris" selected>Europe/Paris</option>`},
		{"America/New_York", `<option value="America/New_York" selected>America/New York</option>`},
		{"UTC", `<option value="UTC" selected>UTC</option>`},
		{"Mars/Olympus", ""},
		// The list's last option, replaced at its end.
		{TimeZones()[len(TimeZones())-1], `<option value="` + TimeZones()[len(TimeZones())-1] + `" selected>`},
	} {
		got := string(ZoneOptions(tc.selected))
		if n := strings.Count(got, "<option "); n != len(TimeZones()) {
			t.Errorf("%s: %d options, want %d", tc.selected, n, len(TimeZones()))
		}
		wantSelected := 1
		if tc.want == "" {
			wantSelected = 0
		} else if !strings.Contains(got, tc.want) {
			t.Errorf("%s: no %s", tc.selected, tc.want)
		}
		if n := strings.Count(got, " selected>"); n != wantSelected {
			t.Errorf("%s: %d selected, want %d", tc.selected, n, wantSelected)
		}
		if !strings.HasPrefix(got, `<option value="UTC"`) || !strings.HasSuffix(got, "</option>") {
			t.Errorf("%s: the list does not start with UTC and end with an option: %.80s … %s", tc.selected, got, got[max(0, len(got)-80):])
		}
	}
	// Selecting one does not change the list for the next page.
	if strings.Contains(string(ZoneOptions("")), "selected") {
		t.Error("a selection stayed in the shared list")
	}
}
