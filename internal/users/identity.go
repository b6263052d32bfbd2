package users

import (
	"sort"
	"strings"
)

// Identity is who an identity provider says signed in, reduced to what an
// account needs.
type Identity struct {
	UID       string // the account key: lower-cased Webex UserID (an e-mail address)
	Email     string
	FirstName string
	LastName  string
	ObjectID  string // Azure's stable object ID, when sent
}

// IdentityFrom maps a NameID and SAML attributes to an Identity. The account
// key is the uid attribute, else Azure's emailaddress claim, else its name
// claim (the UPN), else the NameID.
func IdentityFrom(nameID string, attrs map[string][]string) Identity {
	first := func(names ...string) string {
		for _, n := range names {
			for _, v := range attrs[n] {
				if v = strings.TrimSpace(v); v != "" {
					return v
				}
			}
		}
		return ""
	}
	uid := first("uid", ClaimEmailAddress, ClaimName)
	if uid == "" {
		uid = strings.TrimSpace(nameID)
	}
	email := first("email", ClaimEmailAddress)
	return Identity{
		UID:       strings.ToLower(uid),
		Email:     email,
		FirstName: first("firstname", ClaimGivenName),
		LastName:  first("lastname", ClaimSurname),
		ObjectID:  strings.ToLower(first(ClaimObjectID)),
	}
}

// Missing lists the attributes a new account needs that the identity lacks,
// by the names an admin configures in Azure.
func (id Identity) Missing() []string {
	var missing []string
	if id.UID == "" {
		missing = append(missing, "uid")
	}
	if id.Email == "" {
		missing = append(missing, "email")
	}
	if id.FirstName == "" {
		missing = append(missing, "firstname")
	}
	if id.LastName == "" {
		missing = append(missing, "lastname")
	}
	sort.Strings(missing)
	return missing
}
