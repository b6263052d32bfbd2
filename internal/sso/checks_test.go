package sso

import "testing"

func TestEventChecksFollowTheReason(t *testing.T) {
	outcomes := func(cs []CheckResult) (passed, failed, notReached int, failedName string) {
		for _, c := range cs {
			switch c.Outcome {
			case CheckPassed:
				passed++
			case CheckFailed:
				failed++
				failedName = c.Name
			case CheckNotReached:
				notReached++
			}
		}
		return
	}
	for _, tc := range []struct {
		name                       string
		event                      Event
		passed, failed, notReached int
		failedName                 string
	}{
		{"signed in", Event{Flow: FlowSP, Result: ResultSuccess}, len(acsChecks), 0, 0, ""},
		{"test passed", Event{Flow: FlowSP, Result: ResultTest, Reason: ReasonTestPassed}, len(acsChecks), 0, 0, ""},
		{"audience", Event{Flow: FlowSP, Result: ResultRefused, Reason: ReasonAudienceMismatch}, 8, 1, len(acsChecks) - 9,
			"It is addressed to this site (Destination, Audience)"},
		{"no account", Event{Flow: FlowIdP, Result: ResultRefused, Reason: ReasonNoAccount}, len(acsChecks) - 1, 1, 0,
			"The account may sign in (exists or may be created, active, the same person)"},
		{"malformed", Event{Flow: FlowUnknown, Result: ResultRefused, Reason: ReasonMalformed}, 0, 1, len(acsChecks) - 1,
			"The response is present, small enough and well-formed XML (no DTD, no entities)"},
		{"unknown reason", Event{Flow: FlowSP, Result: ResultRefused, Reason: "retired-reason"}, 0, 1, 0,
			"Refused as retired-reason"},
	} {
		passed, failed, notReached, name := outcomes(tc.event.Checks())
		if passed != tc.passed || failed != tc.failed || notReached != tc.notReached || name != tc.failedName {
			t.Errorf("%s: %d passed, %d failed (%q), %d not reached; want %d, %d (%q), %d",
				tc.name, passed, failed, name, notReached, tc.passed, tc.failed, tc.failedName, tc.notReached)
		}
	}
	if cs := (Event{Flow: FlowLogoutIdP, Result: ResultSuccess}).Checks(); cs != nil {
		t.Errorf("a logout has checks %v", cs)
	}
}

// Every refusal reason the ACS records belongs to a check.
func TestEveryACSReasonHasACheck(t *testing.T) {
	known := map[string]bool{}
	for _, c := range acsChecks {
		for _, r := range c.reasons {
			known[r] = true
		}
	}
	for _, r := range []string{ReasonNotEnabled, ReasonMissingResponse, ReasonIdPStatus, ReasonSignatureInvalid, ReasonIdPCertExpired,
		ReasonIssuerMismatch, ReasonDestinationMismatch, ReasonAudienceMismatch, ReasonExpired, ReasonNotYetValid, ReasonMissingElement,
		ReasonMalformed, ReasonUnsolicited, ReasonUnknownRequest, ReasonRequestExpired, ReasonRequestUsed, ReasonRelayStateMismatch,
		ReasonReplayed, ReasonUnsupported, ReasonInvalid, ReasonMFARequired, ReasonNoAccount, ReasonDeactivated, ReasonIdentityChanged,
		ReasonMissingAttributes, ReasonLookAlike, ReasonClaimTooLarge, ReasonIdentifierRefused, ReasonBrowserMismatch,
		ReasonUndecryptable, ReasonUnauthenticatedCBC, ReasonNotEncrypted} {
		if !known[r] {
			t.Errorf("reason %q belongs to no check", r)
		}
	}
}
