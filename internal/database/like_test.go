package database_test

import (
	"testing"

	"github.com/meetings-portal/portal/internal/database"
)

func TestLikeLiteralEscapesTheMetacharacters(t *testing.T) {
	for in, want := range map[string]string{
		"":             "",
		"b.simon":      "b.simon",
		"user_1":       `user\_1`,
		"100%":         `100\%`,
		`a\b`:          `a\\b`,
		`\%_`:          `\\\%\_`,
		"Zoë 李 ✓":      "Zoë 李 ✓",
		"%_already\\_": `\%\_already\\\_`,
	} {
		if got := database.LikeLiteral(in); got != want {
			t.Errorf("LikeLiteral(%q) = %q, want %q", in, got, want)
		}
	}
}
