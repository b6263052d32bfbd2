package identifier_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/meetings-portal/portal/internal/identifier"
)

func TestNormalizeKeepsPeopleApart(t *testing.T) {
	cases := []struct {
		in, want string
	}{
		{"b.simon@contoso.com", "b.simon@contoso.com"},
		{"  B.Simon@CONTOSO.com ", "b.simon@contoso.com"},
		{"ｂ.simon@contoso.com", "b.simon@contoso.com"}, // fullwidth b: width mapping
		// U+0130 case-maps to i + U+0307, never to a plain i.
		{"b.sİmon@contoso.com", "b.si\u0307mon@contoso.com"},
		{"Müller@Bücher.example", "müller@bücher.example"},
		{"mu\u0308ller@example.com", "müller@example.com"}, // NFC
		{"bsimon", "bsimon"},
		{"EMPLOYEE-0042", "employee-0042"},
	}
	for _, c := range cases {
		got, err := identifier.Normalize(c.in)
		if err != nil || got != c.want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	if a, _ := identifier.Normalize("b.sİmon@contoso.com"); a == "b.simon@contoso.com" {
		t.Fatal("U+0130 folds into another person's uid")
	}
}

func TestNormalizeRefusesWhatPRECISRefuses(t *testing.T) {
	for _, in := range []string{
		"", "b simon@contoso.com", "b\u200dsimon@contoso.com", "b.simon\u0000@contoso.com",
		"\u01c4z@contoso.com", // titlecase/compat digraph DŽ: disallowed
		"b.simon@", "@contoso.com", "b.simon@contoso", "b.simon@exa mple.com",
		strings.Repeat("a", 250) + "@contoso.com",
	} {
		if got, err := identifier.Normalize(in); !errors.Is(err, identifier.ErrRefused) {
			t.Errorf("Normalize(%q) = %q, %v; want a refusal", in, got, err)
		}
	}
}

func TestLookAlike(t *testing.T) {
	norm := func(s string) string {
		out, err := identifier.Normalize(s)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	cases := []struct {
		a, b string
		want bool
	}{
		{"b.simon@contoso.com", "b.sİmon@contoso.com", true},
		{"b.simon@contoso.com", "b.sımon@contoso.com", true},      // dotless ı
		{"b.simon@contoso.com", "b.\u0455imon@contoso.com", true}, // Cyrillic ѕ
		{"paypal@contoso.com", "p\u0430ypal@contoso.com", true},   // Cyrillic а
		{"b.simon@contoso.com", "b.simon@contoso.com", false},     // the same
		{"b.sirnon@contoso.com", "b.simon@contoso.com", false},    // ASCII pairs are colleagues
		{"b.simon@contoso.com", "a.lee@contoso.com", false},
		{"müller@contoso.com", "muller@contoso.com", false},
	}
	for _, c := range cases {
		if got := identifier.LookAlike(norm(c.a), norm(c.b)); got != c.want {
			t.Errorf("LookAlike(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
	if got := identifier.Unusual(norm("b.sİmon@contoso.com")); len(got) != 1 || got[0] != "U+0307 COMBINING DOT ABOVE" {
		t.Errorf("Unusual = %q", got)
	}
}
