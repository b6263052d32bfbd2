// Package identifier normalises and compares the identifiers that name an
// account — a user's uid and e-mail address, an admin's e-mail address — so
// that two people can never share one, and so that an identifier that only
// looks like another is seen for what it is.
//
// strings.ToLower is not enough: it folds U+0130 (İ, LATIN CAPITAL LETTER
// I WITH DOT ABOVE) to a plain i, so "b.sİmon@contoso.com" became
// "b.simon@contoso.com", someone else's account. Identifiers are instead
// prepared and compared with the PRECIS framework (RFC 8264) as RFC 8265
// profiles it for usernames, through golang.org/x/text/secure/precis, and
// look-alikes are found with the Unicode confusable skeletons of UTS #39
// (github.com/mtibben/confusables, Unicode's confusables.txt).
package identifier

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/mtibben/confusables"
	"golang.org/x/net/idna"
	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/unicode/runenames"
)

// MaxLength is the longest identifier accepted, in octets once normalised:
// an e-mail address's limit (RFC 5321 §4.5.3.1.3, as corrected by erratum
// 1690), which uids — Azure UPNs and e-mail addresses — share.
const MaxLength = 254

// Error is an identifier PRECIS or the e-mail rules refuse; it matches
// ErrRefused.
type Error struct {
	Value  string // as received, for the admin's explanation
	Reason string // why, for the admin
}

func (e *Error) Error() string {
	return fmt.Sprintf("identifier %q refused: %s", e.Value, e.Reason)
}

// Is makes every *Error match ErrRefused.
func (e *Error) Is(target error) bool { return target == ErrRefused }

// ErrRefused matches every refusal of this package.
var ErrRefused = errors.New("identifier refused")

func refused(value, format string, args ...any) error {
	if len(value) > 128 {
		value = strings.ToValidUTF8(value[:128], "") + "…"
	}
	return &Error{Value: value, Reason: fmt.Sprintf(format, args...)}
}

// Normalize prepares a uid for storage and comparison: an e-mail-like uid
// (with an @) as NormalizeEmail does, anything else as one RFC 8265
// username. Two uids name the same account exactly when their normalised
// forms are equal.
func Normalize(uid string) (string, error) {
	uid = strings.TrimSpace(uid)
	if strings.Contains(uid, "@") {
		return NormalizeEmail(uid)
	}
	return username(uid)
}

// NormalizeEmail prepares an e-mail address for storage and comparison.
//
// The local part goes through RFC 8265's UsernameCaseMapped profile: width
// mapping (fullwidth ｂ is b), case mapping to lower case by Unicode's
// rules (so İ becomes i followed by U+0307 COMBINING DOT ABOVE, not i), NFC,
// and the IdentifierClass, which refuses spaces, controls, symbols and
// invisible joiners. Case-mapped rather than case-preserved because
// accounts have always compared case-insensitively (Azure AD's UPNs and
// addresses are), and an address is also stored in this form so that code
// that lower-cases it later cannot fold it into another. Not OpaqueString
// (for passwords: it allows spaces and keeps case) and not Nickname (for
// display names: far too permissive for an account key).
//
// The domain is an IDNA domain name (UTS #46 as golang.org/x/net/idna's
// Lookup profile applies it: lower case, NFC, letters, digits and hyphens),
// kept in its Unicode form.
func NormalizeEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	at := strings.LastIndexByte(email, '@')
	if at <= 0 || at == len(email)-1 {
		return "", refused(email, "not an e-mail address")
	}
	local, err := username(email[:at])
	if err != nil {
		return "", err
	}
	domain, err := idna.Lookup.ToUnicode(email[at+1:])
	if err != nil || !strings.Contains(domain, ".") {
		return "", refused(email, "%q is not a domain name", email[at+1:])
	}
	out := local + "@" + domain
	if len(out) > MaxLength {
		return "", refused(email, "longer than %d octets", MaxLength)
	}
	return out, nil
}

func username(s string) (string, error) {
	if s == "" {
		return "", refused(s, "empty")
	}
	// A length check first: PRECIS costs more than reading the value.
	if len(s) > 4*MaxLength {
		return "", refused(s, "longer than %d octets", MaxLength)
	}
	out, err := precis.UsernameCaseMapped.String(s)
	if err != nil {
		return "", refused(s, "not a usable identifier (RFC 8265: %v)", err)
	}
	if len(out) > MaxLength {
		return "", refused(s, "longer than %d octets", MaxLength)
	}
	return out, nil
}

// Skeleton is what an identifier looks like: UTS #39's confusable
// skeleton, with a combining dot above after i or j dropped (İ case-maps
// to i + U+0307, which looks like i, and confusables.txt does not map
// it). Two identifiers with one skeleton can be told apart by no reader.
// The argument should be normalised first.
func Skeleton(s string) string {
	skeleton := norm.NFD.String(confusables.Skeleton(s))
	var b strings.Builder
	var previous rune
	for _, r := range skeleton {
		if r == '\u0307' && (previous == 'i' || previous == 'j' || previous == 'l') {
			continue
		}
		b.WriteRune(r)
		previous = r
	}
	return b.String()
}

// LookAlike reports whether two normalised identifiers differ but look the
// same. Pairs of plain ASCII identifiers are never look-alikes: "rn" and
// "m" share a skeleton, and real colleagues have such addresses; an
// impersonation needs a character from outside ASCII.
func LookAlike(a, b string) bool {
	if a == b || (isASCII(a) && isASCII(b)) {
		return false
	}
	return Skeleton(a) == Skeleton(b)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// Unusual lists the characters of s outside ASCII, each as U+XXXX and its
// Unicode name, for an admin comparing two identifiers that look alike.
func Unusual(s string) []string {
	var out []string
	seen := map[rune]bool{}
	for _, r := range s {
		if r < utf8.RuneSelf || seen[r] {
			continue
		}
		seen[r] = true
		out = append(out, fmt.Sprintf("U+%04X %s", r, runenames.Name(r)))
	}
	return out
}
