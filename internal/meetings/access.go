package meetings

import (
	"github.com/meetings-portal/portal/internal/identifier"
	"github.com/meetings-portal/portal/internal/users"
)

// Viewer is who asks: a signed-in user of a site, or a visitor who is not
// signed in (UserID 0), who may become a guest.
type Viewer struct {
	SiteID int64 // the site of the host the request came to
	UserID int64 // 0 when not signed in
	Email  string
	Name   string
	Role   string // users.User.Role: "host" or "attendee"
}

// ViewerOf is the viewer for a signed-in user.
func ViewerOf(u users.User) Viewer {
	return Viewer{SiteID: u.SiteID, UserID: u.ID, Email: addressKey(u.Email), Name: u.DisplayName(), Role: u.Role}
}

// Visitor is the viewer for someone not signed in on site siteID.
func Visitor(siteID int64) Viewer { return Viewer{SiteID: siteID} }

// SignedIn reports whether the viewer is a signed-in user.
func (v Viewer) SignedIn() bool { return v.UserID != 0 }

// Join says how a viewer gets into a meeting.
type Join int

const (
	// JoinRefused: not at all; Access.Refusal says why.
	JoinRefused Join = iota
	// JoinSignIn: through single sign-on, then back to the same link
	// (members-only meeting, visitor not signed in).
	JoinSignIn
	// JoinSignInOrGuest: through single sign-on, or as a guest who gives
	// a name and waits in the lobby until admitted.
	JoinSignInOrGuest
	// JoinDirect: straight in (a signed-in user of the site).
	JoinDirect
)

// Refusal reasons, for the page that explains them.
const (
	RefusedOtherSite = "other-site" // a link of another site
	RefusedCancelled = "cancelled"
)

// Access is everything a viewer may do with a meeting or a personal room.
// Handlers call MeetingAccess or RoomAccess and act on the answer; the
// lobby adds what depends on the live meeting (ended, locked, removed).
type Access struct {
	Summary bool   // topic, host, time, join link
	Details bool   // invitees and agenda: the host and the invitees
	Join    Join   // how they get in
	Refusal string // why Join is JoinRefused
	Control bool   // edit, cancel, start and end, admit and remove, lock
}

// MeetingAccess is the access rule for a scheduled meeting:
//   - nobody reaches a meeting of another site through this one;
//   - the host controls it and sees everything;
//   - invitees (matched by e-mail address, case-insensitively) see the
//     details: agenda and invitee list;
//   - any signed-in user of the site sees the summary and joins directly;
//   - a visitor joins through single sign-on, or, when the meeting lets
//     guests in, also as a guest through the lobby (and then sees the
//     summary);
//   - a cancelled meeting can be looked at by those who could, but not joined.
func MeetingAccess(m Meeting, v Viewer) Access {
	if m.SiteID != v.SiteID {
		return Access{Refusal: RefusedOtherSite}
	}
	a := target{hostUserID: m.HostUserID, guestsAllowed: m.GuestsAllowed}.access(v)
	a.Details = a.Control || (v.SignedIn() && m.IsInvited(v.Email))
	if m.Cancelled() {
		a.Join, a.Refusal = JoinRefused, RefusedCancelled
	}
	return a
}

// RoomAccess is the access rule for a personal room: its owner controls it,
// users of the site join directly, visitors through single sign-on or,
// when the owner lets guests in, through the lobby.
func RoomAccess(r Room, v Viewer) Access {
	if r.SiteID != v.SiteID {
		return Access{Refusal: RefusedOtherSite}
	}
	a := target{hostUserID: r.UserID, guestsAllowed: r.GuestsAllowed}.access(v)
	a.Details = a.Control
	return a
}

type target struct {
	hostUserID    int64
	guestsAllowed bool
}

func (t target) access(v Viewer) Access {
	switch {
	case v.SignedIn():
		return Access{Summary: true, Join: JoinDirect, Control: v.UserID == t.hostUserID}
	case t.guestsAllowed:
		return Access{Summary: true, Join: JoinSignInOrGuest}
	default:
		return Access{Join: JoinSignIn}
	}
}

// CanSchedule reports whether the site lets v schedule meetings: every
// user, or with "host-role" only users whose role is host (accounts
// created as attendees can join but not schedule).
func CanSchedule(s Settings, v Viewer) bool {
	if !v.SignedIn() {
		return false
	}
	return s.Hosts != HostsHostRole || v.Role == "host"
}

// addressKey is an e-mail address as invitees are stored and compared: in
// its RFC 8265 form (identifier.NormalizeEmail), or as given when it has
// none (it then matches no invitee, whose addresses all have one).
func addressKey(email string) string {
	if normal, err := identifier.NormalizeEmail(email); err == nil {
		return normal
	}
	return email
}
