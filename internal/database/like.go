package database

import "strings"

// LikeLiteral escapes the LIKE metacharacters of s (PostgreSQL's default
// escape character is the backslash), so that "_" or "%" typed in a search
// box is looked for as typed instead of matching anything.
func LikeLiteral(s string) string { return likeEscaper.Replace(s) }

// likeEscaper is built once: a Replacer builds its tables on first use,
// which per search was most of the allocation of the pages that search.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
