package sso

// ClaimAuthnContext is the key under which an event's Claims keep the
// assertion's AuthnContextClassRef values.
const ClaimAuthnContext = "AuthnContextClassRef"

// claimsOf is what an assertion carried, for its event: its attributes and
// its authentication context.
func claimsOf(a *Assertion) map[string][]string {
	claims := make(map[string][]string, len(a.Attributes)+1)
	for name, values := range a.Attributes {
		claims[name] = values
	}
	if len(a.AuthnContext) > 0 {
		claims[ClaimAuthnContext] = a.AuthnContext
	}
	return claims
}

// check is one of the checks the ACS makes on a response, in the order
// Consume makes them, with the refusal reasons its failure is recorded as.
type check struct {
	name    string
	reasons []string
}

// acsChecks are the ACS's checks in order. Consume stops at the first that
// fails, so an event's reason says which failed, and that every check
// before it passed; keep this list in Consume's order.
var acsChecks = []check{
	{"The response is present, small enough and well-formed XML (no DTD, no entities)", []string{ReasonMissingResponse, ReasonMalformed, "response-too-large", ReasonUnsupported}},
	{"When it answers a sign-in request: this site sent it, to this browser, with the same RelayState",
		[]string{ReasonUnknownRequest, ReasonRequestExpired, ReasonRequestUsed, ReasonRelayStateMismatch, ReasonBrowserMismatch}},
	// Consume also refuses an unconfigured site before reading anything;
	// its detail says so.
	{"Single sign-on is configured and switched on for this site (or this is an admin's test)", []string{ReasonNotEnabled}},
	{"The identity provider reported success", []string{ReasonIdPStatus}},
	{"When it answers no request: IdP-initiated sign-in is allowed", []string{ReasonUnsolicited}},
	{"The assertion is encrypted to this site's key when that is required, and decrypts", []string{ReasonNotEncrypted, ReasonUndecryptable, ReasonUnauthenticatedCBC}},
	{"It is signed by the identity provider's certificate, which has not expired", []string{ReasonSignatureInvalid, ReasonIdPCertExpired}},
	{"It comes from the configured identity provider (Issuer)", []string{ReasonIssuerMismatch}},
	{"It is addressed to this site (Destination, Audience)", []string{ReasonDestinationMismatch, ReasonAudienceMismatch}},
	{"It is within its validity period, allowing for clock skew", []string{ReasonExpired, ReasonNotYetValid}},
	{"It was never used before (replay)", []string{ReasonReplayed}},
	{"It has every element needed, and its claims are within bounds", []string{ReasonMissingElement, ReasonInvalid, ReasonClaimTooLarge, ReasonIdentifierRefused}},
	{"Multi-factor sign-in is shown, when this site requires it", []string{ReasonMFARequired}},
	{"The account may sign in (exists or may be created, active, the same person)",
		[]string{ReasonNoAccount, ReasonDeactivated, ReasonIdentityChanged, ReasonMissingAttributes, ReasonLookAlike}},
}

// Check outcomes.
const (
	CheckPassed     = "passed"
	CheckFailed     = "failed"
	CheckNotReached = "not reached"
)

// CheckResult is one check of a sign-in and how it went.
type CheckResult struct {
	Name, Outcome string
	// Detail is the refusal's explanation, on the check that failed.
	Detail string
}

// Checks lists every check the ACS made on the event's response and its
// result: all passed for a sign-in (or a test that passed); for a refusal,
// those before the one that failed passed, and those after it were not
// reached. A Single Logout event has none. A reason no check knows (an
// event from an older version) is one failed check of its own, alone.
func (e Event) Checks() []CheckResult {
	if e.Flow == FlowLogoutSP || e.Flow == FlowLogoutIdP {
		return nil
	}
	failed := -1
	if e.Result == ResultRefused || (e.Result == ResultTest && e.Reason != ReasonTestPassed) {
		failed = len(acsChecks)
		for i, c := range acsChecks {
			for _, r := range c.reasons {
				if r == e.Reason {
					failed = i
				}
			}
		}
	}
	if failed == len(acsChecks) {
		// Which checks passed before it cannot be told.
		return []CheckResult{{Name: "Refused as " + e.Reason, Outcome: CheckFailed, Detail: e.Detail}}
	}
	out := make([]CheckResult, 0, len(acsChecks))
	for i, c := range acsChecks {
		switch {
		case failed < 0 || i < failed:
			out = append(out, CheckResult{Name: c.name, Outcome: CheckPassed})
		case i == failed:
			out = append(out, CheckResult{Name: c.name, Outcome: CheckFailed, Detail: e.Detail})
		default:
			out = append(out, CheckResult{Name: c.name, Outcome: CheckNotReached})
		}
	}
	return out
}
