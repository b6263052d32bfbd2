package web

import (
	"regexp"
	"testing"
	"time"
)

// References made in one minute share their first five characters (the
// index by reference is written in one place); the rest is random, and
// the next minute's references start otherwise.
func TestReferencesOfOneMinuteSharePrefix(t *testing.T) {
	format := regexp.MustCompile(`^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$`)
	minute := time.Date(2026, 11, 30, 14, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	var prefix string
	for i := range 1000 {
		ref := newReference(minute.Add(time.Duration(i%60) * time.Second))
		if !format.MatchString(ref) {
			t.Fatalf("reference %q is not XXXX-XXXX-XXXX in base32", ref)
		}
		if seen[ref] {
			t.Fatalf("reference %q made twice", ref)
		}
		seen[ref] = true
		if i == 0 {
			prefix = ref[:6] // four characters, the dash, the fifth
		} else if ref[:6] != prefix {
			t.Fatalf("reference %q of the same minute does not start with %q", ref, prefix)
		}
	}
	if next := newReference(minute.Add(time.Minute)); next[:6] == prefix {
		t.Errorf("the next minute's reference %q starts like this minute's %q", next, prefix)
	}
	if got := NewReference(); !format.MatchString(got) {
		t.Errorf("NewReference() = %q", got)
	}
}
