package users

// Claim names Azure AD (Entra ID) sends, all in one place. The tutorial adds
// the short names firstname, lastname, email and uid; when one of those is
// absent, the matching default claim is used instead (IdentityFrom).
const (
	ClaimGivenName    = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname"
	ClaimSurname      = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname"
	ClaimEmailAddress = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
	ClaimName         = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"
	ClaimObjectID     = "http://schemas.microsoft.com/identity/claims/objectidentifier"

	// ClaimAuthnMethods lists how the user authenticated; Azure puts
	// AzureMFAMethod in it when the user passed multi-factor
	// authentication.
	ClaimAuthnMethods = "http://schemas.microsoft.com/claims/authnmethodsreferences"
	AzureMFAMethod    = "http://schemas.microsoft.com/claims/multipleauthn"
)
