package users

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/meetings-portal/portal/internal/identifier"
)

// What a sign-in would do to the site's accounts (Outcome.Action).
const (
	WouldCreate = "create"
	WouldUpdate = "update"
	WouldMatch  = "match"
	WouldRefuse = "refuse"
)

// Outcome is what a sign-in with an identity would do, told without doing
// it: the Test SSO page's answer to "and then what?".
type Outcome struct {
	Action string // WouldCreate, WouldUpdate, WouldMatch or WouldRefuse
	// Reason says why, in words for the admin.
	Reason string
	// Account is the account the sign-in finds, if there is one.
	Account *User
	// Role is the role the account has or would have.
	Role string
	// Changes are what an update would change, as "E-mail: a → b".
	Changes []string
}

// Preview tells what SignInTx would do with id under p, reading only: the
// same decisions in the same order (find by uid, else refuse a look-alike,
// else create; a deactivated account or another object ID refuses), and
// nothing written, not even the look-alike skeletons SignInTx stores on
// its way.
func (s *Store) Preview(ctx context.Context, siteID int64, id Identity, p Policy) (Outcome, error) {
	if id.UID == "" {
		return Outcome{Action: WouldRefuse, Reason: "No claim gave a user ID (uid) and the response has no NameID, so no account can be found or made."}, nil
	}
	role := p.Role
	if role == "" {
		role = "host"
	}
	if id.Role == "" && id.RoleFromGroups {
		id.Role = role // in none of the site's groups: the default role, as SignInTx does
	}
	if id.Role != "" {
		role = id.Role
	}
	existing, err := collectOne(s.pool.Query(ctx, `SELECT `+userColumns+` FROM users WHERE site_id = $1 AND uid = $2`, siteID, id.UID))
	if errors.Is(err, pgx.ErrNoRows) {
		existing, err = s.previewLookAlike(ctx, siteID, id.UID)
	}
	var lookAlike *ConflictError
	switch {
	case errors.As(err, &lookAlike):
		return Outcome{Action: WouldRefuse, Account: &lookAlike.Account, Reason: fmt.Sprintf(
			"The user ID %s only looks like the existing account %s (characters that look the same): the sign-in is refused rather than giving someone else's look-alike account.",
			id.UID, lookAlike.Account.UID)}, nil
	case errors.Is(err, pgx.ErrNoRows):
		if !p.AutoCreate {
			return Outcome{Action: WouldRefuse, Reason: fmt.Sprintf(
				"No account has the user ID %s, and Auto Account Creation is off: add the user on the Users page, or turn Auto Account Creation on.", id.UID)}, nil
		}
		if missing := id.Missing(); len(missing) > 0 {
			return Outcome{Action: WouldRefuse, Reason: fmt.Sprintf(
				"A new account needs %s, which the response does not carry: add the claims in the identity provider (Azure: Attributes & Claims), or map other claims under Attributes and roles.",
				strings.Join(missing, ", "))}, nil
		}
		return Outcome{Action: WouldCreate, Role: role, Reason: fmt.Sprintf(
			"No account has the user ID %s yet: Auto Account Creation makes one, as %s.", id.UID, article(role))}, nil
	case err != nil:
		return Outcome{}, fmt.Errorf("preview the account of %s: %w", id.UID, err)
	}
	out := Outcome{Account: &existing, Role: existing.Role}
	switch {
	case !existing.Active:
		out.Action, out.Reason = WouldRefuse, "The account "+existing.UID+" is deactivated: reactivate it on the Users page to let its user in."
		return out, nil
	case existing.ObjectID != "" && id.ObjectID != "" && existing.ObjectID != id.ObjectID:
		out.Action, out.Reason = WouldRefuse, fmt.Sprintf(
			"The account %s belongs to another person in the identity provider (object ID %s, the response says %s): Re-link it on the Users page if this person is meant to have it.",
			existing.UID, existing.ObjectID, id.ObjectID)
		return out, nil
	}
	if p.AutoUpdate {
		for _, c := range []struct{ what, from, to string }{
			{"E-mail", existing.Email, id.Email}, {"First name", existing.FirstName, id.FirstName},
			{"Last name", existing.LastName, id.LastName}, {"Role", existing.Role, id.Role},
		} {
			if c.to != "" && c.to != c.from {
				out.Changes = append(out.Changes, c.what+": "+orEmpty(c.from)+" → "+c.to)
			}
		}
		if id.Role != "" {
			out.Role = id.Role
		}
	}
	switch {
	case len(out.Changes) > 0:
		out.Action, out.Reason = WouldUpdate, "The account "+existing.UID+" is found, and Auto Account Update brings it up to date with the response."
	case p.AutoUpdate:
		out.Action, out.Reason = WouldMatch, "The account "+existing.UID+" is found, and already says what the response says."
	default:
		out.Action, out.Reason = WouldMatch, "The account "+existing.UID+" is found. Auto Account Update is off, so it is kept as it is."
	}
	return out, nil
}

// previewLookAlike is sameOrLookAlike without writing: the account whose
// stored uid normalises to uid (found as it is), a *ConflictError for one
// that only looks like it, or pgx.ErrNoRows.
func (s *Store) previewLookAlike(ctx context.Context, siteID int64, uid string) (User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users WHERE site_id = $1 AND (uid_skeleton = $2 OR uid_skeleton IS NULL)`,
		siteID, identifier.Skeleton(uid))
	if err != nil {
		return User{}, err
	}
	candidates, err := pgx.CollectRows(rows, pgx.RowToStructByName[User])
	if err != nil {
		return User{}, err
	}
	for _, c := range candidates {
		stored := c.UID
		if normalised, err := identifier.Normalize(c.UID); err == nil {
			stored = normalised
		}
		switch {
		case stored == uid:
			return c, nil
		case identifier.LookAlike(stored, uid):
			return User{}, &ConflictError{Err: ErrLookAlike, Account: c}
		}
	}
	return User{}, pgx.ErrNoRows
}

func article(role string) string {
	if role == "attendee" {
		return "an attendee"
	}
	return "a host"
}

func orEmpty(s string) string {
	if s == "" {
		return "(empty)"
	}
	return s
}
