package server

import "github.com/meetings-portal/portal/internal/web"

// inputRules bound the text every page reads, by input name, in one
// place: forms and queries are checked once, where they are decoded
// (web.Renderer.CheckInput), and what breaks a rule gets a 400 page instead
// of reaching a handler or PostgreSQL. The pages' inputs carry the same
// bounds as maxlength, so a person typing never meets them.
var inputRules = web.InputRules{
	// The longest text a page takes without a rule of its own: a
	// meeting's agenda (5,000 characters) or list of invitees.
	DefaultMax: 16 << 10,
	Fields: map[string]web.Field{
		// Sign-in and accounts.
		"email":    {Label: "E-mail address", Max: 254},
		"password": {Label: "Password", Max: 1024},
		// An admin changing their own password.
		"current_password": {Label: "Current password", Max: 1024},
		"new_password":     {Label: "New password", Max: 1024},
		"confirm_password": {Label: "New password again", Max: 1024},
		"username":         {Max: 254},
		// Users search; audit filters.
		"q":          {Label: "Search", Max: 254},
		"action":     {Label: "What", Max: 64},
		"admin":      {Label: "Who", Max: 254},
		"uid":        {Label: "uid", Max: 254},
		"first_name": {Label: "First name", Max: 200},
		"last_name":  {Label: "Last name", Max: 200},
		"role":       {Label: "Role", Max: 16},
		// Sign-in events filters.
		"user":      {Label: "User", Max: 512},
		"reference": {Label: "Reference", Max: 64},
		"result":    {Label: "Result", Max: 32},
		"page":      {Label: "Page", Max: 32},
		// SSO Configuration.
		"protocol":        {Label: "Federation Protocol", Max: 64},
		"profile":         {Label: "SSO Profile", Max: 64},
		"nameid_format":   {Label: "NameID Format", Max: 256},
		"authn_context":   {Label: "AuthnContextClassRef", Max: 4096},
		"mfa_contexts":    {Label: "MFA AuthnContextClassRef values", Max: 4096},
		"attr_uid":        {Label: "User ID (uid) claims", Max: 8192},
		"attr_email":      {Label: "E-mail claims", Max: 8192},
		"attr_first_name": {Label: "First name claims", Max: 8192},
		"attr_last_name":  {Label: "Last name claims", Max: 8192},
		"group_claim":     {Label: "Group claim", Max: 1024},
		"host_groups":     {Label: "Groups of hosts", Max: 16384},
		"attendee_groups": {Label: "Groups of attendees", Max: 16384},
		"section":         {Max: 32},
		"default_target":  {Label: "Default target page after sign-in", Max: 2048},
		"error_page_url":  {Label: "Customer SSO error page URL", Max: 2048},
		"metadata_url":    {Label: "Import from URL", Max: 2048},
		"entity_id":       {Label: "IdP entity ID", Max: 1024},
		"sso_url":         {Label: "SSO URL", Max: 2048},
		"slo_url":         {Label: "SLO URL", Max: 2048},
		"certificates":    {Label: "Signing certificates", Max: 256 << 10},
		// The version a form was built from (hidden fields): "opened" is
		// the page's settings URL-encoded, each bounded above.
		"revision": {Max: 20},
		"opened":   {Max: 256 << 10},
		"proposal": {Max: 64},
		"pending":  {Max: 64},
		"newest":   {Max: 20},
	},
	// The ACS and the Single Logout service read their input themselves: a
	// message they cannot read is a refusal they record and explain, and a
	// SAML message is far longer than any field.
	Exempt: []string{"POST /saml/acs", "GET /saml/slo", "POST /saml/slo"},
}
